// Package bitrot frames shard data with per-block hashes so that corruption
// on a drive is detected when the data is read back, and is never served.
//
// # Place on the data path
//
//	objects → erasure → bitrot → drive → disk
//
// The erasure package cuts every object block into shard blocks and writes
// shard i of each block to one writer; the caller (the object layer) makes
// that writer a bitrot.NewWriter around the drive's file, so each shard file
// on disk is a sequence of frames. On a read the caller opens the drive file,
// seeks to FrameOffset of the first block it needs and hands
// bitrot.NewReader to erasure, which sees only verified bytes. A read error
// wrapping ErrCorrupt tells erasure to treat that shard as lost and
// reconstruct it from parity, and tells the object layer to queue the shard
// for healing. Small objects are stored inline in the metadata with Frame and
// Unframe, which produce and check the same format in one call.
//
// # Format
//
// A shard of n data bytes framed with block size B and algorithm a is
//
//	hash(block0) || block0 || hash(block1) || block1 || ...
//
// where every block is B bytes except the last, which holds the remaining
// 1..B bytes, and each hash is a.Size() bytes. A shard of zero bytes has zero
// frames and is empty on disk. There is no header: the algorithm, block size
// and data size are recorded in the object metadata, and FramedSize and
// FrameOffset are pure arithmetic on them. The erasure package uses its shard
// block size (erasure.Erasure.ShardBlockSize) as B, so one shard block is one
// frame and any block can be read without reading the ones before it.
//
// # Invariants
//
//   - A reader returns a byte only after the whole frame holding it has been
//     read and its hash checked.
//   - A short shard is an error wrapping io.ErrUnexpectedEOF, never short data;
//     a mismatch is an error wrapping ErrCorrupt. Both are sticky.
//   - Algorithm ids are part of the on-disk format and are never renumbered;
//     DefaultAlgorithm (XXH128) is what new shards use, and all algorithms
//     stay readable.
//
// # Ownership
//
// NewWriter and NewReader wrap a writer or reader they do not own: closing
// the bitrot writer flushes the last frame but does not close the file, and
// the bitrot reader has no Close at all. Whoever opened the drive file closes
// it (after Close on the bitrot writer, and after fsync where the drive
// requires it). Writers and readers are not safe for concurrent use; the
// package has no global state, so any number of them may run in parallel.
package bitrot
