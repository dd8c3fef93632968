package objects

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/erasure"
)

// Config wires an object layer. Everything it uses is passed in (no globals), so
// tests can build as many layers as they like.
type Config struct {
	// Sets are the erasure sets of the (single, for now) pool, each a list of drives
	// in slot order.
	Sets [][]drive.Drive
	// Parity is the number of parity shards per object (0 for single-drive sets).
	Parity int
	// DeploymentID keys the placement hash, so placement differs between deployments.
	DeploymentID string
	// BlockSize is the erasure block size (default 1 MiB).
	BlockSize int
	// InlineLimit: objects of at most this many bytes are stored inside the metadata
	// file (default 128 KiB).
	InlineLimit int64
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// ClusterLocker, in a cluster, makes write locks cluster-wide.
	ClusterLocker ClusterLocker
	// Node names this node (its address in a cluster): it is recorded as the
	// owner of the work the layer runs for the cluster (a rebalance), so the
	// same node resumes it after a restart.
	Node string
	// TrashDelay, when set, keeps replaced data in the drives' trash for this long
	// instead of deleting it at once: in a cluster, a GET on another node may have
	// read the old metadata and not yet opened the data (reads take node-local
	// locks only). The scanner empties the trash.
	TrashDelay time.Duration
	// BucketCacheTTL bounds how long a bucket's configuration is cached. Zero
	// caches until this layer changes it (a single node); a cluster node, whose
	// peers change configuration too, sets a short TTL.
	BucketCacheTTL time.Duration
}

// Layer is the erasure-coded object layer. Safe for concurrent use.
type Layer struct {
	poolMu  sync.RWMutex
	pools   []*pool // see pools.go
	depID   string
	now     func() time.Time
	log     *slog.Logger
	locks   *nsLocks
	stats   counters
	bucket  bucketCache
	ahead   listAhead // see list_ahead.go
	bg      background
	cluster ClusterLocker
	node    string
	// rebalance is the rebalance running on this node (rebalance.go);
	// rebalanceSave spaces the saves of its position (tests shorten it).
	rebalance     rebalanceState
	rebalanceSave time.Duration
	// tiers serve the data of transitioned versions (transition.go); nil: none.
	tiers     Tiers
	tierStats tierCounters

	blockSize   int
	inlineLimit int64
	trashDelay  time.Duration
}

type counters struct {
	reconstructed atomic.Int64
	corrupt       atomic.Int64
}

// New builds a Layer over cfg's drives. The drives must already be formatted.
func New(cfg Config) (*Layer, error) {
	if len(cfg.Sets) == 0 {
		return nil, errors.New("objects: no erasure sets")
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = 1 << 20
	}
	if cfg.InlineLimit == 0 {
		cfg.InlineLimit = 128 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Layer{depID: cfg.DeploymentID, now: cfg.Now, log: cfg.Logger, locks: newNSLocks()}
	l.bucket.ttl = cfg.BucketCacheTTL
	l.cluster = cfg.ClusterLocker
	l.node = cfg.Node
	l.rebalanceSave = rebalanceSaveEvery
	l.trashDelay = cfg.TrashDelay
	l.bucket.m = map[string]BucketConfig{}
	l.initBackground()
	p, err := l.newPool(0, cfg.Sets, cfg.Parity, cfg.BlockSize, cfg.InlineLimit)
	if err != nil {
		return nil, err
	}
	l.pools = []*pool{p}
	l.blockSize, l.inlineLimit = cfg.BlockSize, cfg.InlineLimit
	return l, nil
}

// newPool builds the sets of one pool.
func (l *Layer) newPool(idx int, sets [][]drive.Drive, parity, blockSize int, inlineLimit int64) (*pool, error) {
	p := &pool{idx: idx}
	for i, drives := range sets {
		n := len(drives)
		par := parity
		if n == 1 {
			par = 0
		}
		if par < 0 || par > n/2 || (n > 1 && par == 0) {
			return nil, fmt.Errorf("objects: pool %d set %d: parity %d invalid for %d drives", idx, i, par, n)
		}
		ec, err := erasure.New(n-par, par, blockSize)
		if err != nil {
			return nil, err
		}
		p.sets = append(p.sets, &set{
			l: l, pool: p, drives: drives, data: n - par, parity: par,
			ec: ec, inlineLimit: inlineLimit,
		})
	}
	if len(p.sets) == 0 {
		return nil, errors.New("objects: a pool needs at least one set")
	}
	return p, nil
}

// Stats returns the layer's counters.
func (l *Layer) Stats() Stats {
	return Stats{ShardsReconstructed: l.stats.reconstructed.Load(), ShardsCorrupt: l.stats.corrupt.Load()}
}

// Drives returns every drive of the layer, set by set (all pools).
func (l *Layer) Drives() [][]drive.Drive {
	sets := l.allSets()
	out := make([][]drive.Drive, len(sets))
	for i, s := range sets {
		out[i] = s.drives
	}
	return out
}

// placement hashes a key with the deployment id.
func (l *Layer) placement(bucket, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(l.depID))
	h.Write([]byte{0})
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum64()
}

// setFor is the set of bucket/key inside pool p.
func (l *Layer) setIn(p *pool, bucket, key string) *set {
	return p.sets[l.placement(bucket, key)%uint64(len(p.sets))]
}

func newID() [16]byte {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	id[6] = id[6]&0x0f | 0x40 // UUID v4 shape, as S3 clients expect
	id[8] = id[8]&0x3f | 0x80
	return id
}

func formatUUID(id [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:])
	return string(b[:])
}

func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return id, false
	}
	return id, true
}

// parallel runs fn for every index in [0,n) concurrently and waits.
func parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// ctxErr keeps a caller's cancellation distinguishable from storage failures.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
