package erasure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// EncodeResult describes an Encode that returned, successfully or not.
type EncodeResult struct {
	// N is the number of bytes read from the source.
	N int64
	// Failed lists, in ascending order, the shards that did not receive the
	// whole stream: their writer was nil (offline) or returned an error and
	// was dropped. Their shard files are incomplete and must not be
	// committed.
	Failed []int
	// Errs holds a *ShardError for each entry of Failed, in the same order.
	Errs []error
}

// Encode is EncodeWithResult without the per-writer report: it returns the
// number of bytes read from src and the error. Use it when the caller tracks
// writer failures itself (it sees its own writers' errors) or does not care
// which shards were lost as long as the quorum held.
func (e *Erasure) Encode(ctx context.Context, src io.Reader, writers []io.Writer, quorum int) (n int64, err error) {
	res, err := e.EncodeWithResult(ctx, src, writers, quorum)
	return res.N, err
}

// EncodeWithResult reads src until io.EOF, cuts it into BlockSize blocks,
// splits each block into DataShards data and ParityShards parity shard
// blocks and writes shard i of every block to writers[i], one Write call per
// shard block (so a bitrot.NewWriter with block size ShardBlockSize turns
// each into one frame).
//
// len(writers) must be DataShards+ParityShards. A nil writer is an offline
// drive. A writer that returns an error, or writes short, is dropped for the
// rest of the stream and reported in the result. quorum is the number of
// writers that must receive every block, DataShards <= quorum <=
// DataShards+ParityShards; when fewer writers are left (including at the
// start), Encode stops and returns an error wrapping ErrWriteQuorum that also
// wraps each *ShardError. An error reading src (other than io.EOF) or the
// end of ctx stops Encode with that error. On any error the shards written
// so far are incomplete and the caller must discard them; Encode never closes
// writers. A writer that buffers (a bitrot writer holds the last, partial
// frame) may still fail when the caller closes it; the caller checks those
// Close errors and counts such shards as failed before committing.
//
// The shard blocks of one block are written concurrently, one goroutine per
// writer, and Encode waits for all of them before reading the next block, so
// a writer is never called concurrently with itself and a slow drive costs
// its own latency once per block rather than adding to every other drive's.
// Memory is one block's worth of shards from a pool, whatever the object
// size. An empty src writes nothing.
func (e *Erasure) EncodeWithResult(ctx context.Context, src io.Reader, writers []io.Writer, quorum int) (res EncodeResult, err error) {
	n := e.k + e.m
	if len(writers) != n {
		return res, fmt.Errorf("erasure: encode: %d writers for %d+%d shards", len(writers), e.k, e.m)
	}
	if quorum < e.k || quorum > n {
		return res, fmt.Errorf("erasure: encode: write quorum %d outside [%d, %d]", quorum, e.k, n)
	}

	live := make([]io.Writer, n)
	errs := make([]error, n)
	alive := 0
	for i, w := range writers {
		if w == nil {
			errs[i] = &ShardError{Shard: i, Err: ErrOffline}
			continue
		}
		live[i] = w
		alive++
	}
	defer func() { res.Failed, res.Errs = collect(errs) }()
	if alive < quorum {
		return res, writeQuorumError(alive, n, quorum, errs)
	}

	bp := e.getBuf()
	defer e.putBuf(bp)
	buf := *bp
	var wg sync.WaitGroup
	for block := int64(0); ; block++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("erasure: encode: %w", err)
		}
		m, rerr := io.ReadFull(src, buf[:e.blockSize])
		res.N += int64(m)
		last := false
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF) && m == 0:
			return res, nil
		case errors.Is(rerr, io.ErrUnexpectedEOF):
			last = true
		default:
			return res, fmt.Errorf("erasure: encode: reading source: %w", rerr)
		}

		// Split uses buf's spare capacity for the padding and the parity
		// shards, so it does not allocate shard memory.
		shards, err := e.enc.Split(buf[:m])
		if err != nil {
			return res, fmt.Errorf("erasure: encode: block %d: %w", block, err)
		}
		if err := e.enc.Encode(shards); err != nil {
			return res, fmt.Errorf("erasure: encode: block %d: %w", block, err)
		}

		for i, w := range live {
			if w == nil {
				continue
			}
			write := func() {
				if err := writeFull(w, shards[i]); err != nil {
					errs[i] = &ShardError{Shard: i, Block: block, Err: err}
				}
			}
			if e.sequentialIO {
				write()
			} else {
				wg.Go(write)
			}
		}
		wg.Wait()
		for i := range live {
			if live[i] != nil && errs[i] != nil {
				live[i] = nil
				alive--
			}
		}
		if alive < quorum {
			return res, writeQuorumError(alive, n, quorum, errs)
		}
		if last {
			return res, nil
		}
	}
}

// writeFull writes p to w in one call and turns a short write into an error.
func writeFull(w io.Writer, p []byte) error {
	n, err := w.Write(p)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	return err
}

func writeQuorumError(alive, total, quorum int, errs []error) error {
	return fmt.Errorf("%w: %d of %d shard writers left, need %d: %w",
		ErrWriteQuorum, alive, total, quorum, errors.Join(errs...))
}

// collect returns the indexes of the non-nil errors and the errors.
func collect(errs []error) (idx []int, out []error) {
	for i, err := range errs {
		if err != nil {
			idx = append(idx, i)
			out = append(out, err)
		}
	}
	return idx, out
}
