package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/admin"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// Pools beyond the command line's. The command line names pool 0; pools added
// through the admin API, and the state of every pool (active, draining, removed),
// are recorded in the cluster configuration document pools.json, so a restart with
// the same command line comes back with the same pools:
//
//	{"pools":[{"index":0,"state":"removed"},{"index":1,"drives":["/mnt/new/d1",…],"parity":2,"state":"active"}]}
//
// Adding and draining pools is single-node for now: a cluster refuses it (its
// other nodes would have to learn the new layout too).

const poolsDoc = "pools.json"

type poolRecord struct {
	Index  int      `json:"index"`
	Drives []string `json:"drives,omitempty"` // empty for the command line's pool
	Parity int      `json:"parity,omitempty"`
	State  string   `json:"state"` // active, draining, removed
}

type poolsState struct {
	Pools []poolRecord `json:"pools"`
}

// poolManager implements admin.PoolManager for a Server.
type poolManager struct {
	s  *Server
	mu sync.Mutex // serializes changes to pools.json
}

var _ admin.PoolManager = (*poolManager)(nil)

func (pm *poolManager) load(ctx context.Context) (poolsState, error) {
	raw, err := pm.s.layer.ReadConfig(ctx, poolsDoc)
	if errors.Is(err, objects.ErrConfigNotFound) {
		return poolsState{Pools: []poolRecord{{Index: 0, State: "active"}}}, nil
	}
	if err != nil {
		return poolsState{}, err
	}
	var st poolsState
	if err := json.Unmarshal(raw, &st); err != nil {
		return poolsState{}, fmt.Errorf("%s: %w", poolsDoc, err)
	}
	return st, nil
}

func (pm *poolManager) save(ctx context.Context, st poolsState) error {
	raw, _ := json.Marshal(st)
	return pm.s.layer.WriteConfig(ctx, poolsDoc, raw)
}

func (pm *poolManager) setState(ctx context.Context, idx int, state string) error {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	st, err := pm.load(ctx)
	if err != nil {
		return err
	}
	for i := range st.Pools {
		if st.Pools[i].Index == idx {
			st.Pools[i].State = state
		}
	}
	return pm.save(ctx, st)
}

// Pools implements admin.PoolManager.
func (pm *poolManager) Pools(ctx context.Context) []adminapi.Pool {
	var out []adminapi.Pool
	for _, p := range pm.s.layer.Pools(ctx) {
		ap := adminapi.Pool{Index: p.Index, Sets: p.Sets, Drives: p.Drives, Parity: p.Parity, TotalBytes: p.Total, FreeBytes: p.Free, Draining: p.Draining}
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

// AddPool implements admin.PoolManager: format the new drives as the next pool of
// this deployment and add them to the running layer.
func (pm *poolManager) AddPool(ctx context.Context, req adminapi.AddPoolRequest) (adminapi.Pool, error) {
	if pm.s.cluster {
		return adminapi.Pool{}, fmt.Errorf("%w: adding pools to a multi-node cluster is not supported yet", admin.ErrInvalidPool)
	}
	drives, err := ExpandDrives(req.Drives)
	if err != nil {
		return adminapi.Pool{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
	}
	lay, err := layout.Plan(len(drives), req.Parity)
	if err != nil {
		return adminapi.Pool{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
	}
	inUse := map[string]bool{}
	for _, d := range pm.s.drives {
		inUse[d.Root()] = true
	}
	for i, d := range drives {
		abs, err := filepath.Abs(d)
		if err != nil {
			return adminapi.Pool{}, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
		}
		for used := range inUse {
			if abs == used || isWithin(abs, used) || isWithin(used, abs) {
				return adminapi.Pool{}, fmt.Errorf("%w: %s overlaps drive %s", admin.ErrPoolInUse, d, used)
			}
		}
		drives[i] = abs
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	st, err := pm.load(ctx)
	if err != nil {
		return adminapi.Pool{}, err
	}
	idx := 0
	for _, p := range st.Pools {
		idx = max(idx, p.Index+1)
	}
	sets, err := pm.s.openPool(ctx, drives, lay, idx, true)
	if err != nil {
		return adminapi.Pool{}, err
	}
	if err := pm.s.layer.AddPool(ctx, idx, sets, lay.ParityShards); err != nil {
		return adminapi.Pool{}, err
	}
	st.Pools = append(st.Pools, poolRecord{Index: idx, Drives: drives, Parity: lay.ParityShards, State: "active"})
	if err := pm.save(ctx, st); err != nil {
		return adminapi.Pool{}, err
	}
	for _, p := range pm.Pools(ctx) {
		if p.Index == idx {
			return p, nil
		}
	}
	return adminapi.Pool{Index: idx}, nil
}

// Decommission implements admin.PoolManager.
func (pm *poolManager) Decommission(ctx context.Context, idx int) error {
	if pm.s.cluster {
		return fmt.Errorf("%w: decommissioning pools of a multi-node cluster is not supported yet", admin.ErrInvalidPool)
	}
	if err := pm.s.layer.Decommission(context.WithoutCancel(ctx), idx, pm.finished(idx)); err != nil {
		return err
	}
	return pm.setState(ctx, idx, "draining")
}

func (pm *poolManager) finished(idx int) func(error) {
	return func(err error) {
		if err == nil {
			if err := pm.setState(context.Background(), idx, "removed"); err != nil {
				pm.s.cfg.Logger.Error("recording a decommissioned pool", "pool", idx, "err", err)
			}
		}
	}
}

// openPool opens (and with format, formats) the local drives of pool idx and cuts
// them into sets.
func (s *Server) openPool(ctx context.Context, drives []string, lay layout.Layout, idx int, format bool) ([][]drive.Drive, error) {
	group := drive.NewSyncGroup()
	opened := make([]drive.Drive, len(drives))
	for i, d := range drives {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
		}
		ld, err := drive.OpenLocal(d, group)
		if err != nil {
			return nil, err
		}
		s.drives = append(s.drives, ld)
		opened[i] = ld
	}
	states := readFormats(ctx, opened, drives)
	res, err := layout.ReconcileStates(states, lay, idx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", admin.ErrInvalidPool, err)
	}
	if res.Fresh && !format {
		return nil, fmt.Errorf("pool %d: drives %v are blank; expected a formatted pool", idx, drives)
	}
	for _, i := range res.ToWrite {
		f := res.Formats[i]
		if res.Fresh {
			f.DeploymentID = s.deploy // the new pool joins this deployment
		}
		if err := writeFormat(ctx, opened[i], f); err != nil {
			return nil, err
		}
	}
	sets := make([][]drive.Drive, lay.SetCount)
	for i, d := range opened {
		set, _ := layout.SetOf(i, lay)
		clearTemp(ctx, d, s.cfg.Logger)
		sets[set] = append(sets[set], s.metrics.WrapDrive(d, idx, set, drives[i]))
	}
	return sets, nil
}

// restorePools brings back, at start, the pools recorded in pools.json.
func (s *Server) restorePools(ctx context.Context) error {
	pm := s.pools
	st, err := pm.load(ctx)
	if err != nil {
		return err
	}
	for _, rec := range st.Pools {
		if rec.Index == 0 || rec.State == "removed" {
			continue
		}
		lay, err := layout.Plan(len(rec.Drives), rec.Parity)
		if err != nil {
			return err
		}
		sets, err := s.openPool(ctx, rec.Drives, lay, rec.Index, false)
		if err != nil {
			return fmt.Errorf("pool %d: %w", rec.Index, err)
		}
		if err := s.layer.AddPool(ctx, rec.Index, sets, lay.ParityShards); err != nil {
			return fmt.Errorf("pool %d: %w", rec.Index, err)
		}
	}
	for _, rec := range st.Pools {
		if rec.Index == 0 && rec.State == "removed" {
			if err := s.layer.RemovePool(0); err != nil {
				return err
			}
		}
	}
	s.layer.ResumeDecommission(ctx, func(idx int, err error) { pm.finished(idx)(err) })
	return nil
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
