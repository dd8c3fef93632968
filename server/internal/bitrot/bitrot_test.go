package bitrot_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cairn-io/cairn/server/internal/bitrot"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

var algs = []bitrot.Algorithm{bitrot.HighwayHash256, bitrot.XXH128, bitrot.BLAKE3}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// frameWith frames data through NewWriter, writing it in chunks of chunk
// bytes (the whole slice at once if chunk <= 0).
func frameWith(t testing.TB, alg bitrot.Algorithm, blockSize int, data []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := bitrot.NewWriter(&buf, alg, blockSize)
	if chunk <= 0 {
		chunk = max(len(data), 1)
	}
	for p := data; len(p) > 0; {
		c := min(chunk, len(p))
		n, err := w.Write(p[:c])
		if err != nil || n != c {
			t.Fatalf("Write(%d bytes) = %d, %v", c, n, err)
		}
		p = p[c:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestAlgorithm(t *testing.T) {
	if got := bitrot.DefaultAlgorithm.Size(); got != bitrot.HashSize {
		t.Fatalf("HashSize = %d, DefaultAlgorithm.Size() = %d", bitrot.HashSize, got)
	}
	wantSize := map[bitrot.Algorithm]int{bitrot.HighwayHash256: 32, bitrot.XXH128: 16, bitrot.BLAKE3: 32}
	for _, alg := range algs {
		if !alg.Valid() {
			t.Errorf("%v not Valid", alg)
		}
		if alg.Size() != wantSize[alg] || alg.New().Size() != wantSize[alg] {
			t.Errorf("%v: Size %d, New().Size %d, want %d", alg, alg.Size(), alg.New().Size(), wantSize[alg])
		}
		if alg.Size() > bitrot.MaxHashSize {
			t.Errorf("%v: Size %d > MaxHashSize", alg, alg.Size())
		}
		// The streaming hash.Hash and the frame hash must agree.
		data := randBytes(1, 3000)
		h := alg.New()
		h.Write(data[:1000])
		h.Write(data[1000:])
		framed := bitrot.Frame(alg, len(data), data)
		if !bytes.Equal(h.Sum(nil), framed[:alg.Size()]) {
			t.Errorf("%v: New() sum %x != frame hash %x", alg, h.Sum(nil), framed[:alg.Size()])
		}
		h.Reset()
		h.Write(data)
		if !bytes.Equal(h.Sum(nil), framed[:alg.Size()]) || h.BlockSize() <= 0 {
			t.Errorf("%v: sum after Reset differs", alg)
		}
	}
	for _, bad := range []bitrot.Algorithm{0, 4, 255} {
		if bad.Valid() {
			t.Errorf("Algorithm(%d).Valid() = true", bad)
		}
		if !strings.HasPrefix(bad.String(), "Algorithm(") {
			t.Errorf("Algorithm(%d).String() = %q", bad, bad.String())
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Algorithm(%d).Size() did not panic", bad)
				}
			}()
			bad.Size()
		}()
	}
}

// TestGolden pins the on-disk format: the frames of a fixed input for every
// algorithm. A change here means old shards can no longer be read.
func TestGolden(t *testing.T) {
	data := []byte(strings.Repeat("cairn bitrot golden frame data. ", 5)) // 160 bytes
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			got := fmt.Sprintf("%x\n", bitrot.Frame(alg, 64, data))
			path := filepath.Join("testdata", alg.String()+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Fatalf("frames changed:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	const bs = 64
	sizes := []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"one", 1},
		{"block-1", bs - 1},
		{"block", bs},
		{"block+1", bs + 1},
		{"3.5blocks", bs*3 + bs/2},
		{"10blocks", bs * 10},
		{"large", 100_003},
	}
	chunks := []struct {
		name string
		n    int
	}{{"whole", 0}, {"bytes7", 7}, {"perblock", bs}, {"block+3", bs + 3}}
	for _, alg := range algs {
		for _, sz := range sizes {
			for _, ch := range chunks {
				t.Run(fmt.Sprintf("%v/%s/%s", alg, sz.name, ch.name), func(t *testing.T) {
					data := randBytes(uint64(sz.n), sz.n)
					framed := frameWith(t, alg, bs, data, ch.n)
					if want := bitrot.FramedSize(alg, int64(sz.n), bs); int64(len(framed)) != want {
						t.Fatalf("framed %d bytes, FramedSize %d", len(framed), want)
					}
					if !bytes.Equal(framed, bitrot.Frame(alg, bs, data)) {
						t.Fatal("NewWriter and Frame disagree")
					}
					got, err := io.ReadAll(bitrot.NewReader(bytes.NewReader(framed), alg, bs, int64(sz.n)))
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("NewReader: %d bytes, %v; want %d bytes", len(got), err, len(data))
					}
					got, err = bitrot.Unframe(alg, bs, framed, int64(sz.n))
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("Unframe: %d bytes, %v; want %d bytes", len(got), err, len(data))
					}
					if err := bitrot.Verify(bytes.NewReader(framed), alg, bs, int64(sz.n)); err != nil {
						t.Fatalf("Verify: %v", err)
					}
				})
			}
		}
	}
}

// TestReaderAtFrameOffset starts reading at every block boundary.
func TestReaderAtFrameOffset(t *testing.T) {
	const bs = 100
	alg := bitrot.DefaultAlgorithm
	data := randBytes(2, 1234)
	framed := bitrot.Frame(alg, bs, data)
	for b := int64(0); b*bs <= int64(len(data)); b++ {
		off := bitrot.FrameOffset(alg, b, bs)
		r := bitrot.NewReader(bytes.NewReader(framed[off:]), alg, bs, int64(len(data))-b*bs)
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data[b*bs:]) {
			t.Fatalf("block %d: %d bytes, %v", b, len(got), err)
		}
	}
}

// TestWriterFramePerWrite checks that each frame reaches the underlying
// writer as one Write call.
func TestWriterFramePerWrite(t *testing.T) {
	const bs = 256
	alg := bitrot.DefaultAlgorithm
	var rec recordWriter
	w := bitrot.NewWriter(&rec, alg, bs)
	data := randBytes(3, 3*bs+10)
	for p := data; len(p) > 0; {
		c := min(bs, len(p))
		if _, err := w.Write(p[:c]); err != nil {
			t.Fatal(err)
		}
		p = p[c:]
	}
	if len(rec.sizes) != 3 {
		t.Fatalf("before Close: %d writes, want 3", len(rec.sizes))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []int{bs + alg.Size(), bs + alg.Size(), bs + alg.Size(), 10 + alg.Size()}
	if fmt.Sprint(rec.sizes) != fmt.Sprint(want) {
		t.Fatalf("write sizes %v, want %v", rec.sizes, want)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(rec.sizes) != 4 {
		t.Fatalf("second Close wrote again")
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, bitrot.ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
}

type recordWriter struct {
	bytes.Buffer
	sizes []int
}

func (r *recordWriter) Write(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	return r.Buffer.Write(p)
}

// failWriter accepts ok bytes, then fails (or writes short if short is set).
type failWriter struct {
	ok    int
	short bool
}

var errDisk = errors.New("disk on fire")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.ok {
		f.ok -= len(p)
		return len(p), nil
	}
	n := f.ok
	f.ok = 0
	if f.short {
		return n, nil
	}
	return n, errDisk
}

func TestWriterErrors(t *testing.T) {
	const bs = 10
	alg := bitrot.DefaultAlgorithm
	frame := bs + alg.Size()
	tests := []struct {
		name      string
		w         io.Writer
		alg       bitrot.Algorithm
		bs        int
		write     int
		wantN     int
		wantErr   error // errors.Is target on Write; nil means the Write succeeds
		closeErr  error
		wantFrame int
	}{
		{"fails on first frame", &failWriter{}, alg, bs, 25, 0, errDisk, errDisk, 0},
		{"fails on second frame", &failWriter{ok: frame}, alg, bs, 25, bs, errDisk, errDisk, 1},
		{"short write", &failWriter{ok: frame + 3, short: true}, alg, bs, 25, bs, io.ErrShortWrite, io.ErrShortWrite, 1},
		{"fails on close", &failWriter{ok: 2 * frame}, alg, bs, 25, 25, nil, errDisk, 2},
		{"invalid algorithm", io.Discard, 0, bs, 5, 0, errAny, errAny, 0},
		{"invalid block size", io.Discard, alg, 0, 5, 0, errAny, errAny, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := bitrot.NewWriter(tc.w, tc.alg, tc.bs)
			n, err := w.Write(make([]byte, tc.write))
			if n != tc.wantN || !matches(err, tc.wantErr) {
				t.Fatalf("Write = %d, %v; want %d, %v", n, err, tc.wantN, tc.wantErr)
			}
			if tc.wantErr != nil {
				// Sticky.
				if _, err2 := w.Write([]byte{1}); !matches(err2, tc.wantErr) {
					t.Fatalf("second Write: %v, want %v", err2, tc.wantErr)
				}
			}
			if err := w.Close(); !matches(err, tc.closeErr) {
				t.Fatalf("Close = %v, want %v", err, tc.closeErr)
			}
			if err := w.Close(); !matches(err, tc.closeErr) {
				t.Fatalf("second Close = %v, want %v", err, tc.closeErr)
			}
		})
	}
}

var errAny = errors.New("any error")

func matches(err, target error) bool {
	switch target {
	case nil:
		return err == nil
	case errAny:
		return err != nil
	}
	return errors.Is(err, target)
}

// TestReaderCorruption flips every byte of a framed shard in turn and checks
// that the reader returns the intact blocks before it, then ErrCorrupt naming
// the damaged block, and never a byte of the damaged block.
func TestReaderCorruption(t *testing.T) {
	const bs = 32
	for _, alg := range algs {
		data := randBytes(4, 3*bs+5)
		framed := bitrot.Frame(alg, bs, data)
		frame := int64(alg.Size() + bs)
		for i := range framed {
			bad := bytes.Clone(framed)
			bad[i] ^= 0x40
			block := int64(i) / frame
			got, err := io.ReadAll(bitrot.NewReader(bytes.NewReader(bad), alg, bs, int64(len(data))))
			var ce *bitrot.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, bitrot.ErrCorrupt) || ce.Block != block {
				t.Fatalf("%v: flip byte %d: err %v, want CorruptError block %d", alg, i, err, block)
			}
			if !bytes.Equal(got, data[:block*bs]) {
				t.Fatalf("%v: flip byte %d: returned %d bytes, want the %d bytes before block %d", alg, i, len(got), block*bs, block)
			}
			if _, err := bitrot.Unframe(alg, bs, bad, int64(len(data))); !errors.Is(err, bitrot.ErrCorrupt) {
				t.Fatalf("%v: Unframe after flip of byte %d: %v", alg, i, err)
			}
			if err := bitrot.Verify(bytes.NewReader(bad), alg, bs, int64(len(data))); !errors.Is(err, bitrot.ErrCorrupt) {
				t.Fatalf("%v: Verify after flip of byte %d: %v", alg, i, err)
			}
		}
	}
}

// TestReaderTruncated cuts a framed shard at every length.
func TestReaderTruncated(t *testing.T) {
	const bs = 16
	alg := bitrot.DefaultAlgorithm
	data := randBytes(5, 2*bs+3)
	framed := bitrot.Frame(alg, bs, data)
	frame := alg.Size() + bs
	for cut := 0; cut < len(framed); cut++ {
		got, err := io.ReadAll(bitrot.NewReader(bytes.NewReader(framed[:cut]), alg, bs, int64(len(data))))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: err %v, want io.ErrUnexpectedEOF", cut, err)
		}
		if whole := cut / frame * bs; !bytes.Equal(got, data[:whole]) {
			t.Fatalf("cut at %d: got %d bytes, want %d", cut, len(got), whole)
		}
		if _, err := bitrot.Unframe(alg, bs, framed[:cut], int64(len(data))); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Unframe cut at %d: %v", cut, err)
		}
	}
}

func TestReaderStopsAtDataSize(t *testing.T) {
	const bs = 16
	alg := bitrot.DefaultAlgorithm
	data := randBytes(6, 40)
	framed := bitrot.Frame(alg, bs, data)
	src := bytes.NewReader(append(bytes.Clone(framed), "trailing garbage"...))
	got, err := io.ReadAll(bitrot.NewReader(src, alg, bs, int64(len(data))))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if src.Len() != len("trailing garbage") {
		t.Fatalf("reader consumed %d bytes past the shard", len("trailing garbage")-src.Len())
	}
	// Unframe insists on the exact framing.
	if _, err := bitrot.Unframe(alg, bs, append(bytes.Clone(framed), 0), int64(len(data))); !errors.Is(err, bitrot.ErrCorrupt) {
		t.Fatalf("Unframe with a trailing byte: %v, want ErrCorrupt", err)
	}
}

func TestReaderErrors(t *testing.T) {
	alg := bitrot.DefaultAlgorithm
	tests := []struct {
		name string
		r    io.Reader
		alg  bitrot.Algorithm
		bs   int
		size int64
		want error
	}{
		{"underlying error", iotest.ErrReader(errDisk), alg, 16, 10, errDisk},
		{"timeout mid-stream", iotest.TimeoutReader(bytes.NewReader(bitrot.Frame(alg, 4, []byte("abcdefgh")))), alg, 4, 8, iotest.ErrTimeout},
		{"empty source", bytes.NewReader(nil), alg, 16, 10, io.ErrUnexpectedEOF},
		{"invalid algorithm", bytes.NewReader(nil), 9, 16, 10, errAny},
		{"invalid block size", bytes.NewReader(nil), alg, -1, 10, errAny},
		{"negative size", bytes.NewReader(nil), alg, 16, -1, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bitrot.NewReader(tc.r, tc.alg, tc.bs, tc.size)
			_, err := io.ReadAll(r)
			if err == nil || !matches(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if _, err2 := r.Read(make([]byte, 1)); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
		})
	}
	if _, err := bitrot.Unframe(0, 16, nil, 0); err == nil {
		t.Fatal("Unframe with invalid algorithm succeeded")
	}
	if _, err := bitrot.Unframe(alg, 16, nil, -1); err == nil {
		t.Fatal("Unframe with negative size succeeded")
	}
}

func TestEmptyShard(t *testing.T) {
	alg := bitrot.DefaultAlgorithm
	if got := frameWith(t, alg, 16, nil, 0); len(got) != 0 {
		t.Fatalf("empty stream framed to %d bytes", len(got))
	}
	if bitrot.FramedSize(alg, 0, 16) != 0 {
		t.Fatal("FramedSize(0) != 0")
	}
	n, err := bitrot.NewReader(iotest.ErrReader(errDisk), alg, 16, 0).Read(make([]byte, 8))
	if n != 0 || err != io.EOF {
		t.Fatalf("empty shard Read = %d, %v; want 0, EOF without touching the source", n, err)
	}
}

// TestReaderIOTest runs the reader over the testing/iotest source readers
// and through iotest.TestReader.
func TestReaderIOTest(t *testing.T) {
	const bs = 50
	alg := bitrot.DefaultAlgorithm
	data := randBytes(7, 1000)
	framed := bitrot.Frame(alg, bs, data)
	sources := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"plain", func(r io.Reader) io.Reader { return r }},
		{"OneByteReader", iotest.OneByteReader},
		{"HalfReader", iotest.HalfReader},
		{"DataErrReader", iotest.DataErrReader},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			r := bitrot.NewReader(src.wrap(bytes.NewReader(framed)), alg, bs, int64(len(data)))
			if err := iotest.TestReader(r, data); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(src.name+"/output-OneByteReader", func(t *testing.T) {
			r := bitrot.NewReader(src.wrap(bytes.NewReader(framed)), alg, bs, int64(len(data)))
			got, err := io.ReadAll(iotest.OneByteReader(r))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("got %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestFramePanicsOnInvalidParams(t *testing.T) {
	for _, tc := range []struct {
		alg bitrot.Algorithm
		bs  int
	}{{0, 16}, {bitrot.XXH128, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Frame(%v, %d) did not panic", tc.alg, tc.bs)
				}
			}()
			bitrot.Frame(tc.alg, tc.bs, []byte("x"))
		}()
	}
}

// TestKnownAnswers checks the hashes against published empty-input vectors,
// so the library choice, not just our own golden file, is pinned.
func TestKnownAnswers(t *testing.T) {
	for alg, want := range map[bitrot.Algorithm]string{
		bitrot.XXH128: "99aa06d3014798d86001c324468d497f",
		bitrot.BLAKE3: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
	} {
		if got := fmt.Sprintf("%x", alg.New().Sum(nil)); got != want {
			t.Errorf("%v(\"\") = %s, want %s", alg, got, want)
		}
	}
}

// TestReaderWholeFrameReads: Reads with room for a whole frame (how the
// erasure layer reads, one shard block at a time) get the frame read straight
// into their buffer; a bad frame gives n = 0 and the error, never its bytes.
func TestReaderWholeFrameReads(t *testing.T) {
	const bs = 1000
	alg := bitrot.DefaultAlgorithm
	data := randBytes(9, 3*bs+10)
	framed := bitrot.Frame(alg, bs, data)
	bad := bytes.Clone(framed)
	bad[2*(alg.Size()+bs)+alg.Size()+7] ^= 1 // data of frame 2
	for name, c := range map[string]struct {
		src   []byte
		reads []int // buffer size of each Read
		want  []int // n of each Read
		err   error // of the last Read
	}{
		"exact":          {framed, []int{bs, bs, bs, bs}, []int{bs, bs, bs, 10}, nil},
		"larger":         {framed, []int{2 * bs, 5 * bs, bs, 10, 1}, []int{bs, bs, bs, 10, 0}, io.EOF},
		"small then big": {framed, []int{10, bs, bs}, []int{10, bs - 10, bs}, nil},
		"corrupt":        {bad, []int{bs, bs, bs, bs}, []int{bs, bs, 0, 0}, bitrot.ErrCorrupt},
		"truncated":      {framed[:len(framed)-5], []int{bs, bs, bs, bs}, []int{bs, bs, bs, 0}, io.ErrUnexpectedEOF},
	} {
		r := bitrot.NewReader(bytes.NewReader(c.src), alg, bs, int64(len(data)))
		off := 0
		var err error
		for i, size := range c.reads {
			p := make([]byte, size)
			var n int
			n, err = r.Read(p)
			if n != c.want[i] {
				t.Fatalf("%s: read %d: n = %d, want %d (%v)", name, i, n, c.want[i], err)
			}
			if !bytes.Equal(p[:n], data[off:off+n]) {
				t.Fatalf("%s: read %d: wrong bytes", name, i)
			}
			off += n
		}
		if (c.err == nil && err != nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Fatalf("%s: last error %v, want %v", name, err, c.err)
		}
	}
}
