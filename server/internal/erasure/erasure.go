package erasure

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// MaxShards is the largest number of data plus parity shards New accepts.
const MaxShards = 256

var (
	// ErrWriteQuorum is wrapped by Encode's error when fewer writers than
	// the write quorum are left.
	ErrWriteQuorum = errors.New("erasure: write quorum not met")
	// ErrReadQuorum is wrapped by Decode's and Heal's error when fewer than
	// DataShards shards can be read for a block.
	ErrReadQuorum = errors.New("erasure: read quorum not met")
	// ErrOffline is the per-shard error for a nil writer, or an opener
	// that returned a nil reader without an error.
	ErrOffline = errors.New("erasure: shard offline")
)

// ShardError reports what went wrong with one shard. Decode, Encode and Heal
// wrap the per-shard errors in it; errors.As finds it inside their returned
// errors, and errors.Is sees through it to the cause (for example
// bitrot.ErrCorrupt).
type ShardError struct {
	Shard int   // shard index, 0..DataShards+ParityShards-1
	Block int64 // object block number at which the shard failed
	Err   error
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("erasure: shard %d (block %d): %v", e.Shard, e.Block, e.Err)
}

func (e *ShardError) Unwrap() error { return e.Err }

// Erasure encodes object streams into k data and m parity shards, block by
// block, and decodes them back. It holds no per-object state and is safe for
// concurrent use after New.
type Erasure struct {
	k, m      int
	blockSize int
	enc       reedsolomon.Encoder
	// bufs holds *[]byte of (k+m)*ShardBlockSize bytes: room for every
	// shard of one full block. Encode, Decode and Heal each take one.
	bufs sync.Pool
	// sequentialIO makes Encode write, and Decode and Heal read, shard
	// blocks one shard after the other instead of concurrently. Only
	// benchmarks set it, to keep the measurement behind the default
	// reproducible.
	sequentialIO bool
}

// New returns an Erasure for dataShards data shards (k >= 1), parityShards
// parity shards (m >= 0, k+m <= MaxShards) and object blocks of blockSize
// bytes (for example 1 MiB). The layout of every stored object is fixed by
// these three numbers, so they must be recorded in the object's metadata.
func New(dataShards, parityShards, blockSize int) (*Erasure, error) {
	switch {
	case dataShards < 1:
		return nil, fmt.Errorf("erasure: %d data shards, need at least 1", dataShards)
	case parityShards < 0:
		return nil, fmt.Errorf("erasure: %d parity shards, need at least 0", parityShards)
	case dataShards+parityShards > MaxShards:
		return nil, fmt.Errorf("erasure: %d+%d shards, at most %d", dataShards, parityShards, MaxShards)
	case blockSize < 1:
		return nil, fmt.Errorf("erasure: block size %d, need at least 1", blockSize)
	}
	enc, err := reedsolomon.New(dataShards, parityShards)
	if err != nil {
		return nil, fmt.Errorf("erasure: %d+%d: %w", dataShards, parityShards, err)
	}
	e := &Erasure{k: dataShards, m: parityShards, blockSize: blockSize, enc: enc}
	size := (dataShards + parityShards) * e.ShardBlockSize()
	e.bufs.New = func() any {
		b := make([]byte, size)
		return &b
	}
	return e, nil
}

// DataShards returns k, the number of data shards.
func (e *Erasure) DataShards() int { return e.k }

// ParityShards returns m, the number of parity shards.
func (e *Erasure) ParityShards() int { return e.m }

// BlockSize returns the object block size.
func (e *Erasure) BlockSize() int { return e.blockSize }

// ShardBlockSize returns the size of one shard's part of a full object
// block, ceil(BlockSize / DataShards). It is the bitrot block size to frame
// shard files with, so one shard block is one bitrot frame.
func (e *Erasure) ShardBlockSize() int { return (e.blockSize + e.k - 1) / e.k }

// ShardSize returns the number of data bytes (before bitrot framing) in each
// shard of an object of objectSize bytes: one ShardBlockSize per full block,
// plus ceil(lastBlock / DataShards) for a last partial block.
func (e *Erasure) ShardSize(objectSize int64) int64 {
	full, last := objectSize/int64(e.blockSize), objectSize%int64(e.blockSize)
	return full*int64(e.ShardBlockSize()) + (last+int64(e.k)-1)/int64(e.k)
}

// ShardSizeFrom returns the number of shard data bytes from shard block
// firstBlock to the end of a shard of an object of objectSize bytes: the
// dataSize to pass to bitrot.NewReader for a reader opened at firstBlock.
func (e *Erasure) ShardSizeFrom(objectSize, firstBlock int64) int64 {
	return max(0, e.ShardSize(objectSize)-firstBlock*int64(e.ShardBlockSize()))
}

// blocks returns the number of object blocks of an object of objectSize bytes.
func (e *Erasure) blocks(objectSize int64) int64 {
	return (objectSize + int64(e.blockSize) - 1) / int64(e.blockSize)
}

// blockLen returns the number of object bytes in block b.
func (e *Erasure) blockLen(objectSize, b int64) int {
	return int(min(int64(e.blockSize), objectSize-b*int64(e.blockSize)))
}

// shardLen returns the shard block size of a block of n object bytes.
func (e *Erasure) shardLen(n int) int { return (n + e.k - 1) / e.k }

func (e *Erasure) getBuf() *[]byte  { return e.bufs.Get().(*[]byte) }
func (e *Erasure) putBuf(b *[]byte) { e.bufs.Put(b) }

// layout points shards[i] at the i-th per-byte slot of buf, so that the data
// shards of a block are contiguous: buf[:n] is the block itself.
func layout(shards [][]byte, buf []byte, per int) {
	for i := range shards {
		shards[i] = buf[i*per : (i+1)*per : (i+1)*per]
	}
}
