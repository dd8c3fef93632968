package erasure_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/cairn-io/cairn/server/internal/bitrot"
	"github.com/cairn-io/cairn/server/internal/erasure"
)

var layouts = []struct{ k, m int }{
	{1, 0}, {1, 1}, {2, 1}, {4, 2}, {6, 2}, {12, 4}, {8, 8},
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		k, m, b int
		ok      bool
	}{
		{"single drive", 1, 0, 1 << 20, true},
		{"4+2", 4, 2, 1 << 20, true},
		{"max shards", 200, 56, 1 << 20, true},
		{"block smaller than k", 8, 4, 3, true},
		{"zero data shards", 0, 2, 1 << 20, false},
		{"negative parity", 4, -1, 1 << 20, false},
		{"too many shards", 200, 57, 1 << 20, false},
		{"zero block size", 4, 2, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := erasure.New(tc.k, tc.m, tc.b)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%d, %d, %d) error = %v, want ok=%v", tc.k, tc.m, tc.b, err, tc.ok)
			}
			if tc.ok && (e.DataShards() != tc.k || e.ParityShards() != tc.m || e.BlockSize() != tc.b) {
				t.Fatalf("accessors: %d %d %d", e.DataShards(), e.ParityShards(), e.BlockSize())
			}
		})
	}
}

func TestShardSize(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		k, bs      int
		size       int64
		shardBlock int
		want       int64
	}{
		{"empty", 4, mib, 0, mib / 4, 0},
		{"one byte", 4, mib, 1, mib / 4, 1},
		{"k-1 bytes", 4, mib, 3, mib / 4, 1},
		{"k+1 bytes", 4, mib, 5, mib / 4, 2},
		{"one block", 4, mib, mib, mib / 4, mib / 4},
		{"block+1", 4, mib, mib + 1, mib / 4, mib/4 + 1},
		{"3.5 blocks", 4, mib, 3*mib + mib/2, mib / 4, 3*mib/4 + mib/8},
		{"uneven block", 3, 1000, 2500, 334, 334*2 + 167},
		{"single drive", 1, mib, 10*mib + 7, mib, 10*mib + 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.k, 1, tc.bs)
			if got := e.ShardBlockSize(); got != tc.shardBlock {
				t.Errorf("ShardBlockSize = %d, want %d", got, tc.shardBlock)
			}
			if got := e.ShardSize(tc.size); got != tc.want {
				t.Errorf("ShardSize(%d) = %d, want %d", tc.size, got, tc.want)
			}
			if got := e.ShardSizeFrom(tc.size, 1); got != max(0, tc.want-int64(tc.shardBlock)) {
				t.Errorf("ShardSizeFrom(%d, 1) = %d", tc.size, got)
			}
		})
	}
}

// TestRoundTrip encodes every size in every layout through real bitrot
// framing and decodes the whole object and a set of ranges.
func TestRoundTrip(t *testing.T) {
	const bs = 1<<16 + 3 // odd, so shard blocks are padded
	for _, l := range layouts {
		e := mustNew(t, l.k, l.m, bs)
		sizes := []struct {
			name string
			n    int64
		}{
			{"empty", 0},
			{"one", 1},
			{"k-1", int64(l.k - 1)},
			{"block-1", bs - 1},
			{"block", bs},
			{"block+1", bs + 1},
			{"3.5blocks", 3*bs + bs/2},
			{"10MiB", 10 << 20},
		}
		for _, sz := range sizes {
			t.Run(layoutName(l.k, l.m)+"/"+sz.name, func(t *testing.T) {
				if sz.n == 10<<20 && testing.Short() {
					t.Skip("large object in -short mode")
				}
				data := randBytes(uint64(sz.n), int(sz.n))
				s := encodeStore(t, e, data)
				for _, r := range ranges(sz.n, bs) {
					got, res, err := s.decode(t, r.off, r.len)
					if err != nil || len(res.Failed) != 0 {
						t.Fatalf("Decode %s [%d,+%d): %+v, %v", r.name, r.off, r.len, res, err)
					}
					if !bytes.Equal(got, data[r.off:r.off+r.len]) {
						t.Fatalf("Decode %s [%d,+%d): wrong bytes (%d returned)", r.name, r.off, r.len, len(got))
					}
				}
			})
		}
	}
}

type byteRange struct {
	name     string
	off, len int64
}

// ranges returns named ranges of an object of size bytes with block size bs,
// keeping only those inside the object.
func ranges(size, bs int64) []byteRange {
	all := []byteRange{
		{"whole", 0, size},
		{"empty", 0, 0},
		{"empty-at-end", size, 0},
		{"first-byte", 0, 1},
		{"last-byte", size - 1, 1},
		{"unaligned-spanning-block", bs - 7, 20},
		{"unaligned-multi-block", bs/2 + 1, 2*bs + 13},
		{"second-block", bs, bs},
		{"tail-from-mid-block", size - bs - bs/3, bs + bs/3},
		{"middle", size / 3, size / 3},
	}
	var out []byteRange
	for _, r := range all {
		if r.off >= 0 && r.len >= 0 && r.off+r.len <= size {
			out = append(out, r)
		}
	}
	return out
}

// lossMode damages the shards in a lost set in one way.
type lossMode struct {
	name    string
	corrupt bool // lost shards must be reported in Corrupt as well
	apply   func(s *store, shard int, rng *rand.Rand)
}

var lossModes = []lossMode{
	{"offline", false, func(s *store, i int, _ *rand.Rand) { s.files[i] = nil }},
	{"open-error", false, func(s *store, i int, _ *rand.Rand) { s.openErr[i] = errDrive }},
	{"truncated", false, func(s *store, i int, rng *rand.Rand) {
		s.files[i] = s.files[i][:rng.IntN(len(s.files[i]))]
	}},
	{"corrupt", true, func(s *store, i int, rng *rand.Rand) {
		blocks := (s.size + int64(s.e.BlockSize()) - 1) / int64(s.e.BlockSize())
		s.corrupt(i, rng.Int64N(blocks))
	}},
}

// quorumModes damage a shard from its first block on, so that a Decode of
// any range that needs the shard sees the damage. (lossModes may damage a
// block that a parity shard opened later never reads; Decode then rightly
// succeeds.)
var quorumModes = []lossMode{
	lossModes[0],
	lossModes[1],
	{"truncated", false, func(s *store, i int, rng *rand.Rand) {
		s.files[i] = s.files[i][:rng.IntN(int(bitrot.FrameOffset(alg, 1, s.e.ShardBlockSize())))]
	}},
	{"corrupt-every-block", true, func(s *store, i int, _ *rand.Rand) {
		for b := range (s.size + int64(s.e.BlockSize()) - 1) / int64(s.e.BlockSize()) {
			s.corrupt(i, b)
		}
	}},
}

// TestDecodeWithLoss loses every combination (sampled for large sets) of up
// to m shards in each loss mode, and checks the data comes back intact and
// the damaged shards that Decode touched are reported.
func TestDecodeWithLoss(t *testing.T) {
	const bs = 4096 + 1
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range layouts {
		if l.m == 0 {
			continue
		}
		e := mustNew(t, l.k, l.m, bs)
		data := randBytes(9, 3*bs+bs/2)
		base := encodeStore(t, e, data)
		for _, mode := range lossModes {
			t.Run(layoutName(l.k, l.m)+"/"+mode.name, func(t *testing.T) {
				for lost := 1; lost <= l.m; lost++ {
					for _, set := range subsets(l.k+l.m, lost, 60, rng) {
						s := base.clone()
						for _, i := range set {
							mode.apply(s, i, rng)
						}
						got, res, err := s.decode(t, 0, s.size)
						if err != nil || !bytes.Equal(got, data) {
							t.Fatalf("lost %v: %d bytes, %v", set, len(got), err)
						}
						checkReported(t, l.k, set, res, mode.corrupt)

						r := byteRange{"unaligned", bs - 5, bs + 11}
						got, _, err = s.decode(t, r.off, r.len)
						if err != nil || !bytes.Equal(got, data[r.off:r.off+r.len]) {
							t.Fatalf("lost %v: range: %d bytes, %v", set, len(got), err)
						}
					}
				}
			})
		}
	}
}

// checkReported checks that res.Failed holds only lost shards and every lost
// data shard, and that Corrupt is Failed when the loss was corruption.
func checkReported(t *testing.T, k int, lost []int, res erasure.DecodeResult, corrupt bool) {
	t.Helper()
	for _, i := range res.Failed {
		if !slices.Contains(lost, i) {
			t.Fatalf("lost %v: healthy shard %d reported failed (%v)", lost, i, res.Errs)
		}
	}
	for _, i := range lost {
		if i < k && !slices.Contains(res.Failed, i) {
			t.Fatalf("lost %v: data shard %d not reported (%v)", lost, i, res.Failed)
		}
	}
	if len(res.Errs) != len(res.Failed) {
		t.Fatalf("%d errors for %d failed shards", len(res.Errs), len(res.Failed))
	}
	for j, err := range res.Errs {
		var se *erasure.ShardError
		if !errors.As(err, &se) || se.Shard != res.Failed[j] {
			t.Fatalf("Errs[%d] = %v, want *ShardError for shard %d", j, err, res.Failed[j])
		}
	}
	wantCorrupt := []int(nil)
	if corrupt {
		wantCorrupt = res.Failed
	}
	if !slices.Equal(res.Corrupt, wantCorrupt) {
		t.Fatalf("Corrupt = %v, want %v", res.Corrupt, wantCorrupt)
	}
}

// TestDecodeReadQuorum loses m+1 shards and checks Decode fails with
// ErrReadQuorum without writing a single wrong byte.
func TestDecodeReadQuorum(t *testing.T) {
	const bs = 4096 + 1
	rng := rand.New(rand.NewPCG(3, 4))
	for _, l := range layouts {
		e := mustNew(t, l.k, l.m, bs)
		data := randBytes(10, 5*bs+3)
		base := encodeStore(t, e, data)
		for _, mode := range quorumModes {
			t.Run(layoutName(l.k, l.m)+"/"+mode.name, func(t *testing.T) {
				for _, set := range subsets(l.k+l.m, l.m+1, 20, rng) {
					s := base.clone()
					for _, i := range set {
						mode.apply(s, i, rng)
					}
					for _, r := range []byteRange{{"whole", 0, s.size}, {"tail", bs + 100, 3 * bs}} {
						got, res, err := s.decode(t, r.off, r.len)
						if !errors.Is(err, erasure.ErrReadQuorum) {
							t.Fatalf("lost %v %s: err %v, want ErrReadQuorum", set, r.name, err)
						}
						if !bytes.HasPrefix(data[r.off:r.off+r.len], got) {
							t.Fatalf("lost %v %s: wrote %d bytes that are not a prefix of the range", set, r.name, len(got))
						}
						if len(got)%bs != 0 && r.off == 0 {
							t.Fatalf("lost %v: partial block written (%d bytes)", set, len(got))
						}
						if len(res.Failed) < l.m+1 {
							t.Fatalf("lost %v: only %v reported", set, res.Failed)
						}
					}
				}
			})
		}
	}
}

// TestDecodeMidStreamFailure corrupts m+1 shards from block 2 on: Decode
// must write blocks 0 and 1 exactly, then stop.
func TestDecodeMidStreamFailure(t *testing.T) {
	const bs = 1000
	e := mustNew(t, 4, 2, bs)
	data := randBytes(11, 5*bs)
	s := encodeStore(t, e, data)
	for _, i := range []int{0, 2, 5} {
		s.corrupt(i, 2)
	}
	got, res, err := s.decode(t, 0, s.size)
	if !errors.Is(err, erasure.ErrReadQuorum) || !errors.Is(err, bitrot.ErrCorrupt) {
		t.Fatalf("err %v, want ErrReadQuorum wrapping bitrot.ErrCorrupt", err)
	}
	if !bytes.Equal(got, data[:2*bs]) {
		t.Fatalf("wrote %d bytes, want exactly the %d bytes of blocks 0-1", len(got), 2*bs)
	}
	if !slices.Equal(res.Corrupt, []int{0, 2, 5}) {
		t.Fatalf("Corrupt = %v", res.Corrupt)
	}
	var se *erasure.ShardError
	if !errors.As(err, &se) || se.Block != 2 {
		t.Fatalf("ShardError %+v, want block 2", se)
	}
}

// TestDecodeSwitchesMidStream checks that a data shard failing at block 2
// is replaced by a parity shard opened at block 2, and that readers are
// opened lazily and only for the blocks needed.
func TestDecodeSwitchesMidStream(t *testing.T) {
	const bs = 1000
	e := mustNew(t, 4, 2, bs)
	data := randBytes(12, 6*bs)
	s := encodeStore(t, e, data)
	s.corrupt(1, 2)
	got, res, err := s.decode(t, 0, s.size)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	want := []openCall{{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 2}}
	if !slices.Equal(sortedOpens(s), want) {
		t.Fatalf("opens %v, want %v", s.opens, want)
	}
	if !slices.Equal(res.Corrupt, []int{1}) {
		t.Fatalf("Corrupt = %v", res.Corrupt)
	}

	// A range inside block 3 opens the data shards at block 3 only.
	s = encodeStore(t, e, data)
	if got, _, err := s.decode(t, 3*bs+10, 20); err != nil || !bytes.Equal(got, data[3*bs+10:3*bs+30]) {
		t.Fatalf("range: %v", err)
	}
	if want := []openCall{{0, 3}, {1, 3}, {2, 3}, {3, 3}}; !slices.Equal(sortedOpens(s), want) {
		t.Fatalf("opens %v, want %v", s.opens, want)
	}
}

// sortedOpens returns the opener calls ordered by block, then shard: shards
// of one block are opened concurrently, in no fixed order.
func sortedOpens(s *store) []openCall {
	return slices.SortedFunc(slices.Values(s.opens), func(a, b openCall) int {
		if a.block != b.block {
			return int(a.block - b.block)
		}
		return a.shard - b.shard
	})
}

func TestDecodeArgs(t *testing.T) {
	e := mustNew(t, 2, 1, 100)
	s := encodeStore(t, e, randBytes(1, 250))
	for _, r := range []byteRange{{"negative offset", -1, 1}, {"negative length", 0, -1}, {"past end", 200, 51}, {"offset past end", 251, 0}} {
		if _, _, err := s.decode(t, r.off, r.len); err == nil {
			t.Errorf("%s: no error", r.name)
		}
	}
	if len(s.opens) != 0 {
		t.Fatalf("invalid ranges opened shards: %v", s.opens)
	}
}

func TestDecodeDstError(t *testing.T) {
	e := mustNew(t, 2, 1, 100)
	s := encodeStore(t, e, randBytes(1, 250))
	_, err := e.Decode(context.Background(), &errWriter{ok: 1}, s.open, s.size, 0, s.size)
	if !errors.Is(err, errDrive) {
		t.Fatalf("err %v, want the destination's error", err)
	}
	if s.active != 0 {
		t.Fatalf("%d readers left open", s.active)
	}
	_, err = e.Decode(context.Background(), &errWriter{short: true}, s.open, s.size, 0, s.size)
	if !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write: %v", err)
	}
}

func TestEncodeArgs(t *testing.T) {
	e := mustNew(t, 2, 1, 100)
	ctx := context.Background()
	ws := []io.Writer{io.Discard, io.Discard, io.Discard}
	for _, tc := range []struct {
		name   string
		ws     []io.Writer
		quorum int
	}{
		{"too few writers", ws[:2], 2},
		{"too many writers", append(ws, io.Discard), 2},
		{"quorum below k", ws, 1},
		{"quorum above n", ws, 4},
	} {
		if _, err := e.Encode(ctx, bytes.NewReader([]byte("x")), tc.ws, tc.quorum); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestEncodeFailingWriters fails writers at various blocks: up to m failures
// (or up to n-quorum) succeed and the survivors decode, more fail with
// ErrWriteQuorum.
func TestEncodeFailingWriters(t *testing.T) {
	const bs = 1000
	data := randBytes(13, 4*bs+1) // 5 blocks
	tests := []struct {
		name     string
		k, m, q  int
		fail     map[int]*errWriter
		offline  []int
		wantErr  bool
		wantFail []int
	}{
		{"one fails at start", 4, 2, 4, map[int]*errWriter{1: {}}, nil, false, []int{1}},
		{"two fail at different blocks", 4, 2, 4, map[int]*errWriter{0: {ok: 2}, 5: {ok: 4}}, nil, false, []int{0, 5}},
		{"short write", 4, 2, 4, map[int]*errWriter{3: {ok: 1, short: true}}, nil, false, []int{3}},
		{"offline and failing", 4, 2, 4, map[int]*errWriter{2: {ok: 3}}, []int{4}, false, []int{2, 4}},
		{"three fail", 4, 2, 4, map[int]*errWriter{0: {}, 1: {ok: 1}, 2: {ok: 2}}, nil, true, []int{0, 1, 2}},
		{"quorum 5 one fails", 4, 2, 5, map[int]*errWriter{0: {ok: 3}}, nil, false, []int{0}},
		{"quorum 5 two fail", 4, 2, 5, map[int]*errWriter{0: {ok: 3}, 1: {ok: 4}}, nil, true, []int{0, 1}},
		{"too many offline", 4, 2, 4, nil, []int{0, 1, 2}, true, []int{0, 1, 2}},
		{"single drive fails", 1, 0, 1, map[int]*errWriter{0: {ok: 1}}, nil, true, []int{0}},
		{"8+8 eight fail", 8, 8, 8, map[int]*errWriter{0: {}, 2: {}, 4: {}, 6: {}, 8: {ok: 1}, 10: {}, 12: {}, 14: {ok: 4}}, nil, false, []int{0, 2, 4, 6, 8, 10, 12, 14}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.k, tc.m, bs)
			n := tc.k + tc.m
			bufs := make([]bytes.Buffer, n)
			bws := make([]io.WriteCloser, n)
			ws := make([]io.Writer, n)
			for i := range ws {
				bws[i] = bitrot.NewWriter(&bufs[i], alg, e.ShardBlockSize())
				ws[i] = bws[i]
				if f := tc.fail[i]; f != nil {
					// Fail above the bitrot writer, which holds a
					// partial last frame until Close.
					ws[i] = io.MultiWriter(f, bws[i])
				}
			}
			for _, i := range tc.offline {
				ws[i] = nil
			}
			res, err := e.EncodeWithResult(context.Background(), bytes.NewReader(data), ws, tc.q)
			if tc.wantErr != errors.Is(err, erasure.ErrWriteQuorum) || (!tc.wantErr && err != nil) {
				t.Fatalf("err %v, want quorum error %v", err, tc.wantErr)
			}
			if !slices.Equal(res.Failed, tc.wantFail) || len(res.Errs) != len(res.Failed) {
				t.Fatalf("Failed %v (%d errs), want %v", res.Failed, len(res.Errs), tc.wantFail)
			}
			for j, err := range res.Errs {
				var se *erasure.ShardError
				if !errors.As(err, &se) || se.Shard != res.Failed[j] {
					t.Fatalf("Errs[%d] = %v", j, err)
				}
				if f := tc.fail[se.Shard]; f != nil && se.Block != int64(f.ok) {
					t.Fatalf("shard %d failed at block %d, want %d", se.Shard, se.Block, f.ok)
				}
				if slices.Contains(tc.offline, se.Shard) && !errors.Is(err, erasure.ErrOffline) {
					t.Fatalf("offline shard %d: %v", se.Shard, err)
				}
			}
			if tc.wantErr {
				if errors.As(err, new(*erasure.ShardError)) == false {
					t.Fatalf("quorum error does not wrap the shard errors: %v", err)
				}
				return
			}
			if res.N != int64(len(data)) {
				t.Fatalf("N = %d", res.N)
			}
			// The surviving shards decode.
			s := &store{e: e, size: int64(len(data)), files: make([][]byte, n), openErr: make([]error, n)}
			for i := range bufs {
				if !slices.Contains(res.Failed, i) {
					bws[i].Close()
					s.files[i] = bufs[i].Bytes()
				}
			}
			got, _, err := s.decode(t, 0, s.size)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("decode survivors: %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestEncodeSources runs Encode over the testing/iotest readers.
func TestEncodeSources(t *testing.T) {
	const bs = 1000
	e := mustNew(t, 4, 2, bs)
	data := randBytes(14, 3*bs+500)
	for _, tc := range []struct {
		name    string
		src     func(io.Reader) io.Reader
		wantErr error
	}{
		{"OneByteReader", iotest.OneByteReader, nil},
		{"HalfReader", iotest.HalfReader, nil},
		{"DataErrReader", iotest.DataErrReader, nil},
		{"TimeoutReader", iotest.TimeoutReader, iotest.ErrTimeout},
		{"ErrReader", func(io.Reader) io.Reader { return iotest.ErrReader(errDrive) }, errDrive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			ref := make([]io.Writer, 6)
			for i := range ref {
				ref[i] = io.Discard
			}
			ref[0] = &want
			if _, err := e.Encode(context.Background(), bytes.NewReader(data), ref, 6); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			ws := slices.Clone(ref)
			ws[0] = &got
			n, err := e.Encode(context.Background(), tc.src(bytes.NewReader(data)), ws, 6)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("n=%d err=%v, shard 0 equal=%v", n, err, bytes.Equal(got.Bytes(), want.Bytes()))
			}
		})
	}
}

// TestEncodeWritePerShardBlock checks one Write per shard block, of the
// shard block's size, and no writes at all for an empty object.
func TestEncodeWritePerShardBlock(t *testing.T) {
	const bs = 1000
	e := mustNew(t, 3, 2, bs) // shard block 334
	for _, tc := range []struct {
		size int
		want []int
	}{
		{0, nil},
		{1, []int{1}},
		{2*bs + 10, []int{334, 334, 4}},
	} {
		recs := make([]*recorder, 5)
		ws := make([]io.Writer, 5)
		for i := range recs {
			recs[i] = &recorder{}
			ws[i] = recs[i]
		}
		n, err := e.Encode(context.Background(), bytes.NewReader(make([]byte, tc.size)), ws, 5)
		if err != nil || n != int64(tc.size) {
			t.Fatalf("size %d: %d, %v", tc.size, n, err)
		}
		for i, r := range recs {
			if !slices.Equal(r.sizes, tc.want) {
				t.Fatalf("size %d: shard %d writes %v, want %v", tc.size, i, r.sizes, tc.want)
			}
		}
	}
}

type recorder struct{ sizes []int }

func (r *recorder) Write(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	return len(p), nil
}

func TestContextCanceled(t *testing.T) {
	e := mustNew(t, 2, 1, 100)
	data := randBytes(1, 1000)
	s := encodeStore(t, e, data)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ws := []io.Writer{io.Discard, io.Discard, io.Discard}
	if _, err := e.Encode(ctx, bytes.NewReader(data), ws, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Encode: %v", err)
	}
	if _, err := e.Decode(ctx, io.Discard, s.open, s.size, 0, s.size); !errors.Is(err, context.Canceled) {
		t.Fatalf("Decode: %v", err)
	}
	if _, err := e.Heal(ctx, []io.Writer{io.Discard, nil, nil}, s.open, s.size); !errors.Is(err, context.Canceled) {
		t.Fatalf("Heal: %v", err)
	}
	if s.active != 0 {
		t.Fatalf("%d readers left open", s.active)
	}

	// Cancelling while a shard read is failing is not blamed on the shard.
	ctx, cancel = context.WithCancel(context.Background())
	open := func(shard int, block int64) (io.ReadCloser, error) {
		cancel()
		return nil, ctx.Err()
	}
	res, err := e.Decode(ctx, io.Discard, open, s.size, 0, s.size)
	if !errors.Is(err, context.Canceled) || len(res.Failed) != 0 {
		t.Fatalf("cancelled open: %+v, %v", res, err)
	}
}

// TestHeal rebuilds lost shards and checks the new files are byte-identical
// to what Encode wrote.
func TestHeal(t *testing.T) {
	const bs = 1000 + 1
	for _, tc := range []struct {
		name        string
		k, m        int
		size        int
		heal        []int
		corrupt     []int // source shards corrupted at block 1
		wantErr     error
		wantCorrupt []int
	}{
		{"one data shard", 4, 2, 3*bs + 7, []int{1}, nil, nil, nil},
		{"one parity shard", 4, 2, 3*bs + 7, []int{5}, nil, nil, nil},
		{"data and parity", 4, 2, 3*bs + 7, []int{0, 4}, nil, nil, nil},
		{"mirror", 1, 1, 2 * bs, []int{0}, nil, nil, nil},
		{"12+4 four shards", 12, 4, 5 * bs, []int{0, 3, 12, 15}, nil, nil, nil},
		{"with a corrupt source", 4, 2, 3*bs + 7, []int{2}, []int{0}, nil, []int{0}},
		{"too few sources", 4, 2, 3*bs + 7, []int{0, 1}, []int{2}, erasure.ErrReadQuorum, []int{2}},
		{"single drive cannot heal", 1, 0, 10, []int{0}, nil, erasure.ErrReadQuorum, nil},
		{"empty object", 4, 2, 0, []int{1}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustNew(t, tc.k, tc.m, bs)
			data := randBytes(15, tc.size)
			orig := encodeStore(t, e, data)
			s := orig.clone()
			n := tc.k + tc.m
			bufs := make([]bytes.Buffer, n)
			bws := make([]io.WriteCloser, n)
			ws := make([]io.Writer, n)
			for _, i := range tc.heal {
				bws[i] = bitrot.NewWriter(&bufs[i], alg, e.ShardBlockSize())
				ws[i] = bws[i]
				// The stale shard must not be read: make it corrupt.
				if len(s.files[i]) > 0 {
					s.files[i][len(s.files[i])-1] ^= 1
				}
			}
			for _, i := range tc.corrupt {
				s.corrupt(i, 1)
			}
			res, err := e.Heal(context.Background(), ws, s.open, s.size)
			if s.active != 0 {
				t.Fatalf("%d readers left open", s.active)
			}
			if !slices.Equal(res.Corrupt, tc.wantCorrupt) {
				t.Fatalf("Corrupt %v, want %v", res.Corrupt, tc.wantCorrupt)
			}
			for _, o := range s.opens {
				if slices.Contains(tc.heal, o.shard) {
					t.Fatalf("Heal read shard %d that it is rewriting", o.shard)
				}
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range tc.heal {
				bws[i].Close()
				if !bytes.Equal(bufs[i].Bytes(), orig.files[i]) {
					t.Fatalf("healed shard %d differs from the encoded one", i)
				}
			}
		})
	}
}

func TestHealWriterFailure(t *testing.T) {
	const bs = 1000
	e := mustNew(t, 4, 2, bs)
	data := randBytes(16, 3*bs)
	s := encodeStore(t, e, data)
	var good bytes.Buffer
	ws := []io.Writer{&errWriter{ok: 1}, nil, nil, nil, nil, &good}
	_, err := e.Heal(context.Background(), ws, s.open, s.size)
	var se *erasure.ShardError
	if !errors.Is(err, errDrive) || !errors.As(err, &se) || se.Shard != 0 || se.Block != 1 {
		t.Fatalf("err %v, want shard 0 failing at block 1", err)
	}
	if !bytes.Equal(good.Bytes(), unframe(t, e, s.files[5], s.size)) {
		t.Fatal("the healthy target was not fully healed")
	}
	if _, err := e.Heal(context.Background(), ws[:5], s.open, s.size); err == nil {
		t.Fatal("wrong writer count accepted")
	}
	if res, err := e.Heal(context.Background(), make([]io.Writer, 6), s.open, s.size); err != nil || len(s.opens) == 0 && res.Failed != nil {
		t.Fatalf("no targets: %v", err)
	}
}

func unframe(t *testing.T, e *erasure.Erasure, framed []byte, size int64) []byte {
	t.Helper()
	b, err := bitrot.Unframe(alg, e.ShardBlockSize(), framed, e.ShardSize(size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentUse shares one Erasure between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	const bs = 4096
	e := mustNew(t, 4, 2, bs)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			data := randBytes(uint64(100+g), 5*bs+g*77)
			s := encodeStore(t, e, data)
			s.files[g%6] = nil
			got, _, err := s.decode(t, 0, s.size)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("goroutine %d: %v", g, err)
			}
		})
	}
	wg.Wait()
}

func TestShardErrorMessage(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &erasure.ShardError{Shard: 3, Block: 7, Err: bitrot.ErrCorrupt})
	if got := err.Error(); got != "wrapped: erasure: shard 3 (block 7): bitrot: shard data corrupt" {
		t.Fatalf("message %q", got)
	}
	if !errors.Is(err, bitrot.ErrCorrupt) {
		t.Fatal("ShardError does not unwrap")
	}
}

// TestDecodeShortRawShard uses an opener without bitrot whose shard ends
// early: the clean io.EOF must count as a failed shard, not as data.
func TestDecodeShortRawShard(t *testing.T) {
	e := mustNew(t, 2, 1, 100)
	data := randBytes(17, 300)
	s := encodeStore(t, e, data)
	open := func(shard int, block int64) (io.ReadCloser, error) {
		if shard == 1 && block == 0 {
			// 2 of 3 shard blocks, then a clean EOF.
			raw := unframe(t, e, s.files[1], s.size)
			return io.NopCloser(bytes.NewReader(raw[:100])), nil
		}
		return s.open(shard, block)
	}
	var out bytes.Buffer
	res, err := e.Decode(context.Background(), &out, open, s.size, 0, s.size)
	if err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("%v", err)
	}
	if !slices.Equal(res.Failed, []int{1}) || !errors.Is(res.Errs[0], io.ErrUnexpectedEOF) {
		t.Fatalf("result %+v", res)
	}
}
