package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/cairn-io/cairn/server/internal/erasure"
)

// FuzzErasureRoundTrip encodes random data with a small random layout, loses
// a random set of shards and decodes a random range. With at most m shards
// lost the range must come back exactly; with more, Decode must fail with
// ErrReadQuorum having written only a correct prefix.
func FuzzErasureRoundTrip(f *testing.F) {
	f.Add([]byte("hello, erasure"), uint8(4), uint8(2), uint8(5), uint16(0b100001), uint16(3), uint16(9))
	f.Add([]byte("x"), uint8(1), uint8(0), uint8(1), uint16(0), uint16(0), uint16(1))
	f.Add(bytes.Repeat([]byte{1, 2, 3}, 100), uint8(3), uint8(3), uint8(16), uint16(0b111), uint16(17), uint16(200))
	f.Add([]byte{}, uint8(2), uint8(1), uint8(4), uint16(1), uint16(0), uint16(0))

	f.Fuzz(func(t *testing.T, data []byte, k, m, bs uint8, lostMask, off, length uint16) {
		kk, mm, bb := int(k%8)+1, int(m%5), int(bs)+1
		e, err := erasure.New(kk, mm, bb)
		if err != nil {
			t.Fatal(err)
		}
		s := encodeStore(t, e, data)
		n := kk + mm
		lost := 0
		for i := range n {
			if lostMask&(1<<i) != 0 {
				lost++
				if i%2 == 0 {
					s.files[i] = nil
				} else if len(s.files[i]) > 0 {
					s.files[i][int(off)%len(s.files[i])] ^= 0xff
				}
			}
		}
		size := int64(len(data))
		o := min(int64(off), size)
		l := min(int64(length), size-o)
		got, _, err := s.decode(t, o, l)
		want := data[o : o+l]
		switch {
		case lost <= mm:
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d+%d bs %d lost %b: %d bytes, %v", kk, mm, bb, lostMask, len(got), err)
			}
		case err != nil:
			if !errors.Is(err, erasure.ErrReadQuorum) {
				t.Fatalf("err %v, want ErrReadQuorum", err)
			}
			if !bytes.HasPrefix(want, got) {
				t.Fatal("wrong bytes written before the error")
			}
		default:
			// Corrupted bytes may lie outside the blocks read.
			if !bytes.Equal(got, want) {
				t.Fatal("decode succeeded with wrong bytes")
			}
		}
		if _, err := e.Encode(context.Background(), bytes.NewReader(data), make([]io.Writer, n), kk); !errors.Is(err, erasure.ErrWriteQuorum) {
			t.Fatalf("all writers offline: %v", err)
		}
	})
}
