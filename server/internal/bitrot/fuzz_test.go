package bitrot_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cairn-io/cairn/server/internal/bitrot"
)

// FuzzBitrotReader feeds arbitrary bytes to NewReader and Unframe as a framed
// shard. Neither may panic, and every byte they return must come from a frame
// whose hash verifies: the output must be whole verified frames, checked by
// re-framing it and comparing with the input.
func FuzzBitrotReader(f *testing.F) {
	good := bitrot.Frame(bitrot.XXH128, 8, []byte("hello, bitrot world"))
	f.Add(good, uint8(8), uint16(19), uint8(bitrot.XXH128))
	f.Add(good[:len(good)-1], uint8(8), uint16(19), uint8(bitrot.XXH128))
	f.Add(bitrot.Frame(bitrot.BLAKE3, 3, []byte("abcdefg")), uint8(3), uint16(7), uint8(bitrot.BLAKE3))
	f.Add(bitrot.Frame(bitrot.HighwayHash256, 5, []byte("abcdefg")), uint8(5), uint16(7), uint8(bitrot.HighwayHash256))
	f.Add([]byte{}, uint8(4), uint16(0), uint8(bitrot.XXH128))
	f.Add([]byte("garbage that is not a frame at all"), uint8(4), uint16(10), uint8(0))

	f.Fuzz(func(t *testing.T, framed []byte, bs uint8, size uint16, algID uint8) {
		alg := bitrot.Algorithm(algID)
		blockSize := int(bs)
		dataSize := int64(size)
		got, err := io.ReadAll(bitrot.NewReader(bytes.NewReader(framed), alg, blockSize, dataSize))
		if !alg.Valid() || blockSize <= 0 {
			if err == nil || len(got) != 0 {
				t.Fatalf("invalid params: %d bytes, %v", len(got), err)
			}
			return
		}
		if err == nil && int64(len(got)) != dataSize {
			t.Fatalf("nil error with %d of %d bytes", len(got), dataSize)
		}
		if err != nil && !errors.Is(err, bitrot.ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if err != nil && len(got)%blockSize != 0 {
			t.Fatalf("error after a partial block: %d bytes returned", len(got))
		}
		// Every returned byte was in a verified frame at the same place.
		reframed := bitrot.Frame(alg, blockSize, got)
		if !bytes.HasPrefix(framed, reframed) {
			t.Fatalf("returned %d bytes that are not verified frames of the input", len(got))
		}

		un, uerr := bitrot.Unframe(alg, blockSize, framed, dataSize)
		if uerr != nil && un != nil {
			t.Fatal("Unframe returned data with an error")
		}
		if uerr == nil {
			if err != nil || !bytes.Equal(un, got) {
				t.Fatalf("Unframe ok but reader: %d bytes, %v", len(got), err)
			}
			if !bytes.Equal(bitrot.Frame(alg, blockSize, un), framed) {
				t.Fatal("Unframe accepted input that is not the exact framing of its output")
			}
		}
	})
}
