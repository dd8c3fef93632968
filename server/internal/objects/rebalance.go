package objects

import (
	"context"
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
// moves whole objects — every version, as a decommission does — to the pool
// furthest below its target, until the source is at its target. Objects written
// meanwhile go where placement sends them. It runs in the background on the node
// that was asked; a restart stops it (start it again: it measures afresh).

// ErrRebalanceRunning: a rebalance is already running on this node.
var ErrRebalanceRunning = errors.New("objects: a rebalance is already running")

// ErrNothingToBalance: fewer than two active pools.
var ErrNothingToBalance = errors.New("objects: rebalancing needs at least two active pools")

// RebalanceStatus is the progress of the last rebalance started on this node.
type RebalanceStatus struct {
	Running  bool
	Complete bool
	Started  time.Time
	Objects  int64 // moved
	Versions int64
	Bytes    int64
	Failed   int64
	Error    string
	// Pools: data and target of each active pool when the rebalance started.
	Pools []RebalancePool
}

// RebalancePool is one pool's share in a rebalance.
type RebalancePool struct {
	Index       int
	Bytes       int64 // data at the start
	TargetBytes int64
}

type rebalanceState struct {
	mu      sync.Mutex
	running bool
	status  RebalanceStatus
	stats   decomStats
}

// Rebalance starts a rebalance in the background (see above); progress:
// RebalanceState.
func (l *Layer) Rebalance(ctx context.Context) error {
	r := &l.rebalance
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return ErrRebalanceRunning
	}
	var active []*pool
	for _, p := range l.poolList() {
		if !p.draining.Load() {
			active = append(active, p)
		}
	}
	if len(active) < 2 {
		r.mu.Unlock()
		return ErrNothingToBalance
	}
	r.running = true
	r.stats = decomStats{}
	r.status = RebalanceStatus{Running: true, Started: l.now()}
	r.mu.Unlock()
	l.goBackground(func(bg context.Context) {
		err := l.rebalancePools(bg, active)
		r.mu.Lock()
		r.running = false
		r.status.Running, r.status.Complete = false, err == nil
		if err != nil {
			r.status.Error = err.Error()
			l.log.Error("rebalance stopped", "err", err)
		} else {
			l.log.Info("rebalance complete", "objects", r.stats.objects.Load(), "bytes", r.stats.bytes.Load())
		}
		r.mu.Unlock()
	})
	return nil
}

// RebalanceState reports the last rebalance started on this node.
func (l *Layer) RebalanceState() RebalanceStatus {
	r := &l.rebalance
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Pools = append([]RebalancePool(nil), st.Pools...)
	st.Objects, st.Versions, st.Bytes, st.Failed = r.stats.objects.Load(), r.stats.versions.Load(), r.stats.bytes.Load(), r.stats.failed.Load()
	return st
}

func (l *Layer) rebalancePools(ctx context.Context, pools []*pool) error {
	buckets, err := l.ListBuckets(ctx)
	if err != nil {
		return err
	}
	used := make([]int64, len(pools))
	capacity := make([]float64, len(pools))
	var totalUsed int64
	var totalCap float64
	for i, p := range pools {
		if used[i], err = l.poolData(ctx, p, buckets); err != nil {
			return err
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
	target := make([]int64, len(pools))
	r := &l.rebalance
	r.mu.Lock()
	for i, p := range pools {
		target[i] = int64(float64(totalUsed) * capacity[i] / totalCap)
		r.status.Pools = append(r.status.Pools, RebalancePool{Index: p.idx, Bytes: used[i], TargetBytes: target[i]})
	}
	r.mu.Unlock()
	slack := totalUsed / int64(len(pools)) / 20
	for i, p := range pools {
		if used[i] <= target[i]+slack {
			continue
		}
		if err := l.rebalanceFrom(ctx, i, p, pools, used, target, buckets); err != nil {
			return err
		}
	}
	if n := r.stats.failed.Load(); n > 0 {
		return fmt.Errorf("objects: %d objects could not be moved; rebalance again", n)
	}
	return nil
}

// rebalanceFrom moves objects out of pools[src] until it is at its target.
func (l *Layer) rebalanceFrom(ctx context.Context, src int, p *pool, pools []*pool, used, target []int64, buckets []BucketInfo) error {
	for _, b := range buckets {
		its := make([]iterator, 0, len(p.sets))
		for _, s := range p.sets {
			it, err := s.walk(ctx, b.Name, "", "", false, true)
			if err != nil {
				return err
			}
			its = append(its, it)
		}
		it := newMerge(its, func(es []entry) entry { return es[0] })
		for used[src] > target[src] {
			e, ok := it.next()
			if !ok {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if p.draining.Load() {
				return nil // a decommission took over
			}
			dst := -1
			for j := range pools {
				if j != src && !pools[j].draining.Load() && (dst < 0 || target[j]-used[j] > target[dst]-used[dst]) {
					dst = j
				}
			}
			if dst < 0 || used[dst] >= target[dst] {
				return nil
			}
			before := l.rebalance.stats.bytes.Load()
			if err := l.moveObject(ctx, p, pools[dst], &l.rebalance.stats, b.Name, e.key); err != nil {
				l.rebalance.stats.failed.Add(1)
				l.log.Warn("rebalance: moving object", "bucket", b.Name, "key", e.key, "err", err)
				continue
			}
			moved := l.rebalance.stats.bytes.Load() - before
			used[src] -= moved
			used[dst] += moved
		}
		if err := it.err(); err != nil {
			return err
		}
		if used[src] <= target[src] {
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
			it, err := s.walk(ctx, b.Name, "", "", false, true)
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
