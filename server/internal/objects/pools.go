package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/meta"
)

// Pools. A layer holds one or more pools, each a list of erasure sets. Inside a pool
// an object's set is a hash of its name; which pool holds it is found by asking
// every pool (only when there is more than one) and taking the one with the newest
// version. New objects go to the active pool with the most free space; an object
// that already exists stays in its pool, unless that pool is draining.
//
// A pool is added while the layer serves (AddPool): its drives get every bucket and
// then take new objects. A pool is drained (Decommission): it takes no new objects,
// every version of every object is copied to the other pools (same version ids,
// times and metadata) and removed from it, and finally the pool leaves the layer.
// Decommission saves its position (decommission/<pool>.json), so it resumes after a
// restart.

type pool struct {
	idx  int
	sets []*set
	// draining: the pool takes no new objects (it is being decommissioned here
	// or on another node, or it is still joining the cluster); joining tells the
	// last case apart.
	draining atomic.Bool
	joining  atomic.Bool
	decom    decomStats
}

type decomStats struct {
	running                   atomic.Bool
	done                      atomic.Bool
	objects, versions, failed atomic.Int64
	bytes                     atomic.Int64
	started                   atomic.Int64 // unix nanos
	mu                        sync.Mutex
	bucket, key               string
	err                       string
}

// PoolStatus describes one pool.
type PoolStatus struct {
	Index        int                 `json:"index"`
	Sets         int                 `json:"sets"`
	Drives       int                 `json:"drives"`
	Parity       int                 `json:"parity"` // parity shards per object in its sets
	Total        uint64              `json:"totalBytes"`
	Free         uint64              `json:"freeBytes"`
	Draining     bool                `json:"draining"`
	Joining      bool                `json:"joining,omitempty"`
	Decommission *DecommissionStatus `json:"decommission,omitempty"`
}

// DecommissionStatus is a draining pool's progress.
type DecommissionStatus struct {
	Running  bool      `json:"running"`
	Complete bool      `json:"complete"`
	Objects  int64     `json:"objectsMoved"`
	Versions int64     `json:"versionsMoved"`
	Bytes    int64     `json:"bytesMoved"`
	Failed   int64     `json:"failed"`
	Bucket   string    `json:"bucket,omitempty"`
	Key      string    `json:"key,omitempty"`
	Started  time.Time `json:"started"`
	Error    string    `json:"error,omitempty"`
}

// Errors of pool management.
var (
	ErrPoolNotFound = errors.New("objects: no such pool")
	ErrLastPool     = errors.New("objects: cannot decommission the last active pool")
	ErrPoolDraining = errors.New("objects: pool is already being decommissioned")
	ErrPoolJoining  = errors.New("objects: pool is still joining the cluster")
)

func (l *Layer) poolList() []*pool {
	l.poolMu.RLock()
	defer l.poolMu.RUnlock()
	return l.pools
}

// allSets is every set of every pool.
func (l *Layer) allSets() []*set {
	var out []*set
	for _, p := range l.poolList() {
		out = append(out, p.sets...)
	}
	return out
}

// firstSet holds the copies of bucket and cluster configuration that are read (every
// set has them): the first set of the first pool that is not draining.
func (l *Layer) firstSet() *set {
	ps := l.poolList()
	for _, p := range ps {
		if !p.draining.Load() {
			return p.sets[0]
		}
	}
	return ps[0].sets[0]
}

// setFor is the set holding bucket/key when there is one pool (tests and the
// common case); with several pools use readSet or writeSet.
func (l *Layer) setFor(bucket, key string) *set {
	return l.setIn(l.poolList()[0], bucket, key)
}

// locate returns the set of the pool holding the newest version of bucket/key, or
// nil when no pool has it.
func (l *Layer) locate(ctx context.Context, bucket, key string) *set {
	ps := l.poolList()
	if len(ps) == 1 {
		return l.setIn(ps[0], bucket, key)
	}
	stem := objectStem(bucket, key)
	var best *set
	var bestTime time.Time
	var mu sync.Mutex
	parallel(len(ps), func(i int) {
		s := l.setIn(ps[i], bucket, key)
		cur, err := s.resolve(s.readMetas(ctx, stem))
		if err != nil || cur.Latest() == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if t := cur.Latest().ModTime; best == nil || t.After(bestTime) {
			best, bestTime = s, t
		}
	})
	return best
}

// readSet is where reads of bucket/key go.
func (l *Layer) readSet(ctx context.Context, bucket, key string) *set {
	if s := l.locate(ctx, bucket, key); s != nil {
		return s
	}
	return l.setIn(l.targetPool(ctx), bucket, key)
}

// writeSet is where a new version of bucket/key goes: its current pool, unless that
// pool is draining, else the active pool with the most free space.
func (l *Layer) writeSet(ctx context.Context, bucket, key string) *set {
	if s := l.locate(ctx, bucket, key); s != nil && !s.pool.draining.Load() {
		return s
	}
	return l.setIn(l.targetPool(ctx), bucket, key)
}

// targetPool is the active pool with the most free space.
func (l *Layer) targetPool(ctx context.Context) *pool {
	ps := l.poolList()
	if len(ps) == 1 {
		return ps[0]
	}
	var best *pool
	var bestFree uint64
	for _, p := range ps {
		if p.draining.Load() {
			continue
		}
		if free := p.free(ctx); best == nil || free > bestFree {
			best, bestFree = p, free
		}
	}
	if best == nil {
		return ps[0]
	}
	return best
}

// free sums the free space of the pool's drives.
func (p *pool) free(ctx context.Context) uint64 {
	var total uint64
	for _, s := range p.sets {
		for _, d := range s.drives {
			if info, err := d.Info(ctx); err == nil {
				total += info.Free
			}
		}
	}
	return total
}

// Pools describes every pool.
func (l *Layer) Pools(ctx context.Context) []PoolStatus {
	var out []PoolStatus
	for _, p := range l.poolList() {
		st := PoolStatus{Index: p.idx, Sets: len(p.sets), Draining: p.draining.Load() && !p.joining.Load(), Joining: p.joining.Load()}
		if len(p.sets) > 0 {
			st.Parity = p.sets[0].parity // every set of a pool has the same
		}
		for _, s := range p.sets {
			st.Drives += len(s.drives)
			for _, d := range s.drives {
				if info, err := d.Info(ctx); err == nil {
					st.Total += info.Total
					st.Free += info.Free
				}
			}
		}
		if st.Draining {
			st.Decommission = p.decomStatus()
		}
		out = append(out, st)
	}
	return out
}

// AddPoolOptions says how AddPool brings a pool in.
type AddPoolOptions struct {
	// Joining adds the pool without letting it take new objects: reads and
	// listings see it, placement does not, until ActivatePool. A cluster adds a
	// pool this way on every node before any node places objects on it.
	Joining bool
	// NoBuckets skips creating the existing buckets on the pool's drives (they
	// are there already: a pool brought back at start, or one prepared by
	// CreateBuckets).
	NoBuckets bool
}

// AddPool adds a pool of formatted drives to the running layer: every bucket is
// created on it (unless opts.NoBuckets), then it takes new objects (unless
// opts.Joining).
func (l *Layer) AddPool(ctx context.Context, idx int, sets [][]drive.Drive, parity int, opts AddPoolOptions) error {
	for _, p := range l.poolList() {
		if p.idx == idx {
			return fmt.Errorf("objects: pool %d exists", idx)
		}
	}
	p, err := l.newPool(idx, sets, parity, l.blockSize, l.inlineLimit)
	if err != nil {
		return err
	}
	if !opts.NoBuckets {
		if err := l.createBuckets(ctx, p); err != nil {
			return err
		}
	}
	p.joining.Store(opts.Joining)
	p.draining.Store(opts.Joining)
	l.poolMu.Lock()
	l.pools = append(append([]*pool(nil), l.pools...), p)
	sort.Slice(l.pools, func(i, j int) bool { return l.pools[i].idx < l.pools[j].idx })
	l.poolMu.Unlock()
	l.log.Info("pool added", "pool", idx, "sets", len(sets), "joining", opts.Joining)
	return nil
}

// CreateBuckets creates every bucket of the layer (directory and configuration)
// on pool idx's drives.
func (l *Layer) CreateBuckets(ctx context.Context, idx int) error {
	p, err := l.poolByIndex(idx)
	if err != nil {
		return err
	}
	return l.createBuckets(ctx, p)
}

func (l *Layer) createBuckets(ctx context.Context, p *pool) error {
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		raw, err := l.readBucketConfigRaw(ctx, b.Name)
		if err != nil {
			return err
		}
		for _, s := range p.sets {
			ok := make([]bool, len(s.drives))
			parallel(len(s.drives), func(i int) {
				d := s.drives[i]
				if makeBucketDir(ctx, d, b.Name) == nil && d.WriteFile(ctx, bucketConfigPath(b.Name), raw) == nil {
					ok[i] = d.Sync(ctx) == nil
				}
			})
			if count(ok) < s.writeQuorum() {
				return fmt.Errorf("%w: bucket %s on pool %d", ErrWriteQuorum, b.Name, p.idx)
			}
		}
	}
	return nil
}

// ActivatePool lets a joining pool take new objects.
func (l *Layer) ActivatePool(idx int) error {
	p, err := l.poolByIndex(idx)
	if err != nil {
		return err
	}
	if p.joining.CompareAndSwap(true, false) {
		p.draining.Store(false)
		l.log.Info("pool active", "pool", idx)
	}
	return nil
}

// MarkDraining stops pool idx from taking new objects because another node
// decommissions it (this node only stops placing objects there).
func (l *Layer) MarkDraining(idx int) error {
	p, err := l.poolByIndex(idx)
	if err != nil {
		return err
	}
	p.joining.Store(false)
	p.draining.Store(true)
	return nil
}

func (l *Layer) poolByIndex(idx int) (*pool, error) {
	for _, p := range l.poolList() {
		if p.idx == idx {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %d", ErrPoolNotFound, idx)
}

func (p *pool) decomStatus() *DecommissionStatus {
	d := &p.decom
	d.mu.Lock()
	defer d.mu.Unlock()
	return &DecommissionStatus{
		Running: d.running.Load(), Complete: d.done.Load(),
		Objects: d.objects.Load(), Versions: d.versions.Load(), Bytes: d.bytes.Load(), Failed: d.failed.Load(),
		Bucket: d.bucket, Key: d.key, Started: time.Unix(0, d.started.Load()), Error: d.err,
	}
}

type decomPos struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

func decomDoc(idx int) string { return fmt.Sprintf("decommission/%d.json", idx) }

// Decommission starts draining pool idx in the background; onDone is called when
// every object has left it (the pool is then removed from the layer) or the drain
// stopped with an error. Progress: Pools().
func (l *Layer) Decommission(ctx context.Context, idx int, onDone func(error)) error {
	p, err := l.poolByIndex(idx)
	if err != nil {
		return err
	}
	active := 0
	for _, q := range l.poolList() {
		if !q.draining.Load() {
			active++
		}
	}
	if !p.draining.Load() && active <= 1 {
		return ErrLastPool
	}
	if p.joining.Load() {
		return fmt.Errorf("%w: %d", ErrPoolJoining, idx)
	}
	if !p.decom.running.CompareAndSwap(false, true) {
		return ErrPoolDraining
	}
	p.draining.Store(true)
	p.decom.started.Store(time.Now().UnixNano())
	var pos decomPos
	if raw, err := l.ReadConfig(ctx, decomDoc(idx)); err == nil {
		json.Unmarshal(raw, &pos)
	} else {
		raw, _ := json.Marshal(pos)
		l.WriteConfig(ctx, decomDoc(idx), raw)
	}
	l.goBackground(func(bg context.Context) {
		err := l.drain(bg, p, pos)
		p.decom.running.Store(false)
		if err == nil {
			p.decom.done.Store(true)
			l.poolMu.Lock()
			var keep []*pool
			for _, q := range l.pools {
				if q != p {
					keep = append(keep, q)
				}
			}
			l.pools = keep
			l.poolMu.Unlock()
			l.DeleteConfig(context.WithoutCancel(bg), decomDoc(idx))
			l.log.Info("pool decommissioned", "pool", idx)
		} else {
			p.decom.mu.Lock()
			p.decom.err = err.Error()
			p.decom.mu.Unlock()
			l.log.Error("decommission stopped", "pool", idx, "err", err)
		}
		if onDone != nil {
			onDone(err)
		}
	})
	return nil
}

// ResumeDecommission restarts drains that a previous process left unfinished.
func (l *Layer) ResumeDecommission(ctx context.Context, onDone func(idx int, err error)) {
	for _, p := range l.poolList() {
		if _, err := l.ReadConfig(ctx, decomDoc(p.idx)); err == nil {
			idx := p.idx
			l.Decommission(ctx, idx, func(err error) {
				if onDone != nil {
					onDone(idx, err)
				}
			})
		}
	}
}

// drainBatch is how many objects a drain moves at once.
const drainBatch = 8

// drain moves every object out of p, bucket by bucket, from pos on.
func (l *Layer) drain(ctx context.Context, p *pool, pos decomPos) error {
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for pass := 0; pass < 3; pass++ { // a second pass catches writes that raced the first
		moved := 0
		for _, b := range buckets {
			if b.Name < pos.Bucket {
				continue
			}
			after := ""
			if b.Name == pos.Bucket {
				after = pos.Key
			}
			it, err := p.walk(ctx, b.Name, after, walkHow{})
			if err != nil {
				return err
			}
			// The saved position is the last key of a finished batch.
			batch := make([]string, 0, drainBatch)
			flush := func() {
				n := len(batch)
				for _, failed := range l.moveBatch(ctx, p, &p.decom, b.Name, batch, nil, 1) {
					if failed {
						n--
					}
				}
				last := batch[len(batch)-1]
				p.decom.mu.Lock()
				p.decom.bucket, p.decom.key = b.Name, last
				p.decom.mu.Unlock()
				if moved/200 != (moved+n)/200 {
					raw, _ := json.Marshal(decomPos{b.Name, last})
					l.WriteConfig(ctx, decomDoc(p.idx), raw)
				}
				moved += n
				batch = batch[:0]
			}
			for {
				e, ok := it.next()
				if !ok {
					break
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if batch = append(batch, e.key); len(batch) == drainBatch {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
			if err := it.err(); err != nil {
				return err
			}
			// Uploads still in progress on the draining pool are abandoned.
			for _, s := range p.sets {
				parallel(len(s.drives), func(i int) { s.drives[i].Delete(ctx, multipartBucketDir(b.Name), true) })
			}
		}
		pos = decomPos{}
		if moved == 0 && p.decom.failed.Load() == 0 {
			return nil
		}
		if p.decom.failed.Load() > 0 {
			return fmt.Errorf("objects: %d objects could not be moved; retry the decommission", p.decom.failed.Load())
		}
	}
	return nil
}

// walk returns an iterator over bucket in pool p, after the key after, merging
// its sets (a key lives in one set of a pool).
func (p *pool) walk(ctx context.Context, bucket, after string, how walkHow) (iterator, error) {
	its := make([]iterator, 0, len(p.sets))
	for _, s := range p.sets {
		it, err := s.walk(ctx, bucket, "", after, false, how)
		if err != nil {
			return nil, err
		}
		its = append(its, it)
	}
	return newMerge(its, func(es []entry) entry { return es[0] }), nil
}

// moveBatch moves the objects keys of bucket out of pool p all at once (a move
// is bound by its flushes, not the CPU), keys[i] to pool to[i] (to nil: where
// placement puts it), each tried up to tries times; failures are counted in st
// and logged, except those of a cancelled ctx. It returns which keys failed.
func (l *Layer) moveBatch(ctx context.Context, p *pool, st *decomStats, bucket string, keys []string, to []*pool, tries int) []bool {
	failed := make([]bool, len(keys))
	var wg sync.WaitGroup
	for i, key := range keys {
		var dst *pool
		if to != nil {
			dst = to[i]
		}
		wg.Go(func() {
			var err error
			for range tries {
				if err = l.moveObject(ctx, p, dst, st, bucket, key); err == nil || ctx.Err() != nil {
					break
				}
			}
			if failed[i] = err != nil; failed[i] && ctx.Err() == nil {
				st.failed.Add(1)
				l.log.Warn("moving an object out of its pool", "pool", p.idx, "bucket", bucket, "key", key, "err", err)
			}
		})
	}
	wg.Wait()
	return failed
}

// moveObject copies every version of bucket/key from pool p to pool to (nil: the
// active pool with the most free space) and removes it from p, under the object's
// write lock, counting in st.
func (l *Layer) moveObject(ctx context.Context, p, to *pool, st *decomStats, bucket, key string) error {
	unlock, err := l.lockWrite(ctx, bucket+"/"+key)
	if err != nil {
		return err
	}
	defer unlock()
	src := l.setIn(p, bucket, key)
	stem := objectStem(bucket, key)
	srcMetas := src.readMetas(ctx, stem)
	cur, err := src.resolve(srcMetas)
	if err != nil {
		return err
	}
	if len(cur.Versions) == 0 {
		return nil
	}
	if to == nil {
		to = l.targetPool(ctx)
	}
	dst := l.setIn(to, bucket, key)
	if dst.pool == p {
		return ErrLastPool
	}
	// Oldest first, so the target's history grows in order.
	for i := len(cur.Versions) - 1; i >= 0; i-- {
		v := cur.Versions[i]
		if err := l.copyVersion(ctx, src, srcMetas, dst, bucket, key, v); err != nil {
			return fmt.Errorf("version %x: %w", v.ID, err)
		}
		st.versions.Add(1)
		st.bytes.Add(v.Size)
	}
	// Remove the object from the draining pool.
	err = src.run(ctx, commit{stem: stem, metas: srcMetas, apply: func(i int, f *meta.File) []string {
		var garbage []string
		for _, v := range append([]meta.Version(nil), f.Versions...) {
			garbage = append(garbage, garbageOf(stem, f.Remove(v.ID))...)
		}
		return garbage
	}})
	if err == nil {
		st.objects.Add(1)
	}
	return err
}

// copyVersion writes version v (read from src) into dst with the same id, time and
// metadata. A multipart version arrives as one stream: its part boundaries are not
// kept (its ETag is).
func (l *Layer) copyVersion(ctx context.Context, src *set, srcMetas []driveMeta, dst *set, bucket, key string, v meta.Version) error {
	stem := objectStem(bucket, key)
	dstMetas := dst.readMetas(ctx, stem)
	if hasQuorumVersion(dst, dstMetas, &v) {
		return nil // already moved (a resumed drain)
	}
	if v.Kind == meta.KindDeleteMarker || !v.HasLocalData() {
		// A marker, or a stub whose data is in a tier: metadata only.
		return dst.run(ctx, commit{stem: stem, metas: dstMetas, apply: func(i int, f *meta.File) []string {
			return garbageOf(stem, f.Add(v))
		}})
	}
	o := &object{s: src, stem: stem, metas: srcMetas, v: v, unlock: func() {}}
	if !v.DataFile && v.DataDir != ([16]byte{}) {
		return l.copyParts(ctx, o, dst, bucket, key, stem, dstMetas)
	}
	st, err := dst.stage(ctx, o.rangeReader(ctx, 0, v.Size), stageOptions{size: v.Size, rot: -1, inline: true})
	if err != nil {
		return err
	}
	defer st.cleanup(context.WithoutCancel(ctx))
	nv := v
	nv.Inline, nv.DataDir, nv.DataFile = nil, [16]byte{}, false
	nv.Erasure = st.erasure
	nv.Parts = []meta.Part{{Number: 1, Size: st.size, ETag: v.ETag}}
	if st.inline == nil {
		nv.DataDir, nv.DataFile = newID(), true
	}
	return dst.commitStaged(ctx, bucket, key, stem, dstMetas, nv, st)
}

// rangeReader streams bytes [off, off+n) of the object.
func (o *object) rangeReader(ctx context.Context, off, n int64) io.Reader {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(o.WriteRange(ctx, pw, off, n)) }()
	return pr
}

// copyParts moves a multipart version part by part, keeping its part numbers, sizes,
// ETags and checksums (an encrypted multipart object has one stream per part, so
// its boundaries must survive). Every part uses one shard rotation, so each drive
// holds the same shard index of every part.
func (l *Layer) copyParts(ctx context.Context, o *object, dst *set, bucket, key, stem string, dstMetas []driveMeta) error {
	v := o.v
	n := len(dst.drives)
	rot := int(newID()[0]) % n
	id := newID()
	dataDir := dataDirPath(stem, id)
	okAll := make([]bool, n)
	for i := range okAll {
		okAll[i] = true
	}
	cleanup := func() {
		parallel(n, func(i int) { dst.drives[i].Delete(context.WithoutCancel(ctx), dataDir, true) })
	}
	var first *staged
	var off int64
	for _, p := range v.Parts {
		st, err := dst.stage(ctx, o.rangeReader(ctx, off, p.Size), stageOptions{size: p.Size, rot: rot})
		if err != nil {
			cleanup()
			return err
		}
		parallel(n, func(i int) {
			if !st.ok[i] || dst.drives[i].Rename(ctx, st.tmpFile, dataDir+"/part."+itoa(p.Number)) != nil {
				okAll[i] = false
			}
		})
		st.cleanup(context.WithoutCancel(ctx))
		if count(okAll) < dst.writeQuorum() {
			cleanup()
			return fmt.Errorf("%w: part %d moved to %d drives", ErrWriteQuorum, p.Number, count(okAll))
		}
		if first == nil {
			first = st
		}
		off += p.Size
	}
	nv := v
	nv.Inline, nv.DataFile = nil, false
	nv.DataDir = id
	nv.Erasure = first.erasure
	skip := make([]bool, n)
	for i := range skip {
		skip[i] = !okAll[i]
	}
	err := dst.run(ctx, commit{
		bucket: bucket, key: key, stem: stem, metas: dstMetas, skip: skip,
		undo: func(ctx context.Context, i int) { dst.drives[i].Delete(ctx, dataDir, true) },
		apply: func(i int, f *meta.File) []string {
			dv := nv
			dv.Erasure.Index = first.shardOf[i]
			return garbageOf(stem, f.Add(dv))
		},
	})
	if err != nil {
		cleanup()
	}
	return err
}

func hasQuorumVersion(s *set, metas []driveMeta, v *meta.Version) bool {
	cur, err := s.resolve(metas)
	if err != nil {
		return false
	}
	for i := range cur.Versions {
		if keyOf(&cur.Versions[i]) == keyOf(v) {
			return true
		}
	}
	return false
}

// RemovePool drops a pool whose objects have all left it (at start, for a pool a
// finished decommission removed).
func (l *Layer) RemovePool(idx int) error {
	l.poolMu.Lock()
	defer l.poolMu.Unlock()
	var keep []*pool
	for _, p := range l.pools {
		if p.idx != idx {
			keep = append(keep, p)
		}
	}
	if len(keep) == len(l.pools) {
		return fmt.Errorf("%w: %d", ErrPoolNotFound, idx)
	}
	if len(keep) == 0 {
		return ErrLastPool
	}
	l.pools = keep
	return nil
}

// SetInfo describes one erasure set, for metrics and the admin API.
type SetInfo struct {
	Pool, Index             int
	Drives                  []drive.Drive
	Data, Parity            int
	ReadQuorum, WriteQuorum int
}

// Sets describes every set of every pool.
func (l *Layer) Sets() []SetInfo {
	var out []SetInfo
	for _, p := range l.poolList() {
		for i, s := range p.sets {
			out = append(out, SetInfo{Pool: p.idx, Index: i, Drives: s.drives, Data: s.data, Parity: s.parity,
				ReadQuorum: s.readQuorum(), WriteQuorum: s.writeQuorum()})
		}
	}
	return out
}
