package objects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Background work: the heal queue and the scanner.
//
// The heal queue takes objects that a request found damaged (a GET that had to
// reconstruct shards) or that a write left inconsistent (a PUT or DELETE that
// reached the quorum but not every drive). Each entry is also stored as a
// configuration document (heal/queue/<hash>), so a restart does not forget it;
// entries are removed when healed.
//
// The scanner walks every bucket of every set at a bounded rate, reading the
// drives' metadata indexes (drives without a usable one are walked). Each key whose
// metadata is not identical on every online drive is healed; every DeepEvery-th
// cycle also reads and verifies every shard (bitrot). Its position is stored
// (heal/scanner.json) every few hundred keys, so a restart resumes the cycle where it
// stopped: a replaced drive is rebuilt completely by one full cycle, resumable.

// ScanHooks let other parts of the server ride on the scanner instead of walking
// the namespace themselves (lifecycle rules): Cycle runs at the start of every
// cycle, Object for every key the cycle visits with its versions, newest first.
// Hooks run on the scanner's goroutine, within its rate limit; they must not
// block for long.
type ScanHooks struct {
	Cycle  func(ctx context.Context, cycle int64)
	Object func(ctx context.Context, bucket string, cfg BucketConfig, key string, versions []ObjectInfo)
}

// SetScanHooks installs the scanner hooks (before StartBackground).
func (l *Layer) SetScanHooks(h ScanHooks) { l.bg.hooks = h }

// BackgroundOptions configure StartBackground.
type BackgroundOptions struct {
	// ScanRate is the scanner's budget in keys per second (0: 200).
	ScanRate float64
	// ScanInterval is the pause between scanner cycles (0: 1 minute).
	ScanInterval time.Duration
	// DeepEvery: every DeepEvery-th cycle verifies shard contents (0: never).
	DeepEvery int
	// HealWorkers process the heal queue concurrently (0: 1).
	HealWorkers int
}

// HealStats are the background counters.
type HealStats struct {
	Queued        int64 // objects queued for healing (total)
	Backlog       int64 // objects waiting in the queue now
	Healed        int64 // heal operations completed
	Failed        int64 // heal operations that failed (retried by the scanner)
	ShardsHealed  int64 // shards rebuilt
	BytesHealed   int64 // shard bytes written by healing
	Scanned       int64 // keys the scanner examined
	ScanCycles    int64 // completed scanner cycles
	ScanBucket    string
	ScanKey       string // the scanner's position
	LastCycleTime time.Duration
}

type healItem struct{ bucket, key string }

type background struct {
	mu      sync.Mutex
	pending map[healItem]bool
	persist chan healItem // queued items on their way to the persisted queue
	ch      chan healItem // persisted items waiting for a heal worker
	stats   struct {
		queued, healed, failed, shards, bytes, scanned, cycles atomic.Int64
	}
	posMu     sync.Mutex
	pos       scanPos
	lastCycle atomic.Int64
	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	hooks     ScanHooks
}

type scanPos struct {
	Cycle  int64  `json:"cycle"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

const healQueueDir = "heal/queue"

func healDocName(it healItem) string {
	h := sha256.Sum256([]byte(it.bucket + "/" + it.key))
	return healQueueDir + "/" + hex.EncodeToString(h[:16]) + ".json"
}

// initBackground prepares the queue and starts its persister (until Close).
func (l *Layer) initBackground() {
	bg := &l.bg
	bg.pending = map[healItem]bool{}
	bg.persist = make(chan healItem, 10000)
	bg.ch = make(chan healItem, 10000)
	bg.ctx, bg.cancel = context.WithCancel(context.Background())
	l.goBackground(func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case it := <-bg.persist:
				doc, _ := json.Marshal(map[string]string{"bucket": it.bucket, "key": it.key})
				if err := l.WriteConfig(ctx, healDocName(it), doc); err != nil {
					l.log.Debug("persisting heal queue entry", "bucket", it.bucket, "key", it.key, "err", err)
				}
				select {
				case bg.ch <- it:
				default: // workers far behind: the scanner will find it
				}
			}
		}
	})
}

// goBackground runs fn until Close.
func (l *Layer) goBackground(fn func(ctx context.Context)) {
	l.bg.wg.Add(1)
	go func() {
		defer l.bg.wg.Done()
		fn(l.bg.ctx)
	}()
}

// Close stops the layer's background work and waits for it.
func (l *Layer) Close() error {
	l.bg.cancel()
	l.bg.wg.Wait()
	return nil
}

// queueHeal asks for bucket/key to be healed. It never blocks the caller.
func (l *Layer) queueHeal(bucket, key string) {
	bg := &l.bg
	it := healItem{bucket, key}
	bg.mu.Lock()
	if bg.pending[it] {
		bg.mu.Unlock()
		return
	}
	bg.pending[it] = true
	bg.mu.Unlock()
	bg.stats.queued.Add(1)
	select {
	case bg.persist <- it:
	default: // the scanner will find it
	}
}

// HealStats returns the background counters.
func (l *Layer) HealStats() HealStats {
	bg := &l.bg
	bg.mu.Lock()
	backlog := int64(len(bg.pending))
	bg.mu.Unlock()
	bg.posMu.Lock()
	pos := bg.pos
	bg.posMu.Unlock()
	return HealStats{
		Queued: bg.stats.queued.Load(), Backlog: backlog,
		Healed: bg.stats.healed.Load(), Failed: bg.stats.failed.Load(),
		ShardsHealed: bg.stats.shards.Load(), BytesHealed: bg.stats.bytes.Load(),
		Scanned: bg.stats.scanned.Load(), ScanCycles: bg.stats.cycles.Load(),
		ScanBucket: pos.Bucket, ScanKey: pos.Key,
		LastCycleTime: time.Duration(bg.lastCycle.Load()),
	}
}

// heal heals one object and keeps the counters.
func (l *Layer) heal(ctx context.Context, it healItem, opts HealOptions) error {
	res, err := l.HealObject(ctx, it.bucket, it.key, opts)
	l.bg.stats.shards.Add(int64(res.ShardsRebuilt))
	l.bg.stats.bytes.Add(res.BytesWritten)
	if err != nil && !errors.Is(err, ErrObjectNotFound) {
		l.bg.stats.failed.Add(1)
		l.log.Warn("heal failed", "bucket", it.bucket, "key", it.key, "err", err)
		return err
	}
	l.bg.stats.healed.Add(1)
	if res.ShardsRebuilt > 0 || res.VersionsRemoved > 0 {
		l.log.Info("healed", "bucket", it.bucket, "key", it.key, "shards", res.ShardsRebuilt, "removed", res.VersionsRemoved)
		// The scanner may heal what the queue holds: drop the persisted entry too.
		l.DeleteConfig(context.WithoutCancel(ctx), healDocName(it))
	}
	return nil
}

// StartBackground starts the heal workers and the scanner; they stop when ctx ends
// or at Close. It reloads the persisted heal queue and scanner position first.
func (l *Layer) StartBackground(ctx context.Context, opts BackgroundOptions) {
	if opts.ScanRate <= 0 {
		opts.ScanRate = 200
	}
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = time.Minute
	}
	if opts.HealWorkers <= 0 {
		opts.HealWorkers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	l.goBackground(func(bgctx context.Context) {
		<-bgctx.Done()
		cancel()
	})
	// Reload the persisted queue.
	if names, err := l.ListConfig(ctx, healQueueDir); err == nil {
		for _, n := range names {
			raw, err := l.ReadConfig(ctx, healQueueDir+"/"+n)
			if err != nil {
				continue
			}
			var e struct{ Bucket, Key string }
			if json.Unmarshal(raw, &e) == nil && e.Bucket != "" {
				l.queueHeal(e.Bucket, e.Key)
			}
		}
	}
	if raw, err := l.ReadConfig(ctx, "heal/scanner.json"); err == nil {
		l.bg.posMu.Lock()
		json.Unmarshal(raw, &l.bg.pos)
		l.bg.posMu.Unlock()
	}
	for w := 0; w < opts.HealWorkers; w++ {
		l.goBackground(func(context.Context) {
			for {
				select {
				case <-ctx.Done():
					return
				case it := <-l.bg.ch:
					if l.heal(ctx, it, HealOptions{}) == nil {
						l.DeleteConfig(context.WithoutCancel(ctx), healDocName(it))
					}
					l.bg.mu.Lock()
					delete(l.bg.pending, it)
					l.bg.mu.Unlock()
				}
			}
		})
	}
	l.goBackground(func(context.Context) { l.scanLoop(ctx, opts) })
}

func (l *Layer) scanLoop(ctx context.Context, opts BackgroundOptions) {
	for ctx.Err() == nil {
		start := time.Now()
		l.bg.posMu.Lock()
		cycle := l.bg.pos.Cycle
		l.bg.posMu.Unlock()
		deep := opts.DeepEvery > 0 && cycle%int64(opts.DeepEvery) == int64(opts.DeepEvery-1)
		if err := l.scanCycle(ctx, opts.ScanRate, deep); err != nil {
			if ctx.Err() != nil {
				return
			}
			l.log.Warn("scanner cycle", "err", err)
		} else {
			l.bg.stats.cycles.Add(1)
			l.bg.lastCycle.Store(int64(time.Since(start)))
			l.bg.posMu.Lock()
			l.bg.pos = scanPos{Cycle: cycle + 1}
			l.bg.posMu.Unlock()
			l.saveScanPos(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(opts.ScanInterval):
		}
	}
}

func (l *Layer) saveScanPos(ctx context.Context) {
	l.bg.posMu.Lock()
	raw, _ := json.Marshal(l.bg.pos)
	l.bg.posMu.Unlock()
	if err := l.WriteConfig(context.WithoutCancel(ctx), "heal/scanner.json", raw); err != nil {
		l.log.Debug("saving scanner position", "err", err)
	}
}

// scanCycle walks every bucket from the saved position and heals inconsistent keys.
func (l *Layer) scanCycle(ctx context.Context, rate float64, deep bool) error {
	if err := l.healConfig(ctx); err != nil {
		return err
	}
	l.emptyTrash(ctx)
	l.drainRemoteDeletes(ctx)
	if h := l.bg.hooks.Cycle; h != nil {
		l.bg.posMu.Lock()
		cycle := l.bg.pos.Cycle
		l.bg.posMu.Unlock()
		h(ctx, cycle)
	}
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	l.bg.posMu.Lock()
	pos := l.bg.pos
	l.bg.posMu.Unlock()
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	n := 0
	for _, b := range buckets {
		if b.Name < pos.Bucket {
			continue
		}
		after := ""
		if b.Name == pos.Bucket {
			after = pos.Key
		}
		{
			// Every drive's index (a page of keys per Scan, not a metadata file
			// per key per drive): a key is healed when its index values differ,
			// or when a drive lacks it.
			it, err := l.merged(ctx, b.Name, "", after, false, walkHow{index: indexPage})
			if err != nil {
				return err
			}
			for {
				e, ok := it.next()
				if !ok {
					break
				}
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(d):
					}
				}
				next = time.Now().Add(interval)
				l.bg.stats.scanned.Add(1)
				if !e.consistent || deep {
					l.heal(ctx, healItem{b.Name, e.key}, HealOptions{Verify: deep})
				}
				if e.file != nil {
					l.expireRestores(ctx, b.Name, e.key, e.file.Versions)
				}
				if h := l.bg.hooks.Object; h != nil && e.file != nil && len(e.file.Versions) > 0 {
					if cfg, err := l.BucketConfig(ctx, b.Name); err == nil {
						vs := make([]ObjectInfo, len(e.file.Versions))
						for i := range e.file.Versions {
							vs[i] = versionInfo(b.Name, e.key, &e.file.Versions[i], i == 0, cfg.Versioning)
						}
						h(ctx, b.Name, cfg, e.key, vs)
					}
				}
				l.bg.posMu.Lock()
				l.bg.pos.Bucket, l.bg.pos.Key = b.Name, e.key
				l.bg.posMu.Unlock()
				if n++; n%500 == 0 {
					l.saveScanPos(ctx)
				}
			}
			if err := it.err(); err != nil {
				return err
			}
		}
	}
	return nil
}
