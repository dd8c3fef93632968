// Package objects is the object layer: buckets, object versions, multipart
// uploads, listings, healing and pools, on top of erasure-coded drives. It sits
// between the S3 API (package s3api, which calls *Layer) and the storage path
// (packages erasure, bitrot and drive, which it calls).
//
// Model. A Layer holds pools; a pool holds erasure sets; a set is N drives that
// store every object version as k data + m parity shards, one per drive. Inside a
// pool an object's set is a keyed hash of bucket and key; which pool holds it is
// found by asking every pool (pools.go). On each drive of its set, object a/b of
// bucket B is the metadata file B/a/b%m (package meta: every version, delete
// markers, user metadata, erasure layout, parts, checksums; small objects inline)
// and one data file or directory B/a/b%v<id> per version (names.go).
//
// Invariants.
//   - Quorum: a version exists when its metadata is on at least k drives of its set
//     (set.go, resolve). Writes commit on at least the write quorum (k, or k+1 when
//     k = m) or roll back; deletes remove from at least the write quorum. So a
//     version is visible exactly when it was committed and not deleted, whatever
//     subset of drives failed or crashed.
//   - Durability: data is staged in the drives' temp areas and made durable before
//     any metadata names it; metadata is durable before a write is acknowledged
//     (drive.Sync, group-committed).
//   - Order: versions are kept sorted by (modification time, id), and writes of one
//     id merge deterministically, so drives that apply the same changes in any order
//     converge (meta.File.Add).
//   - Mutual exclusion: commits take the object's write lock (this node's lock table,
//     and in a cluster a lease from a majority of nodes; package dlock); reads hold
//     the read lock while they stream. Configuration documents are written under
//     their own lock; administrative changes that span several steps (the server's
//     pool changes, a rebalance's document) take a named admin lock (LockAdmin).
//   - Nothing buffers a whole object: PUT streams body → erasure.Encode → bitrot
//     writers → drive files; GET streams drive files → bitrot readers →
//     erasure.Decode → the response.
//
// Transitions (transition.go): a version's data can move to a remote tier
// (TransitionObject, run by the lifecycle worker). The stored bytes stream to
// the tier — ciphertext for SSE objects, so the tier never holds plaintext and
// the sealed key stays in the local metadata — then, under the write lock and
// only if the version is unchanged, every drive's copy becomes a stub
// (meta.Version.Transition set, no local data) and the shards are freed; a
// version changed meanwhile gets its remote copy deleted instead. Reads of a stub
// stream the needed range from the tier (Prepare reaches it before a response
// commits, so an unreachable tier is ErrTierUnavailable, not a cut body).
// RestoreObject erasure codes a copy back for N days; the scanner drops it after.
// Deleting or replacing a stub deletes its remote copy once the commit holds
// (or queues the delete in tier-gc/, drained by every scanner cycle, when the
// tier fails).
//
// Listings (list.go, index.go) merge, per set, the drives' key-ordered views of
// a bucket and resolve each key with the same quorum rule as reads, then merge
// the sets. A drive's view is its metadata index (drive.Scan: pages of keys with
// their metadata minus inline data and shard number, kept up to date by the drive
// in the same call that writes the metadata file), or, when it has none usable
// (after a crash, until rebuilt), a walk of its directories reading every
// metadata file. Identical copies decode once per key; a listing compares
// remote drives' copies by digest. A continuation page is listed ahead while the
// client reads one (list_ahead.go), served only if no drive changed since.
//
// Pools (pools.go, rebalance.go): pools are added while the layer serves, drained
// (Decommission) and rebalanced (Rebalance); a drain and a rebalance keep their
// progress in configuration documents (decommission/<pool>.json, rebalance.json)
// and resume after a restart.
//
// Background work (background.go): the heal queue (persisted) and the scanner,
// which heals keys whose drives disagree, empties the trash, verifies shards on
// deep cycles, retries queued remote deletes, drops expired restored copies, and
// runs other features' hooks (lifecycle) on the same walk.
//
// All errors callers act on are the Err* sentinels in api.go (test with
// errors.Is); package s3api maps them to S3 error codes in one place.
package objects
