package bitrot

import (
	"fmt"
	"hash"

	"github.com/minio/highwayhash"
	"github.com/zeebo/blake3"
	"github.com/zeebo/xxh3"
)

// Algorithm identifies the hash that protects each frame of a shard. The id is
// a single byte so the object metadata can record it next to the erasure
// layout; ids are part of the on-disk format and must never be renumbered.
// The zero value is not a valid algorithm, so an unset metadata field is
// caught rather than silently meaning "some hash".
type Algorithm uint8

const (
	// HighwayHash256 is HighwayHash with a 256-bit output, keyed with a
	// fixed, public key (see highwayKey). The key gives no secrecy; it only
	// pins the function.
	HighwayHash256 Algorithm = 1
	// XXH128 is the 128-bit variant of xxHash3 (XXH3_128bits, seed 0),
	// stored big-endian (the canonical form of xxHash).
	XXH128 Algorithm = 2
	// BLAKE3 is BLAKE3 in its default (unkeyed) mode with a 256-bit output.
	BLAKE3 Algorithm = 3
)

// DefaultAlgorithm is the algorithm new shards are written with.
//
// It is XXH128. Bitrot protection has to catch random corruption (flipped
// bits, torn or misdirected writes, zeroed sectors, a frame from another
// file), not an adversary: anyone who can write to the drive can rewrite a
// frame's hash together with its data whatever the hash is, so a
// cryptographic hash buys nothing here. Against random damage a well-mixed
// 128-bit hash lets a corrupt frame through with probability about 2^-128 per
// frame, far below the undetected error rates of the disks, controllers and
// memory the data passes through anyway. xxHash3-128 passes SMHasher's
// distribution and avalanche tests and, measured on this project's
// benchmarks (docs/bench-raw-limits.md), hashes 256 KiB and 1 MiB blocks
// several times faster than HighwayHash-256 and BLAKE3, which keeps the hash
// off the critical path of a PUT or GET. The other algorithms stay readable
// so that a later change of default does not strand old shards.
const DefaultAlgorithm = XXH128

// HashSize is the size in bytes of the per-frame hash of DefaultAlgorithm.
const HashSize = 16

// MaxHashSize is the largest Size of any supported Algorithm.
const MaxHashSize = 32

// highwayKey keys HighwayHash256. It is fixed and public: changing it changes
// every stored hash, so it is part of the on-disk format.
const highwayKey = "cairn bitrot highwayhash key v1!"

// Valid reports whether a is a known algorithm. Algorithm ids read from disk
// must be checked with Valid before Size or New are called.
func (a Algorithm) Valid() bool {
	return a >= HighwayHash256 && a <= BLAKE3
}

// Size returns the size in bytes of a's hash. It panics if a is not Valid.
func (a Algorithm) Size() int {
	switch a {
	case HighwayHash256:
		return highwayhash.Size
	case XXH128:
		return 16
	case BLAKE3:
		return 32
	}
	panic(fmt.Sprintf("bitrot: invalid algorithm %d", uint8(a)))
}

// New returns a new hash.Hash computing a. It panics if a is not Valid.
// The frame readers and writers use a faster one-shot path; New exists for
// callers that hash streams of their own (for example a deep scan that
// recomputes frame hashes) and for tests.
func (a Algorithm) New() hash.Hash {
	switch a {
	case HighwayHash256:
		h, err := highwayhash.New([]byte(highwayKey))
		if err != nil {
			panic("bitrot: highwayhash key: " + err.Error()) // unreachable: key is 32 bytes
		}
		return h
	case XXH128:
		return &xxh128{h: xxh3.New()}
	case BLAKE3:
		return blake3.New()
	}
	panic(fmt.Sprintf("bitrot: invalid algorithm %d", uint8(a)))
}

// String returns the algorithm's name, e.g. "xxh128".
func (a Algorithm) String() string {
	switch a {
	case HighwayHash256:
		return "highwayhash256"
	case XXH128:
		return "xxh128"
	case BLAKE3:
		return "blake3"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// sum appends the hash of data to dst. a must be Valid.
func (a Algorithm) sum(dst, data []byte) []byte {
	switch a {
	case HighwayHash256:
		s := highwayhash.Sum(data, []byte(highwayKey))
		return append(dst, s[:]...)
	case XXH128:
		s := xxh3.Hash128(data).Bytes()
		return append(dst, s[:]...)
	case BLAKE3:
		s := blake3.Sum256(data)
		return append(dst, s[:]...)
	}
	panic(fmt.Sprintf("bitrot: invalid algorithm %d", uint8(a)))
}

// xxh128 adapts xxh3.Hasher, whose Sum is the 64-bit hash, to a 128-bit
// hash.Hash producing the same bytes as the one-shot path.
type xxh128 struct{ h *xxh3.Hasher }

var _ hash.Hash = (*xxh128)(nil)

func (x *xxh128) Write(p []byte) (int, error) { return x.h.Write(p) }
func (x *xxh128) Reset()                      { x.h.Reset() }
func (x *xxh128) Size() int                   { return 16 }
func (x *xxh128) BlockSize() int              { return x.h.BlockSize() }
func (x *xxh128) Sum(b []byte) []byte {
	s := x.h.Sum128().Bytes()
	return append(b, s[:]...)
}
