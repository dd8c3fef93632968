package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Rebalance evens out the data of the active pools: after a pool is added the old
// pools stay full and only new objects go to the new one; a rebalance moves
// existing objects so each active pool holds a share of the data proportional to
// its capacity (the raw size of its drives).
//
// It measures every active pool's data (the sizes of all versions, from the
// listings), computes each pool's target share, then walks the pools above their
// target (by more than a twentieth of the average pool's data) in key order and
// moves whole objects — every version, as a decommission does, rebalanceBatch at a
// time — to the pools furthest below their targets, until the source is at its
// target. Objects written meanwhile go where placement sends them.
//
// It runs in the background on the node that was asked (its owner, Config.Node)
// and keeps its progress in the cluster configuration document rebalance.json,
// the way a drain keeps its position in decommission/<pool>.json: the plan (each
// active pool's data and target when measured, and the data each holds now), the
// pool being emptied and the last key of a finished batch in it, the running
// totals, the owner and a state:
//
//	running   the owner moves objects; if it restarts, it resumes from the saved
//	          position (ResumeRebalance), with the saved plan
//	complete  every source reached its target
//	stopped   StopRebalance, through any node (the owner notices at its next save)
//	failed    objects could not be moved, or a walk failed (Error); start again
//
// One rebalance runs in a cluster at a time: Rebalance refuses while the document
// says running. To move a rebalance whose owner is gone for good, stop it and
// start it again (through any node): it measures afresh. Starts, stops and the
// owner's saves read and write the document under the admin lock "rebalance"
// (LockAdmin), so none overwrites another. RebalanceState reports the document
// from any node; the owner adds its progress since the last save.
//
// The position is saved at most every rebalanceSaveEvery and at the end of each
// source pool. After a restart the moves since the last save are walked past
// again (an object already moved is no longer in the source; one half moved is
// finished: versions already on the target are not copied twice); their counts
// are lost, so after a crash the totals can be a batch or two short. A move that
// fails is tried again (rebalanceTries): after the owner crashed, the objects it
// was moving stay locked until their leases expire.

// ErrRebalanceRunning: a rebalance is already running in the cluster.
var ErrRebalanceRunning = errors.New("objects: a rebalance is already running")

// ErrNothingToBalance: fewer than two active pools.
var ErrNothingToBalance = errors.New("objects: rebalancing needs at least two active pools")

// errRebalanceEnded: the document no longer says that this run is running (it was
// stopped, or replaced after a stop): the run ends without writing a state.
var errRebalanceEnded = errors.New("objects: rebalance stopped")

// Rebalance states (RebalanceStatus.State).
const (
	RebalanceRunning  = "running"
	RebalanceComplete = "complete"
	RebalanceStopped  = "stopped"
	RebalanceFailed   = "failed"
)

const (
	rebalanceDoc  = "rebalance.json"
	rebalanceLock = "rebalance" // LockAdmin name of rebalance.json's read-modify-writes
	// rebalanceBatch is how many objects a rebalance moves at once (as a drain).
	rebalanceBatch = drainBatch
	// rebalanceSaveEvery spaces the saves of the position.
	rebalanceSaveEvery = time.Second
	// rebalanceLockWait bounds the wait for the "rebalance" lock.
	rebalanceLockWait = 10 * time.Second
	// rebalanceTries is how often a move is tried. An object whose lock a
	// crashed owner held stays locked until the lease expires (dlock.DefaultTTL,
	// 30 s); a write waits 15 s for its lock (clusterLockWait), so three tries
	// outlast the lease.
	rebalanceTries = 3
)

// RebalanceStatus is the last rebalance started in the cluster (State "" when
// none ever was).
type RebalanceStatus struct {
	State    string    `json:"state"`
	Owner    string    `json:"owner"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"` // last saved
	Objects  int64     `json:"objectsMoved"`
	Versions int64     `json:"versionsMoved"`
	Bytes    int64     `json:"bytesMoved"`
	Failed   int64     `json:"failed"`
	Error    string    `json:"error,omitempty"`
	// Pools: data and target of each active pool when the rebalance measured
	// them (empty until then).
	Pools []RebalancePool `json:"pools,omitempty"`
	// Position: the pool being emptied, and the last key moved out of it.
	Pool   int    `json:"pool"`
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
}

// Running reports whether the rebalance is running.
func (s RebalanceStatus) Running() bool { return s.State == RebalanceRunning }

// Complete reports whether the rebalance ran to its end.
func (s RebalanceStatus) Complete() bool { return s.State == RebalanceComplete }

// RebalancePool is one pool's share in a rebalance.
type RebalancePool struct {
	Index       int   `json:"index"`
	Bytes       int64 `json:"bytes"` // data when measured
	TargetBytes int64 `json:"targetBytes"`
}

// rebalanceRecord is rebalance.json.
type rebalanceRecord struct {
	ID string `json:"id"` // one per start
	RebalanceStatus
	// Used is each plan pool's data now (an estimate: the measure, plus and
	// minus the moves), in the order of Pools.
	Used []int64 `json:"used,omitempty"`
	// Source is the position in Pools of the pool being emptied.
	Source int `json:"source"`
}

func (rec rebalanceRecord) status() RebalanceStatus {
	st := rec.RebalanceStatus
	st.Pools = append([]RebalancePool(nil), st.Pools...)
	st.Pool = -1
	if rec.Source < len(rec.Pools) {
		st.Pool = rec.Pools[rec.Source].Index
	}
	return st
}

// rebalanceState is the rebalance running on this node.
type rebalanceState struct {
	mu  sync.Mutex
	run *rebalanceRun // nil: none
}

// rebalanceRun is one run of a rebalance on this node (a start or a resume).
type rebalanceRun struct {
	id       string // rec.ID
	mu       sync.Mutex
	rec      rebalanceRecord // plan and position; totals as of the start of this run
	stats    decomStats      // this run's moves
	lastSave time.Time
	cancel   context.CancelFunc
	done     chan struct{} // closed when the run's goroutine ends
}

// snapshot is the run's record with its totals so far.
func (run *rebalanceRun) snapshot() rebalanceRecord {
	run.mu.Lock()
	defer run.mu.Unlock()
	rec := run.rec
	rec.Pools = append([]RebalancePool(nil), rec.Pools...)
	rec.Used = append([]int64(nil), rec.Used...)
	rec.Objects += run.stats.objects.Load()
	rec.Versions += run.stats.versions.Load()
	rec.Bytes += run.stats.bytes.Load()
	rec.Failed += run.stats.failed.Load()
	return rec
}

func (l *Layer) readRebalance(ctx context.Context) (rebalanceRecord, error) {
	var rec rebalanceRecord
	raw, err := l.ReadConfig(ctx, rebalanceDoc)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, fmt.Errorf("objects: %s: %w", rebalanceDoc, err)
	}
	return rec, nil
}

// readRebalanceSettled is readRebalance for readers that do not hold the
// "rebalance" lock: a read that overlaps a write can find old and new copies
// without a quorum of either, which looks like no document; so "not found" is
// read again under the lock (every writer holds it).
func (l *Layer) readRebalanceSettled(ctx context.Context) (rebalanceRecord, error) {
	rec, err := l.readRebalance(ctx)
	if !errors.Is(err, ErrConfigNotFound) {
		return rec, err
	}
	_, unlock, lerr := l.LockAdmin(ctx, rebalanceLock, rebalanceLockWait)
	if lerr != nil {
		return rec, fmt.Errorf("%w: %s is being written (%v)", ErrReadQuorum, rebalanceDoc, lerr)
	}
	defer unlock()
	return l.readRebalance(ctx)
}

func (l *Layer) writeRebalance(ctx context.Context, rec rebalanceRecord) error {
	raw, _ := json.Marshal(rec)
	return l.WriteConfig(ctx, rebalanceDoc, raw)
}

func (l *Layer) activePools() []*pool {
	var out []*pool
	for _, p := range l.poolList() {
		if !p.draining.Load() {
			out = append(out, p)
		}
	}
	return out
}

// Rebalance starts a rebalance in the background, owned by this node (see above);
// progress: RebalanceState.
func (l *Layer) Rebalance(ctx context.Context) error {
	_, unlock, err := l.LockAdmin(ctx, rebalanceLock, rebalanceLockWait)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := l.readRebalance(ctx)
	if err != nil && !errors.Is(err, ErrConfigNotFound) {
		return err
	}
	if cur.State == RebalanceRunning {
		return fmt.Errorf("%w (owner %q, started %s; stop it first to start afresh)", ErrRebalanceRunning, cur.Owner, cur.Started.Format(time.RFC3339))
	}
	if len(l.activePools()) < 2 {
		return ErrNothingToBalance
	}
	// A run of this node that the document no longer calls running (stopped
	// through another node, not noticed yet) ends first.
	r := &l.rebalance
	r.mu.Lock()
	old := r.run
	r.mu.Unlock()
	if old != nil {
		old.cancel()
		select {
		case <-old.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	now := l.now()
	rec := rebalanceRecord{ID: formatUUID(newID()), RebalanceStatus: RebalanceStatus{
		State: RebalanceRunning, Owner: l.node, Started: now, Updated: now,
	}}
	if err := l.writeRebalance(ctx, rec); err != nil {
		return err
	}
	if !l.startRebalance(rec) {
		return ErrRebalanceRunning // a resume raced this start; the document says ours
	}
	return nil
}

// ResumeRebalance resumes the rebalance that rebalance.json says this node
// (Config.Node; any owner without a cluster) runs: after a restart, the saved
// plan and position. Nothing to resume is not an error.
func (l *Layer) ResumeRebalance(ctx context.Context) error {
	// A plain read (no lock at start): while this node does not run its
	// rebalance, only other nodes write the document — a stop, or a start of
	// their own — and neither leaves one for this node to resume.
	cur, err := l.readRebalance(ctx)
	if errors.Is(err, ErrConfigNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.State != RebalanceRunning || (l.cluster != nil && cur.Owner != l.node) {
		return nil
	}
	if l.startRebalance(cur) {
		l.log.Info("rebalance resumed", "started", cur.Started, "objects", cur.Objects, "pool", cur.status().Pool, "bucket", cur.Bucket, "key", cur.Key)
	}
	return nil
}

// StopRebalance stops the running rebalance, wherever it runs, and returns its
// final state. With none running it changes nothing and returns the last one's.
func (l *Layer) StopRebalance(ctx context.Context) (RebalanceStatus, error) {
	// This node's run first, so its final totals are known. Cancelled, a run
	// writes nothing.
	r := &l.rebalance
	r.mu.Lock()
	run := r.run
	r.mu.Unlock()
	if run != nil {
		run.cancel()
		select {
		case <-run.done:
		case <-ctx.Done():
			return RebalanceStatus{}, ctx.Err()
		}
	}
	_, unlock, err := l.LockAdmin(ctx, rebalanceLock, rebalanceLockWait)
	if err != nil {
		return RebalanceStatus{}, err
	}
	defer unlock()
	cur, err := l.readRebalance(ctx)
	if errors.Is(err, ErrConfigNotFound) {
		return RebalanceStatus{}, nil
	}
	if err != nil {
		return RebalanceStatus{}, err
	}
	if cur.State != RebalanceRunning {
		return cur.status(), nil
	}
	if run != nil && run.id == cur.ID {
		cur = run.snapshot()
	}
	cur.State, cur.Updated = RebalanceStopped, l.now()
	if err := l.writeRebalance(ctx, cur); err != nil {
		return RebalanceStatus{}, err
	}
	l.log.Info("rebalance stopped", "objects", cur.Objects, "bytes", cur.Bytes)
	return cur.status(), nil
}

// RebalanceState reports the last rebalance started in the cluster, from
// rebalance.json; the node running it adds its progress since the last save.
func (l *Layer) RebalanceState(ctx context.Context) (RebalanceStatus, error) {
	r := &l.rebalance
	r.mu.Lock()
	run := r.run
	r.mu.Unlock()
	cur, err := l.readRebalanceSettled(ctx)
	switch {
	case run != nil && (err != nil || (cur.ID == run.id && cur.State == RebalanceRunning)):
		return run.snapshot().status(), nil
	case errors.Is(err, ErrConfigNotFound):
		return RebalanceStatus{Pool: -1}, nil
	case err != nil:
		return RebalanceStatus{}, err
	}
	return cur.status(), nil
}

// startRebalance runs rec in the background, unless a run is there already.
func (l *Layer) startRebalance(rec rebalanceRecord) bool {
	r := &l.rebalance
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.run != nil {
		return false
	}
	ctx, cancel := context.WithCancel(l.bg.ctx)
	run := &rebalanceRun{id: rec.ID, rec: rec, cancel: cancel, done: make(chan struct{}), lastSave: l.now()}
	r.run = run
	l.goBackground(func(context.Context) {
		defer close(run.done)
		defer cancel()
		l.runRebalance(ctx, run)
		r.mu.Lock()
		if r.run == run {
			r.run = nil
		}
		r.mu.Unlock()
	})
	return true
}

// runRebalance runs a rebalance to its end and records how it ended — unless it
// was cancelled (stopped: the canceller records it; the layer closing: the
// document still says running, and the next start resumes it).
func (l *Layer) runRebalance(ctx context.Context, run *rebalanceRun) {
	err := l.rebalancePools(ctx, run)
	switch {
	case errors.Is(err, errRebalanceEnded):
		l.log.Info("rebalance ended: stopped through another node")
		return
	case ctx.Err() != nil:
		l.log.Info("rebalance interrupted", "err", ctx.Err())
		return
	}
	state, msg := RebalanceComplete, ""
	if err != nil {
		state, msg = RebalanceFailed, err.Error()
		l.log.Error("rebalance stopped", "err", err)
	}
	// The end must be recorded, or the document says running for good: retried
	// until it is (if the layer closes first, the next start resumes the
	// rebalance, which then ends at once). Until then the run reports running.
	for {
		err := l.saveRebalance(ctx, run, state, msg)
		if err == nil || errors.Is(err, errRebalanceEnded) {
			break
		}
		l.log.Warn("recording the end of a rebalance (retried)", "state", state, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	rec := run.snapshot()
	if state == RebalanceComplete {
		l.log.Info("rebalance complete", "objects", rec.Objects, "bytes", rec.Bytes)
	}
}

// saveRebalance writes the run's record — with state and msg when it ends
// (state "": still running) — unless the document no longer says this run is
// running (errRebalanceEnded; a stop through another node gets the run's totals).
func (l *Layer) saveRebalance(ctx context.Context, run *rebalanceRun, state, msg string) error {
	_, unlock, err := l.LockAdmin(ctx, rebalanceLock, rebalanceLockWait)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := l.readRebalance(ctx)
	if err != nil {
		return err
	}
	rec := run.snapshot()
	if cur.ID != rec.ID {
		return errRebalanceEnded
	}
	if cur.State != RebalanceRunning {
		if cur.State == RebalanceStopped {
			rec.State, rec.Error, rec.Updated = cur.State, cur.Error, cur.Updated
			l.writeRebalance(ctx, rec)
		}
		return errRebalanceEnded
	}
	rec.Updated = l.now()
	if state != "" {
		rec.State, rec.Error = state, msg
	}
	if err := l.writeRebalance(ctx, rec); err != nil {
		return err
	}
	run.mu.Lock()
	run.lastSave = rec.Updated
	run.rec.State, run.rec.Error = rec.State, rec.Error
	run.mu.Unlock()
	return nil
}

// saveProgress saves the position when it is due (or when forced); it fails
// only when the run must end.
func (l *Layer) saveProgress(ctx context.Context, run *rebalanceRun, force bool) error {
	run.mu.Lock()
	due := force || l.now().Sub(run.lastSave) >= l.rebalanceSave
	run.mu.Unlock()
	if !due {
		return nil
	}
	err := l.saveRebalance(ctx, run, "", "")
	if errors.Is(err, errRebalanceEnded) || ctx.Err() != nil {
		return err
	}
	if err != nil {
		l.log.Warn("rebalance: saving the position (retried at the next batch)", "err", err)
	}
	return nil
}

func (l *Layer) rebalancePools(ctx context.Context, run *rebalanceRun) error {
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	rec := run.snapshot()
	if len(rec.Pools) == 0 {
		// First run: measure, then save the plan.
		plan, used, err := l.planRebalance(ctx, buckets)
		if err != nil {
			return err
		}
		run.mu.Lock()
		run.rec.Pools, run.rec.Used, run.rec.Source = plan, used, 0
		run.mu.Unlock()
		if err := l.saveProgress(ctx, run, true); err != nil {
			return err
		}
		rec = run.snapshot()
	}
	// The plan's pools as they are now: one that left or drains takes no part.
	pools := make([]*pool, len(rec.Pools))
	var total int64
	for i, rp := range rec.Pools {
		if p, err := l.poolByIndex(rp.Index); err == nil {
			pools[i] = p
		}
		total += rp.Bytes
	}
	slack := total / int64(len(rec.Pools)) / 20
	for i := rec.Source; i < len(rec.Pools); i++ {
		resumed := i == rec.Source && rec.Bucket != ""
		if pools[i] != nil && !pools[i].draining.Load() && (resumed || rec.Used[i] > rec.Pools[i].TargetBytes+slack) {
			from := rebalancePos{}
			if resumed {
				from = rebalancePos{rec.Bucket, rec.Key}
			}
			if err := l.rebalanceFrom(ctx, run, i, pools, buckets, from); err != nil {
				return err
			}
		}
		run.mu.Lock()
		run.rec.Source, run.rec.Bucket, run.rec.Key = i+1, "", ""
		run.mu.Unlock()
		if err := l.saveProgress(ctx, run, true); err != nil {
			return err
		}
		rec = run.snapshot()
	}
	if n := run.snapshot().Failed; n > 0 {
		return fmt.Errorf("objects: %d objects could not be moved; rebalance again", n)
	}
	return nil
}

// planRebalance measures every active pool's data and capacity and sets its
// target share.
func (l *Layer) planRebalance(ctx context.Context, buckets []BucketInfo) ([]RebalancePool, []int64, error) {
	pools := l.activePools()
	if len(pools) < 2 {
		return nil, nil, ErrNothingToBalance
	}
	used := make([]int64, len(pools))
	capacity := make([]float64, len(pools))
	var totalUsed int64
	var totalCap float64
	for i, p := range pools {
		var err error
		if used[i], err = l.poolData(ctx, p, buckets); err != nil {
			return nil, nil, err
		}
		for _, s := range p.sets {
			for _, d := range s.drives {
				if info, err := d.Info(ctx); err == nil {
					capacity[i] += float64(info.Total)
				}
			}
		}
		if capacity[i] == 0 {
			capacity[i] = 1 // unknown: count the pool as an equal share
		}
		totalUsed += used[i]
		totalCap += capacity[i]
	}
	plan := make([]RebalancePool, len(pools))
	for i, p := range pools {
		plan[i] = RebalancePool{Index: p.idx, Bytes: used[i], TargetBytes: int64(float64(totalUsed) * capacity[i] / totalCap)}
	}
	return plan, used, nil
}

type rebalancePos struct{ bucket, key string }

// rebalanceMove is one object of a batch, with the pool (position in the plan) it
// goes to and its data.
type rebalanceMove struct {
	key  string
	dst  int
	size int64
}

// rebalanceFrom moves objects out of pools[src], from position from on, until it
// is at its target. The moves of a batch are counted in used (run.rec.Used) before
// they run, so each goes to the pool furthest below its target at that point; a
// move that fails is taken back.
func (l *Layer) rebalanceFrom(ctx context.Context, run *rebalanceRun, src int, pools []*pool, buckets []BucketInfo, from rebalancePos) error {
	p := pools[src]
	rec := run.snapshot()
	used := rec.Used
	target := make([]int64, len(rec.Pools))
	for i, rp := range rec.Pools {
		target[i] = rp.TargetBytes
	}
	pick := func() int {
		dst := -1
		for j := range pools {
			if j != src && pools[j] != nil && !pools[j].draining.Load() && (dst < 0 || target[j]-used[j] > target[dst]-used[dst]) {
				dst = j
			}
		}
		if dst < 0 || used[dst] >= target[dst] {
			return -1
		}
		return dst
	}
	for _, b := range buckets {
		if b.Name < from.bucket {
			continue
		}
		after := ""
		if b.Name == from.bucket {
			after = from.key
		}
		it, err := p.walk(ctx, b.Name, after, walkHow{index: indexPage, quorum: true})
		if err != nil {
			return err
		}
		batch := make([]rebalanceMove, 0, rebalanceBatch)
		full := false // every other pool is at its target
		for !full {
			batch = batch[:0]
			for len(batch) < rebalanceBatch && used[src] > target[src] {
				dst := pick()
				if full = dst < 0; full {
					break
				}
				e, ok := it.next()
				if !ok {
					break
				}
				var size int64
				if e.file != nil {
					for _, v := range e.file.Versions {
						size += v.Size
					}
				}
				used[src] -= size
				used[dst] += size
				batch = append(batch, rebalanceMove{key: e.key, dst: dst, size: size})
			}
			if len(batch) == 0 {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if p.draining.Load() {
				return nil // a decommission took over
			}
			keys, to := make([]string, len(batch)), make([]*pool, len(batch))
			for i, m := range batch {
				keys[i], to[i] = m.key, pools[m.dst]
			}
			failed := l.moveBatch(ctx, p, &run.stats, b.Name, keys, to, rebalanceTries)
			for i, m := range batch {
				if failed[i] {
					used[src] += m.size
					used[m.dst] -= m.size
				}
			}
			if err := ctx.Err(); err != nil {
				return err // the position stays at the last batch that finished
			}
			run.mu.Lock()
			copy(run.rec.Used, used)
			run.rec.Bucket, run.rec.Key = b.Name, batch[len(batch)-1].key
			run.mu.Unlock()
			if err := l.saveProgress(ctx, run, false); err != nil {
				return err
			}
		}
		if err := it.err(); err != nil {
			return err
		}
		if full || used[src] <= target[src] {
			return nil
		}
	}
	return nil
}

// poolData sums the sizes of every version in pool p.
func (l *Layer) poolData(ctx context.Context, p *pool, buckets []BucketInfo) (int64, error) {
	var total int64
	for _, b := range buckets {
		for _, s := range p.sets {
			it, err := s.walk(ctx, b.Name, "", "", false, walkHow{index: indexPage, quorum: true})
			if err != nil {
				return 0, err
			}
			for {
				e, ok := it.next()
				if !ok {
					break
				}
				if e.file == nil {
					continue
				}
				for _, v := range e.file.Versions {
					total += v.Size
				}
			}
			if err := it.err(); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}
