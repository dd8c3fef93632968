// Package erasure turns an object stream into Reed-Solomon shard streams and
// back: every object block is split into k data shard blocks and m parity
// shard blocks, so an object survives the loss of any m of its k+m drives.
//
// # Place on the data path
//
//	objects → erasure → bitrot → drive → disk
//
// On a PUT the object layer opens one temp file per drive of the erasure set,
// wraps each in a bitrot.NewWriter with block size ShardBlockSize, and calls
// Encode with the object body and the write quorum. Encode reads the body one
// BlockSize block at a time, encodes it with klauspost/reedsolomon (Split +
// Encode) and hands shard i of the block to writer i in one Write call. The
// object layer then closes the bitrot writers and files and commits on the
// drives that did not fail. On a GET it calls Decode with a ShardOpener that
// opens a drive's shard file at a block, seeks to bitrot.FrameOffset and
// wraps it in bitrot.NewReader; Decode reads k shards per block, switches to
// parity when a shard is missing or corrupt, reconstructs the data
// (ReconstructData) and writes only the requested byte range to the response.
// Heal uses the same read side to rebuild lost shards onto fresh writers.
//
// # Layout
//
// Object block b holds object bytes [b*BlockSize, (b+1)*BlockSize); only the
// last block may be shorter. A block of n bytes gives every shard a shard
// block of ceil(n/k) bytes (the data shards hold the block's bytes in order,
// zero-padded at the end; parity shards hold parity), so all shard blocks of
// full object blocks are ShardBlockSize bytes and shard block b starts at
// shard byte b*ShardBlockSize. ShardSize gives a shard's total size. Because
// the layout is a function of (k, m, BlockSize, objectSize), those must be in
// the object's metadata, and changing them only affects new objects.
//
// # Invariants
//
//   - Memory per Encode, Decode or Heal call is one block's shards
//     ((k+m)*ShardBlockSize bytes, pooled) plus the readers' own buffers;
//     nothing holds a whole object.
//   - Encode fails, with ErrWriteQuorum, as soon as fewer than the write
//     quorum of writers hold every block written so far.
//   - Decode writes a block to its destination only after k shard blocks of
//     it were read (verified by bitrot below) and decoded, so a read that
//     fails with ErrReadQuorum has written a correct prefix and nothing
//     wrong.
//   - Failed and corrupt shards are reported (DecodeResult, EncodeResult),
//     never silently skipped, so the caller can count them and queue
//     healing.
//
// # Ownership and concurrency
//
// An *Erasure is immutable after New and safe for concurrent use; it keeps
// no per-object state and no package state. Encode and Heal never close the
// writers they are given; Decode and Heal open readers through the
// ShardOpener and close every one of them before returning. Encode writes,
// and Decode and Heal read, the shard blocks of one block concurrently (one
// goroutine per shard, all joined before the next block), so a slow or
// remote drive costs one latency per block rather than one per shard. Hence
// writers, and the opener and its readers, must not share unsynchronized
// state across shards; each writer and reader sees sequential calls only.
// Heal writes its targets one after the other.
package erasure
