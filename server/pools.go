package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/admin"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// Pools. The command line names pools 0…P-1 (one argument each). Pools added
// through the admin API, and the state of every pool, are recorded in the cluster
// configuration document pools.json, so a restart with the same command line
// comes back with the same pools:
//
//	{"pools":[{"index":0,"state":"removed"},
//	          {"index":1,"drives":["http://10.0.0.5:9000/d1",…],"parity":2,"state":"active"}]}
//
// pools.json is the one source of truth; every node applies it (reload) at start,
// when a peer tells it to (POST /cairn/rpc/v1/pools/reload, signed like the
// storage RPC) and, in case it missed that, by polling the document. A pool's
// states, in order:
//
//	joining   every node opens the pool's drives (its own as local drives, served
//	          over RPC; the others' as remote drives) and reads from it, but no
//	          node places new objects on it yet
//	active    it takes new objects (by free space)
//	draining  it takes no new objects; the node that owns the decommission
//	          (the one that received the request; it resumes after its restart)
//	          moves every version out of it
//	removed   no node uses it any more
//
// Adding a pool (the node that receives the request): record it joining, make
// every node reload — a node that owns drives of the new pool must answer, or the
// addition is rolled back; a node that is down learns the pool when it starts —
// then format the new drives through the drive interface, create every bucket on
// them, record it active and make every node reload again. Because every node
// reads a pool before any node writes to it, a node never misses an object that
// another node placed on a pool it does not know yet.
//
// New pools' drives may live on the cluster's nodes (new disks) or on new nodes;
// a new node is started with the cluster's pool arguments plus its own pool, so
// it serves its drives' RPC while the cluster adds the pool. The cluster lock
// quorum stays on the command line's nodes.
//
// Pool changes are serialized across the cluster. Every read-modify-write of
// pools.json — a whole addition (joining → active, or its rollback), the start of
// a decommission and the record of its end — runs under the admin lock "pools"
// (objects.Layer.LockAdmin: the cluster's write lock, granted by a majority of
// the command line's nodes) and then this node's pm.mu; the start of a rebalance
// holds the same lock (not pm.mu), so it measures pools no change is moving. A
// second change, through any node, waits for the first and then applies to its
// result (an addition takes the next free index, and its drives are checked
// against the pool just added; a node first applies a pools.json it missed); if
// it cannot have the lock within poolLockWait it fails with 409 PoolConflict and
// changes nothing. The lock is always taken before pm.mu, never while holding
// it, so a node waiting for it still applies its peers' changes (the reload RPC
// takes pm.mu only). If the lock is lost half-way (a majority of nodes
// unreachable for a lease), an addition rolls back before its next write of
// pools.json. The end of a drain waits for the lock as long as it takes (retried
// every poolLockWait), since the drain is done and only its record is missing.
//
// Rebalance (package objects, rebalance.go) runs on the node that was asked and
// keeps its plan, position, totals, owner (--address) and state in the cluster
// document rebalance.json, as a drain keeps its position in
// decommission/<pool>.json. A node resumes the rebalance it owns when it starts
// (a cluster node retries from its poll if the document could not be read then);
// the status is read from the document, so every node reports the same; DELETE
// /pools/rebalance stops it wherever it runs. At most one rebalance runs in the
// cluster: a second start is refused (409) until the first ends or is stopped.

const poolsDoc = "pools.json"

// Pool states in pools.json.
const (
	poolJoining  = "joining"
	poolActive   = "active"
	poolDraining = "draining"
	poolRemoved  = "removed"
)

// pollPools is how often a cluster node re-reads pools.json on its own.
const pollPools = 5 * time.Second

// poolLock is the admin lock (objects.Layer.LockAdmin) of pool changes;
// poolLockWait bounds how long a change waits for another one to finish (below
// the admin client's one-minute timeout).
const (
	poolLock     = "pools"
	poolLockWait = 30 * time.Second
)

// errPoolLockLost: the cluster lock of pool changes was lost half-way.
var errPoolLockLost = errors.New("lost the cluster lock of pool changes (a majority of nodes unreachable?)")

type poolRecord struct {
	Index  int      `json:"index"`
	Drives []string `json:"drives,omitempty"` // empty for the command line's pools
	Parity int      `json:"parity,omitempty"`
	State  string   `json:"state"`
	// Owner is the node (--address) that runs the pool's decommission.
	Owner string `json:"owner,omitempty"`
}

type poolsState struct {
	Pools []poolRecord `json:"pools"`
}

func (st *poolsState) find(idx int) *poolRecord {
	for i := range st.Pools {
		if st.Pools[i].Index == idx {
			return &st.Pools[i]
		}
	}
	return nil
}

// openedPool is a pool whose drives this node has opened.
type openedPool struct {
	eps    []endpoint    // in slot order (interleaved)
	drives []drive.Drive // in slot order, unwrapped
	lay    layout.Layout
}

// poolManager implements admin.PoolManager for a Server.
type poolManager struct {
	s  *Server
	mu sync.Mutex // serializes changes to pools.json and their application

	cmdline int // pools 0…cmdline-1 come from the command line
	opened  map[int]*openedPool
	applied []byte // the pools.json last applied

	stop     chan struct{} // closed by Server.Close; stops the poll
	stopOnce sync.Once

	// resumeRebalance: resuming this node's rebalance at start failed; the
	// poll retries.
	resumeRebalance atomic.Bool

	// afterLoad, when set (tests), runs in AddPool between reading pools.json
	// and writing it back with the new pool at index idx.
	afterLoad func(idx int)
}

var _ admin.PoolManager = (*poolManager)(nil)

func newPoolManager(s *Server) *poolManager {
	return &poolManager{s: s, opened: map[int]*openedPool{}, stop: make(chan struct{})}
}

func (pm *poolManager) loadRaw(ctx context.Context) ([]byte, poolsState, error) {
	raw, err := pm.s.layer.ReadConfig(ctx, poolsDoc)
	if errors.Is(err, objects.ErrConfigNotFound) {
		return nil, poolsState{}, nil
	}
	if err != nil {
		return nil, poolsState{}, err
	}
	var st poolsState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, poolsState{}, fmt.Errorf("%s: %w", poolsDoc, err)
	}
	return raw, st, nil
}

// load returns pools.json with a record for every command-line pool.
func (pm *poolManager) load(ctx context.Context) (poolsState, error) {
	_, st, err := pm.loadRaw(ctx)
	if err != nil {
		return st, err
	}
	for i := 0; i < pm.cmdline; i++ {
		if st.find(i) == nil {
			st.Pools = append(st.Pools, poolRecord{Index: i, State: poolActive})
		}
	}
	return st, nil
}

// lock takes the cluster-wide lock of pool changes, then pm.mu (see the comment
// at the top). held ends if the cluster lock is lost; unlock releases both.
func (pm *poolManager) lock(ctx context.Context) (held context.Context, unlock func(), err error) {
	held, cunlock, err := pm.s.layer.LockAdmin(ctx, poolLock, poolLockWait)
	if err != nil {
		return nil, nil, err
	}
	pm.mu.Lock()
	return held, func() { pm.mu.Unlock(); cunlock() }, nil
}

// catchUpLocked applies pools.json if it changed since this node last applied
// it: a change through another node whose reload has not arrived (pm.mu held).
func (pm *poolManager) catchUpLocked(ctx context.Context) {
	if raw, _, err := pm.loadRaw(ctx); err == nil && !bytes.Equal(raw, pm.applied) {
		if err := pm.applyLocked(ctx); err != nil {
			pm.s.cfg.Logger.Warn("applying pools.json", "err", err)
		}
	}
}

func (pm *poolManager) save(ctx context.Context, st poolsState) error {
	raw, _ := json.Marshal(st)
	return pm.s.layer.WriteConfig(ctx, poolsDoc, raw)
}

// Pools implements admin.PoolManager.
func (pm *poolManager) Pools(ctx context.Context) []adminapi.Pool {
	pm.mu.Lock()
	eps := pm.endpointsLocked()
	pm.mu.Unlock()
	return pm.describe(ctx, eps)
}

// endpointsLocked is every opened pool's drives by index (pm.mu held).
func (pm *poolManager) endpointsLocked() map[int][]string {
	eps := map[int][]string{}
	for idx, op := range pm.opened {
		eps[idx] = raws(op.eps)
	}
	return eps
}

// describe is the admin API's view of the layer's pools.
func (pm *poolManager) describe(ctx context.Context, eps map[int][]string) []adminapi.Pool {
	var out []adminapi.Pool
	for _, p := range pm.s.layer.Pools(ctx) {
		ap := adminapi.Pool{Index: p.Index, Sets: p.Sets, Drives: p.Drives, Parity: p.Parity, TotalBytes: p.Total, FreeBytes: p.Free,
			Draining: p.Draining, State: poolActive, Endpoints: eps[p.Index]}
		switch {
		case p.Joining:
			ap.State = poolJoining
		case p.Draining:
			ap.State = poolDraining
		}
		if d := p.Decommission; d != nil {
			ap.Decommission = &adminapi.DecommissionStatus{
				Running: d.Running, Complete: d.Complete, ObjectsMoved: d.Objects, VersionsMoved: d.Versions,
				BytesMoved: d.Bytes, Failed: d.Failed, Bucket: d.Bucket, Key: d.Key, Started: d.Started, Error: d.Error,
			}
		}
		out = append(out, ap)
	}
	return out
}

// parsePoolRequest expands and checks the drives of a pool to add.
func (pm *poolManager) parsePoolRequest(req adminapi.AddPoolRequest) ([]endpoint, layout.Layout, error) {
	var all []string
	for _, arg := range req.Drives {
		ds, err := layout.ExpandPool(arg)
		if err != nil {
			return nil, layout.Layout{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
		}
		all = append(all, ds...)
	}
	lay, err := layout.Plan(len(all), req.Parity)
	if err != nil {
		return nil, layout.Layout{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
	}
	eps, err := parseEndpoints(all)
	if err != nil {
		return nil, layout.Layout{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
	}
	if cluster := eps[0].node != ""; cluster != pm.s.cluster {
		if pm.s.cluster {
			return nil, layout.Layout{}, fmt.Errorf("%w: a cluster's drives are http(s)://host:port/path endpoints", admin.ErrInvalidPool)
		}
		return nil, layout.Layout{}, fmt.Errorf("%w: a single node's drives are local paths", admin.ErrInvalidPool)
	}
	for _, op := range pm.opened {
		for _, used := range op.eps {
			for _, e := range eps {
				if e.node == used.node && (e.path == used.path || isWithin(e.path, used.path) || isWithin(used.path, e.path)) {
					return nil, layout.Layout{}, fmt.Errorf("%w: %s overlaps drive %s", admin.ErrPoolInUse, e.raw, used.raw)
				}
			}
		}
	}
	return interleave(eps), lay, nil
}

// AddPool implements admin.PoolManager (see the comment at the top).
func (pm *poolManager) AddPool(ctx context.Context, req adminapi.AddPoolRequest) (adminapi.Pool, error) {
	ctx = context.WithoutCancel(ctx) // a half-done addition must finish or roll back
	held, unlock, err := pm.lock(ctx)
	if err != nil {
		return adminapi.Pool{}, err
	}
	defer unlock()
	pm.catchUpLocked(ctx)
	eps, lay, err := pm.parsePoolRequest(req)
	if err != nil {
		return adminapi.Pool{}, err
	}
	st, err := pm.load(ctx)
	if err != nil {
		return adminapi.Pool{}, err
	}
	idx := 0
	for _, p := range st.Pools {
		idx = max(idx, p.Index+1)
	}
	if pm.afterLoad != nil {
		pm.afterLoad(idx)
	}
	raws := make([]string, len(eps))
	for i, e := range eps {
		raws[i] = e.raw
	}
	st.Pools = append(st.Pools, poolRecord{Index: idx, Drives: raws, Parity: lay.ParityShards, State: poolJoining})
	rollback := func(cause error) (adminapi.Pool, error) {
		// The record goes: nodes drop the pool, and its index is free again.
		st.Pools = slices.DeleteFunc(st.Pools, func(r poolRecord) bool { return r.Index == idx })
		if err := pm.save(ctx, st); err != nil {
			pm.s.cfg.Logger.Error("rolling back a pool addition", "pool", idx, "err", err)
		}
		pm.reloadAll(ctx)
		return adminapi.Pool{}, cause
	}
	if held.Err() != nil {
		return adminapi.Pool{}, errPoolLockLost
	}
	if err := pm.save(ctx, st); err != nil {
		return adminapi.Pool{}, err
	}
	// Every node opens the pool; the owners of its drives must.
	owners := map[string]bool{}
	for _, e := range eps {
		owners[e.node] = true
	}
	for node, err := range pm.reloadAll(ctx) {
		if err != nil && owners[node] {
			return rollback(fmt.Errorf("%w: node %s did not open its drives of the new pool (start it with the cluster's pool arguments plus the new pool): %v", admin.ErrInvalidPool, node, err))
		}
	}
	op := pm.opened[idx]
	if op == nil {
		return rollback(fmt.Errorf("pool %d: drives not opened", idx))
	}
	if err := pm.s.formatPool(ctx, op, idx); err != nil {
		return rollback(fmt.Errorf("%w: %v", admin.ErrInvalidPool, err))
	}
	if err := pm.s.layer.CreateBuckets(ctx, idx); err != nil {
		return rollback(err)
	}
	if held.Err() != nil {
		return rollback(errPoolLockLost)
	}
	st.find(idx).State = poolActive
	if err := pm.save(ctx, st); err != nil {
		return rollback(err)
	}
	pm.reloadAll(ctx)
	for _, p := range pm.describe(ctx, pm.endpointsLocked()) {
		if p.Index == idx {
			return p, nil
		}
	}
	return adminapi.Pool{Index: idx}, nil
}

// Decommission implements admin.PoolManager: record the pool draining with this
// node as the owner of the drain, and make every node apply it.
func (pm *poolManager) Decommission(ctx context.Context, idx int) error {
	ctx = context.WithoutCancel(ctx)
	held, unlock, err := pm.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	pm.catchUpLocked(ctx)
	st, err := pm.load(ctx)
	if err != nil {
		return err
	}
	rec := st.find(idx)
	if rec == nil || rec.State == poolRemoved {
		return fmt.Errorf("%w: %d", objects.ErrPoolNotFound, idx)
	}
	switch rec.State {
	case poolJoining:
		return fmt.Errorf("%w: %d", objects.ErrPoolJoining, idx)
	case poolDraining:
		if rec.Owner != pm.s.cfg.Address && pm.s.cluster {
			// Take the drain over (its owner may be gone for good).
			pm.s.cfg.Logger.Warn("taking over a decommission", "pool", idx, "owner", rec.Owner)
		}
	default:
		active := 0
		for _, p := range st.Pools {
			if p.State == poolActive {
				active++
			}
		}
		if active <= 1 {
			return objects.ErrLastPool
		}
	}
	rec.State, rec.Owner = poolDraining, pm.s.cfg.Address
	if held.Err() != nil {
		return errPoolLockLost
	}
	if err := pm.save(ctx, st); err != nil {
		return err
	}
	if err := pm.applyLocked(ctx); err != nil {
		return err
	}
	pm.broadcast(ctx)
	return nil
}

// Rebalance implements admin.PoolManager: the layer rebalances, owned by this
// node. The start holds the lock of pool changes (not pm.mu: it changes no pool),
// so it measures pools no addition or decommission is changing.
func (pm *poolManager) Rebalance(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	_, unlock, err := pm.s.layer.LockAdmin(ctx, poolLock, poolLockWait)
	if err != nil {
		return err
	}
	defer unlock()
	return pm.s.layer.Rebalance(ctx)
}

// RebalanceStatus implements admin.PoolManager.
func (pm *poolManager) RebalanceStatus(ctx context.Context) (adminapi.RebalanceStatus, error) {
	st, err := pm.s.layer.RebalanceState(ctx)
	if err != nil {
		return adminapi.RebalanceStatus{}, err
	}
	return rebalanceStatus(st), nil
}

// StopRebalance implements admin.PoolManager.
func (pm *poolManager) StopRebalance(ctx context.Context) (adminapi.RebalanceStatus, error) {
	st, err := pm.s.layer.StopRebalance(context.WithoutCancel(ctx))
	if err != nil {
		return adminapi.RebalanceStatus{}, err
	}
	return rebalanceStatus(st), nil
}

func rebalanceStatus(st objects.RebalanceStatus) adminapi.RebalanceStatus {
	out := adminapi.RebalanceStatus{State: st.State, Running: st.Running(), Complete: st.Complete(), Owner: st.Owner,
		Started: st.Started, Updated: st.Updated, ObjectsMoved: st.Objects, VersionsMoved: st.Versions,
		BytesMoved: st.Bytes, Failed: st.Failed, Error: st.Error, Pool: st.Pool, Bucket: st.Bucket, Key: st.Key}
	for _, p := range st.Pools {
		out.Pools = append(out.Pools, adminapi.RebalancePool{Index: p.Index, Bytes: p.Bytes, TargetBytes: p.TargetBytes})
	}
	return out
}

// resumeRebalanceNow resumes the rebalance this node owns (at start; the poll
// retries while it fails).
func (pm *poolManager) resumeRebalanceNow(ctx context.Context) {
	if err := pm.s.layer.ResumeRebalance(ctx); err != nil {
		pm.resumeRebalance.Store(true)
		pm.s.cfg.Logger.Warn("resuming a rebalance (retried)", "err", err)
		return
	}
	pm.resumeRebalance.Store(false)
}

// finished records a drain this node ran to the end: under the lock of pool
// changes, retried until it is had (or the server closes: the drain is then
// finished again, quickly, at the next start).
func (pm *poolManager) finished(idx int) func(error) {
	return func(err error) {
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-pm.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		for {
			_, unlock, err := pm.lock(ctx)
			if err == nil {
				pm.recordRemovedLocked(ctx, idx)
				unlock()
				return
			}
			pm.s.cfg.Logger.Warn("recording a decommissioned pool: waiting for the lock of pool changes", "pool", idx, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// recordRemovedLocked records pool idx removed (the pool lock and pm.mu held).
func (pm *poolManager) recordRemovedLocked(ctx context.Context, idx int) {
	st, lerr := pm.load(ctx)
	if lerr == nil {
		if rec := st.find(idx); rec != nil {
			rec.State = poolRemoved
		}
		lerr = pm.save(ctx, st)
	}
	if op := pm.opened[idx]; lerr == nil && op != nil {
		// The drained pool's own copy says so too: a node whose command line
		// still names it reads pools.json from it first.
		raw, _ := json.Marshal(st)
		if err := pm.s.layer.WriteConfigTo(ctx, op.drives, poolsDoc, raw); err != nil {
			pm.s.cfg.Logger.Warn("recording the decommission on the drained pool", "pool", idx, "err", err)
		}
	}
	if lerr != nil {
		pm.s.cfg.Logger.Error("recording a decommissioned pool", "pool", idx, "err", lerr)
		return
	}
	pm.applyLocked(ctx)
	pm.broadcast(ctx)
}

// reloadAll applies pools.json on this node and on every other node, returning
// each node's result (this node under its own address).
func (pm *poolManager) reloadAll(ctx context.Context) map[string]error {
	res := pm.broadcast(ctx)
	res[pm.s.cfg.Address] = pm.applyLocked(ctx)
	return res
}

// reload applies pools.json (the RPC handler and the poll).
func (pm *poolManager) reload(ctx context.Context) error {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	return pm.applyLocked(ctx)
}

// applyLocked brings this node's pools in line with pools.json.
func (pm *poolManager) applyLocked(ctx context.Context) error {
	raw, st, err := pm.loadRaw(ctx)
	if err != nil {
		return err
	}
	var errs []error
	recorded := map[int]bool{}
	// Pools come in before pools go: removing the command line's only pool
	// needs its successor in place.
	recs := append([]poolRecord(nil), st.Pools...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].State != poolRemoved && recs[j].State == poolRemoved })
	for _, rec := range recs {
		recorded[rec.Index] = true
		if err := pm.applyRecord(ctx, rec); err != nil {
			errs = append(errs, fmt.Errorf("pool %d: %w", rec.Index, err))
		}
	}
	// A pool added without a record left is an addition rolled back.
	for idx := range pm.opened {
		if idx >= pm.cmdline && !recorded[idx] {
			pm.closePool(idx)
		}
	}
	if len(errs) == 0 {
		pm.applied = raw
	}
	return errors.Join(errs...)
}

func (pm *poolManager) applyRecord(ctx context.Context, rec poolRecord) error {
	l := pm.s.layer
	op, open := pm.opened[rec.Index]
	if open && rec.Index >= pm.cmdline && !slices.Equal(raws(op.eps), raws(interleaveRecord(rec))) {
		// The index was reused after a rolled-back addition this node missed.
		pm.closePool(rec.Index)
		open = false
	}
	if rec.State == poolRemoved {
		if open {
			if rec.Index < pm.cmdline {
				// A command-line pool stays opened (its argument is still given)
				// but leaves the layer.
				if err := l.RemovePool(rec.Index); err != nil && !errors.Is(err, objects.ErrPoolNotFound) {
					return err
				}
				return nil
			}
			pm.closePool(rec.Index)
		}
		return nil
	}
	if !open {
		if rec.Index < pm.cmdline {
			return fmt.Errorf("command-line pool not opened")
		}
		eps, err := parseEndpoints(rec.Drives)
		if err != nil {
			return err
		}
		lay, err := layout.Plan(len(eps), rec.Parity)
		if err != nil {
			return err
		}
		op, sets, err := pm.s.openPool(ctx, interleave(eps), lay, rec.Index, rec.State == poolJoining)
		if err != nil {
			return err
		}
		if err := l.AddPool(ctx, rec.Index, sets, lay.ParityShards, objects.AddPoolOptions{Joining: rec.State == poolJoining, NoBuckets: true}); err != nil {
			pm.s.closeDrives(op)
			return err
		}
		pm.opened[rec.Index] = op
	}
	switch rec.State {
	case poolActive:
		return l.ActivatePool(rec.Index)
	case poolDraining:
		if !pm.s.cluster || rec.Owner == pm.s.cfg.Address {
			err := l.Decommission(context.Background(), rec.Index, pm.finished(rec.Index))
			if errors.Is(err, objects.ErrPoolDraining) || errors.Is(err, objects.ErrPoolNotFound) {
				return nil // running already, or done
			}
			return err
		}
		return l.MarkDraining(rec.Index)
	}
	return nil
}

// interleaveRecord is a recorded pool's endpoints in slot order.
func interleaveRecord(rec poolRecord) []endpoint {
	eps, err := parseEndpoints(rec.Drives)
	if err != nil {
		return nil
	}
	return interleave(eps)
}

// closePool drops an admin-added pool from the layer and closes its drives.
func (pm *poolManager) closePool(idx int) {
	if err := pm.s.layer.RemovePool(idx); err != nil && !errors.Is(err, objects.ErrPoolNotFound) {
		pm.s.cfg.Logger.Error("removing a pool", "pool", idx, "err", err)
	}
	if op := pm.opened[idx]; op != nil {
		pm.s.closeDrives(op)
	}
	delete(pm.opened, idx)
}

// nodes is every other node that serves drives of a pool this node knows.
func (pm *poolManager) nodes() []string {
	seen := map[string]bool{pm.s.cfg.Address: true}
	var out []string
	for _, op := range pm.opened {
		for _, e := range op.eps {
			if e.node != "" && !seen[e.node] {
				seen[e.node] = true
				out = append(out, e.node)
			}
		}
	}
	return out
}

// broadcast asks every other node to apply pools.json and waits for the answers.
func (pm *poolManager) broadcast(ctx context.Context) map[string]error {
	res := map[string]error{}
	if !pm.s.cluster {
		return res
	}
	nodes := pm.nodes()
	// A pool being added may name nodes no opened pool has yet.
	if _, st, err := pm.loadRaw(ctx); err == nil {
		seen := map[string]bool{pm.s.cfg.Address: true}
		for _, n := range nodes {
			seen[n] = true
		}
		for _, rec := range st.Pools {
			if rec.State == poolRemoved {
				continue
			}
			eps, _ := parseEndpoints(rec.Drives)
			for _, e := range eps {
				if e.node != "" && !seen[e.node] {
					seen[e.node] = true
					nodes = append(nodes, e.node)
				}
			}
		}
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = pm.s.callReload(ctx, n)
		}()
	}
	wg.Wait()
	for i, n := range nodes {
		res[n] = errs[i]
		if errs[i] != nil {
			pm.s.cfg.Logger.Warn("node did not apply the pool change (it applies pools.json when it starts or polls)", "node", n, "err", errs[i])
		}
	}
	return res
}

// poll re-applies pools.json when it changed (a node that missed a reload).
func (pm *poolManager) poll() {
	t := time.NewTicker(pollPools)
	defer t.Stop()
	for {
		select {
		case <-pm.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), pollPools)
		if pm.resumeRebalance.Load() {
			pm.resumeRebalanceNow(ctx)
		}
		raw, _, err := pm.loadRaw(ctx)
		pm.mu.Lock()
		changed := err == nil && !bytes.Equal(raw, pm.applied)
		pm.mu.Unlock()
		if changed {
			if err := pm.reload(ctx); err != nil {
				pm.s.cfg.Logger.Warn("applying pools.json", "err", err)
			}
		}
		cancel()
	}
}

// The pools RPC: POST /cairn/rpc/v1/pools/reload.
const poolsRPCPath = "/cairn/rpc/v1/pools/reload"

func (s *Server) servePoolsRPC(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Verify(r, s.cfg.Now()); err != nil {
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != poolsRPCPath {
		http.Error(w, "bad rpc path", http.StatusBadRequest)
		return
	}
	if s.pools == nil || s.layer == nil {
		http.Error(w, "node is starting", http.StatusServiceUnavailable)
		return
	}
	if err := s.pools.reload(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) callReload(ctx context.Context, node string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.scheme+node+poolsRPCPath, nil)
	if err != nil {
		return err
	}
	s.auth.Sign(req, s.cfg.Now())
	resp, err := s.rpcClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// openPool opens the drives of pool idx — this node's as local drives (created
// and served over RPC), the others' as remote drives — and cuts them into sets.
// Unless blank is allowed (a joining pool, formatted afterwards), the drives must
// carry this deployment's identity for slot and pool; in a cluster, drives that
// cannot be reached are accepted offline.
func (s *Server) openPool(ctx context.Context, eps []endpoint, lay layout.Layout, idx int, blank bool) (*openedPool, [][]drive.Drive, error) {
	op := &openedPool{eps: eps, lay: lay}
	for _, e := range eps {
		if e.node != "" && e.node != s.cfg.Address {
			op.drives = append(op.drives, s.remoteDrive(e))
			continue
		}
		if err := os.MkdirAll(e.path, 0o755); err != nil {
			s.closeDrives(op)
			return nil, nil, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
		}
		ld, err := drive.OpenLocal(e.path, s.syncGroup)
		if err != nil {
			s.closeDrives(op)
			return nil, nil, err
		}
		ld.EnableIndex(objects.MetaIndex())
		s.addLocal(e.path, ld)
		op.drives = append(op.drives, ld)
	}
	if !blank {
		states := readFormats(ctx, op.drives, raws(eps))
		res, err := layout.ReconcileStates(states, lay, idx)
		switch {
		case err != nil && s.cluster && (errors.Is(err, layout.ErrNoQuorum) || unreachable(states)):
			s.cfg.Logger.Warn("pool drives unreachable; using them once they answer", "pool", idx, "err", err)
		case err != nil:
			s.closeDrives(op)
			return nil, nil, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
		case res.Fresh:
			s.closeDrives(op)
			return nil, nil, fmt.Errorf("pool %d: drives %v are blank; expected a formatted pool", idx, raws(eps))
		default:
			for _, i := range res.ToWrite { // replacements of this node's drives
				if eps[i].node == "" || eps[i].node == s.cfg.Address {
					writeFormat(ctx, op.drives[i], res.Formats[i])
				}
			}
		}
	}
	sets := make([][]drive.Drive, lay.SetCount)
	for i, d := range op.drives {
		set, _ := layout.SetOf(i, lay)
		if _, ok := d.(*drive.Local); ok {
			clearTemp(ctx, d, s.cfg.Logger)
		}
		sets[set] = append(sets[set], s.metrics.WrapDrive(d, idx, set, eps[i].raw))
	}
	return op, sets, nil
}

// formatPool writes the identity of a new pool's drives (through the drive
// interface: a cluster's remote drives over RPC).
func (s *Server) formatPool(ctx context.Context, op *openedPool, idx int) error {
	states := readFormats(ctx, op.drives, raws(op.eps))
	res, err := layout.ReconcileStates(states, op.lay, idx)
	if err != nil {
		return err
	}
	for _, i := range res.ToWrite {
		f := res.Formats[i]
		if res.Fresh {
			f.DeploymentID = s.deploy // the new pool joins this deployment
		}
		if err := writeFormat(ctx, op.drives[i], f); err != nil {
			return fmt.Errorf("drive %s: writing identity: %w", op.eps[i].raw, err)
		}
	}
	for i, f := range res.Formats {
		if f.DeploymentID != "" && f.DeploymentID != s.deploy && !res.Fresh {
			return fmt.Errorf("drive %s belongs to deployment %s, not %s", op.eps[i].raw, f.DeploymentID, s.deploy)
		}
	}
	return nil
}

func raws(eps []endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.raw
	}
	return out
}

func isWithin(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && !filepath.IsAbs(rel) && rel != ".." && len(rel) > 2 && rel[:3] != "../"
}

// healStatus is the admin API's view of background healing.
func (s *Server) healStatus() adminapi.HealStatus {
	h := s.layer.HealStats()
	return adminapi.HealStatus{
		Queued: h.Queued, Backlog: h.Backlog, Healed: h.Healed, Failed: h.Failed,
		ShardsHealed: h.ShardsHealed, BytesHealed: h.BytesHealed, Scanned: h.Scanned,
		ScanCycles: h.ScanCycles, ScanBucket: h.ScanBucket, ScanKey: h.ScanKey,
		LastCycleNanos: int64(h.LastCycleTime),
	}
}
