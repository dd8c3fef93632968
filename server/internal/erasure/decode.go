package erasure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/cairn-io/cairn/server/internal/bitrot"
)

// ShardOpener opens shard number shard (0..DataShards+ParityShards-1)
// positioned at shard block firstBlock. The returned reader yields that
// shard's verified data bytes from there to the end of the shard; the caller
// builds it by seeking the drive file to bitrot.FrameOffset(alg, firstBlock,
// ShardBlockSize()) and wrapping it in bitrot.NewReader with dataSize
// ShardSizeFrom(objectSize, firstBlock), so corruption surfaces as an error
// wrapping bitrot.ErrCorrupt. An error, or a nil reader, means the shard is
// unavailable (drive offline, file missing). Decode and Heal close every
// reader they open. The opener is called concurrently for different shards
// (never for the same shard at once), and each reader is used by one
// goroutine at a time.
type ShardOpener func(shard int, firstBlock int64) (io.ReadCloser, error)

// DecodeResult reports the shards that Decode (or Heal) tried to read and
// could not. Shards it never needed, for example parity shards when all data
// shards were healthy, are not checked and not listed.
type DecodeResult struct {
	// Failed lists, ascending, the shards that could not be opened or
	// failed while being read; the caller counts them and queues healing.
	Failed []int
	// Corrupt is the subset of Failed whose error wraps bitrot.ErrCorrupt.
	Corrupt []int
	// Errs holds a *ShardError for each entry of Failed, in the same order.
	Errs []error
}

// Decode writes bytes [offset, offset+length) of an object of objectSize
// bytes to dst.
//
// For each object block in the range it reads the shard blocks of the first
// DataShards usable shards, data shards first: readers are opened lazily,
// at the first block that needs them, and kept for the following blocks. A
// shard that fails to open or errors mid-stream (including bitrot.ErrCorrupt
// or a short shard) is closed, marked failed for the rest of the call, and
// replaced by the next parity shard, opened at the current block; the
// missing data is then reconstructed from parity. If fewer than DataShards
// shards are usable for a block Decode returns an error wrapping
// ErrReadQuorum (and the per-shard *ShardErrors). dst only ever receives
// bytes of blocks that were fully read and decoded, so after an error dst
// holds a correct prefix of the range and nothing else.
//
// The result lists the failed shards whether or not Decode succeeded. The
// shard blocks of one block are read concurrently, one goroutine per shard,
// so remote drives cost one round trip per block, not k. Memory is one
// block's shards from a pool plus what the readers hold. Decode closes every
// reader it opened before returning.
func (e *Erasure) Decode(ctx context.Context, dst io.Writer, open ShardOpener, objectSize, offset, length int64) (DecodeResult, error) {
	if objectSize < 0 || offset < 0 || length < 0 || offset > objectSize || length > objectSize-offset {
		return DecodeResult{}, fmt.Errorf("erasure: decode: range [%d, +%d) outside object of %d bytes", offset, length, objectSize)
	}
	if length == 0 {
		return DecodeResult{}, nil
	}
	s := e.newShardSet(open, nil)
	defer s.close()

	bp := e.getBuf()
	defer e.putBuf(bp)
	buf := *bp
	shards := make([][]byte, e.k+e.m)
	bs := int64(e.blockSize)
	first, last := offset/bs, (offset+length-1)/bs
	for b := first; b <= last; b++ {
		n := e.blockLen(objectSize, b)
		per := e.shardLen(n)
		layout(shards, buf, per)
		if err := s.read(ctx, b, shards, per); err != nil {
			return s.result(), err
		}
		if err := e.reconstructData(buf, shards, per); err != nil {
			return s.result(), fmt.Errorf("erasure: decode: block %d: %w", b, err)
		}
		from, to := int64(0), int64(n)
		if b == first {
			from = offset - b*bs
		}
		if b == last {
			to = offset + length - b*bs
		}
		if err := writeFull(dst, buf[from:to]); err != nil {
			return s.result(), fmt.Errorf("erasure: decode: writing block %d: %w", b, err)
		}
	}
	return s.result(), nil
}

// reconstructData fills in any missing data shard of a block laid out in buf
// so that buf[:k*per] holds the data shards in order.
func (e *Erasure) reconstructData(buf []byte, shards [][]byte, per int) error {
	missing := false
	for _, s := range shards[:e.k] {
		if len(s) == 0 {
			missing = true
			break
		}
	}
	if !missing {
		return nil
	}
	if err := e.enc.ReconstructData(shards); err != nil {
		return err
	}
	for i, s := range shards[:e.k] {
		// ReconstructData reuses the zero-length shards' capacity, which is
		// their place in buf; copy only if it ever chose other memory.
		if dst := buf[i*per : (i+1)*per]; &s[0] != &dst[0] {
			copy(dst, s)
		}
	}
	return nil
}

// Heal rebuilds the shards that have a non-nil writer in writers, for the
// whole object of objectSize bytes, writing each shard block with one Write
// call (as Encode does, so the files it produces are identical to the ones
// Encode would have written). It reads DataShards of the other shards with
// open, exactly as Decode does, and never reads a shard it is rewriting.
//
// A writer that fails is dropped and the others carry on; Heal then returns
// an error wrapping that writer's *ShardError. Too few readable shards
// returns an error wrapping ErrReadQuorum. The result reports shards that
// failed as sources, which need healing too. Heal closes every reader it
// opens and no writer.
func (e *Erasure) Heal(ctx context.Context, writers []io.Writer, open ShardOpener, objectSize int64) (DecodeResult, error) {
	n := e.k + e.m
	if len(writers) != n {
		return DecodeResult{}, fmt.Errorf("erasure: heal: %d writers for %d+%d shards", len(writers), e.k, e.m)
	}
	if objectSize < 0 {
		return DecodeResult{}, fmt.Errorf("erasure: heal: object size %d", objectSize)
	}
	live := make([]io.Writer, n)
	required := make([]bool, n)
	targets := 0
	for i, w := range writers {
		if w != nil {
			live[i], required[i] = w, true
			targets++
		}
	}
	if targets == 0 || objectSize == 0 {
		return DecodeResult{}, nil
	}

	s := e.newShardSet(open, slices.Clone(required))
	defer s.close()
	bp := e.getBuf()
	defer e.putBuf(bp)
	buf := *bp
	shards := make([][]byte, n)
	werrs := make([]error, n)
	for b := range e.blocks(objectSize) {
		per := e.shardLen(e.blockLen(objectSize, b))
		layout(shards, buf, per)
		if err := s.read(ctx, b, shards, per); err != nil {
			return s.result(), errors.Join(err, healWriteError(werrs))
		}
		if err := e.enc.ReconstructSome(shards, required); err != nil {
			return s.result(), fmt.Errorf("erasure: heal: block %d: %w", b, err)
		}
		for i, w := range live {
			if w == nil {
				continue
			}
			if err := writeFull(w, shards[i]); err != nil {
				werrs[i] = &ShardError{Shard: i, Block: b, Err: err}
				live[i], required[i] = nil, false
				targets--
			}
		}
		if targets == 0 {
			break
		}
	}
	return s.result(), healWriteError(werrs)
}

func healWriteError(werrs []error) error {
	if _, errs := collect(werrs); len(errs) > 0 {
		return fmt.Errorf("erasure: heal: %d shard writers failed: %w", len(errs), errors.Join(errs...))
	}
	return nil
}

// shardSet is the read side of one Decode or Heal call: the open shard
// readers, where each is positioned, and which shards have failed.
type shardSet struct {
	e    *Erasure
	open ShardOpener
	rcs  []io.ReadCloser
	next []int64 // block the open reader of each shard is positioned at
	skip []bool  // shards not to read (Heal targets); may be nil
	errs []error // why each failed shard failed; non-nil means failed

	pick  []int   // shards being read in the current round
	rerrs []error // result of each shard's read in the current round
}

func (e *Erasure) newShardSet(open ShardOpener, skip []bool) *shardSet {
	n := e.k + e.m
	return &shardSet{
		e: e, open: open, skip: skip,
		rcs: make([]io.ReadCloser, n), next: make([]int64, n), errs: make([]error, n),
		pick: make([]int, 0, n), rerrs: make([]error, n),
	}
}

// read fills shards[i][:per] for block b from the first DataShards usable
// shards and marks every other shard missing (zero length, capacity kept).
// It reads the chosen shards concurrently (sequentially if the Erasure says
// so), and after failures reads the replacements in a further round.
func (s *shardSet) read(ctx context.Context, b int64, shards [][]byte, per int) error {
	k := s.e.k
	for i := range shards {
		shards[i] = shards[i][:0]
	}
	got, next := 0, 0
	var wg sync.WaitGroup
	for got < k {
		s.pick = s.pick[:0]
		for ; next < len(shards) && len(s.pick) < k-got; next++ {
			if s.errs[next] == nil && (s.skip == nil || !s.skip[next]) {
				s.pick = append(s.pick, next)
			}
		}
		if len(s.pick) == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("erasure: %w", err)
		}
		for _, i := range s.pick {
			read := func() { s.rerrs[i] = s.readShard(i, b, shards[i][:per]) }
			if s.e.sequentialIO || len(s.pick) == 1 {
				read()
			} else {
				wg.Go(read)
			}
		}
		wg.Wait()
		for _, i := range s.pick {
			if err := s.rerrs[i]; err != nil {
				if cerr := ctx.Err(); cerr != nil {
					// The read failed because the call was cancelled;
					// that says nothing about the shard.
					return fmt.Errorf("erasure: %w", cerr)
				}
				s.fail(i, b, err)
				continue
			}
			shards[i] = shards[i][:per]
			got++
		}
	}
	if got < k {
		_, errs := collect(s.errs)
		return fmt.Errorf("%w: block %d: %d shards readable, need %d: %w", ErrReadQuorum, b, got, k, errors.Join(errs...))
	}
	return nil
}

func (s *shardSet) readShard(i int, b int64, p []byte) error {
	if s.rcs[i] != nil && s.next[i] != b {
		s.rcs[i].Close()
		s.rcs[i] = nil
	}
	if s.rcs[i] == nil {
		rc, err := s.open(i, b)
		if err != nil {
			return err
		}
		if rc == nil {
			return ErrOffline
		}
		s.rcs[i], s.next[i] = rc, b
	}
	if _, err := io.ReadFull(s.rcs[i], p); err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("shard ends early: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	s.next[i]++
	return nil
}

func (s *shardSet) fail(i int, b int64, err error) {
	s.errs[i] = &ShardError{Shard: i, Block: b, Err: err}
	if s.rcs[i] != nil {
		s.rcs[i].Close()
		s.rcs[i] = nil
	}
}

func (s *shardSet) result() DecodeResult {
	var r DecodeResult
	r.Failed, r.Errs = collect(s.errs)
	for j, i := range r.Failed {
		if errors.Is(r.Errs[j], bitrot.ErrCorrupt) {
			r.Corrupt = append(r.Corrupt, i)
		}
	}
	return r
}

func (s *shardSet) close() {
	for i, rc := range s.rcs {
		if rc != nil {
			rc.Close()
			s.rcs[i] = nil
		}
	}
}
