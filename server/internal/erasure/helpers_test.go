package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
)

const alg = bitrot.DefaultAlgorithm

func randBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func mustNew(t testing.TB, k, m, bs int) *erasure.Erasure {
	t.Helper()
	e, err := erasure.New(k, m, bs)
	if err != nil {
		t.Fatalf("New(%d, %d, %d): %v", k, m, bs, err)
	}
	return e
}

// store is an in-memory erasure set: one bitrot-framed shard file per drive,
// built by Encode through real bitrot writers and read back through real
// bitrot readers, so corruption tests exercise the whole stack.
type store struct {
	e     *erasure.Erasure
	size  int64
	files [][]byte // framed shard files; nil = drive offline (opener returns nil, nil)
	// openErr[i], if set, is returned by the opener for shard i.
	openErr []error

	mu     sync.Mutex
	opens  []openCall
	active int // readers opened and not yet closed
}

type openCall struct {
	shard int
	block int64
}

// encodeStore encodes data with e into a fresh store, failing the test on
// any error.
func encodeStore(t testing.TB, e *erasure.Erasure, data []byte) *store {
	t.Helper()
	n := e.DataShards() + e.ParityShards()
	bufs := make([]bytes.Buffer, n)
	bws := make([]io.WriteCloser, n)
	ws := make([]io.Writer, n)
	for i := range bufs {
		bws[i] = bitrot.NewWriter(&bufs[i], alg, e.ShardBlockSize())
		ws[i] = bws[i]
	}
	res, err := e.EncodeWithResult(context.Background(), bytes.NewReader(data), ws, n)
	if err != nil || res.N != int64(len(data)) || len(res.Failed) != 0 {
		t.Fatalf("Encode: %+v, %v", res, err)
	}
	s := &store{e: e, size: int64(len(data)), files: make([][]byte, n), openErr: make([]error, n)}
	want := bitrot.FramedSize(alg, e.ShardSize(int64(len(data))), e.ShardBlockSize())
	for i := range bufs {
		if err := bws[i].Close(); err != nil {
			t.Fatal(err)
		}
		s.files[i] = bufs[i].Bytes()
		if int64(len(s.files[i])) != want {
			t.Fatalf("shard %d: %d bytes on disk, want FramedSize(ShardSize) = %d", i, len(s.files[i]), want)
		}
	}
	return s
}

// clone returns a copy of s with its own shard files and no history.
func (s *store) clone() *store {
	c := &store{e: s.e, size: s.size, files: make([][]byte, len(s.files)), openErr: make([]error, len(s.files))}
	for i, f := range s.files {
		c.files[i] = bytes.Clone(f)
	}
	return c
}

func (s *store) open(shard int, firstBlock int64) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens = append(s.opens, openCall{shard, firstBlock})
	if err := s.openErr[shard]; err != nil {
		return nil, err
	}
	f := s.files[shard]
	if f == nil {
		return nil, nil
	}
	sbs := s.e.ShardBlockSize()
	off := min(bitrot.FrameOffset(alg, firstBlock, sbs), int64(len(f)))
	s.active++
	r := bitrot.NewReader(bytes.NewReader(f[off:]), alg, sbs, s.e.ShardSizeFrom(s.size, firstBlock))
	return &trackedReader{Reader: r, s: s}, nil
}

type trackedReader struct {
	io.Reader
	s      *store
	closed bool
}

func (r *trackedReader) Close() error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.closed {
		panic("reader closed twice")
	}
	r.closed = true
	r.s.active--
	return nil
}

// decode runs Decode on s and checks that every reader was closed.
func (s *store) decode(t testing.TB, offset, length int64) ([]byte, erasure.DecodeResult, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := s.e.Decode(context.Background(), &out, s.open, s.size, offset, length)
	if s.active != 0 {
		t.Fatalf("Decode left %d readers open", s.active)
	}
	return out.Bytes(), res, err
}

// corrupt flips one byte in the data of frame block of shard i.
func (s *store) corrupt(i int, block int64) {
	sbs := s.e.ShardBlockSize()
	off := bitrot.FrameOffset(alg, block, sbs) + int64(alg.Size())
	s.files[i][off] ^= 0x5a
}

func layoutName(k, m int) string { return fmt.Sprintf("%d+%d", k, m) }

// subsets returns every subset of {0..n-1} with exactly size elements if
// there are at most limit of them, else limit random ones.
func subsets(n, size, limit int, rng *rand.Rand) [][]int {
	var all [][]int
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(all) > limit {
			return
		}
		if len(cur) == size {
			all = append(all, append([]int(nil), cur...))
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
	if len(all) <= limit {
		return all
	}
	out := make([][]int, limit)
	for j := range out {
		out[j] = rng.Perm(n)[:size]
	}
	return out
}

// errWriter fails every Write after the first ok calls.
type errWriter struct {
	ok    int
	short bool
	calls int
}

var errDrive = errors.New("drive failed")

func (w *errWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls <= w.ok {
		return len(p), nil
	}
	if w.short {
		return len(p) / 2, nil
	}
	return 0, errDrive
}
