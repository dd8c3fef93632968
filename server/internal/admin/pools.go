package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	adminapi "github.com/cairn-io/cairn/server/admin"
)

// PoolManager is what the pool routes need from the server.
type PoolManager interface {
	Pools(ctx context.Context) []adminapi.Pool
	AddPool(ctx context.Context, req adminapi.AddPoolRequest) (adminapi.Pool, error)
	Decommission(ctx context.Context, index int) error
	// Rebalance starts moving objects so the active pools hold data in
	// proportion to their capacity; RebalanceStatus reports the last one in the
	// cluster, StopRebalance stops it wherever it runs.
	Rebalance(ctx context.Context) error
	RebalanceStatus(ctx context.Context) (adminapi.RebalanceStatus, error)
	StopRebalance(ctx context.Context) (adminapi.RebalanceStatus, error)
}

// Pool errors a PoolManager wraps; errorResponse maps them.
var (
	ErrInvalidPool = errors.New("admin: invalid pool")          // 400
	ErrPoolInUse   = errors.New("admin: drives already in use") // 409
)

func (h *handler) poolManager() (PoolManager, error) {
	if h.cfg.Pools == nil {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "pool management is not available on this server")
	}
	return h.cfg.Pools, nil
}

func (h *handler) listPools(rq *request) (any, error) {
	pm, err := h.poolManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	return adminapi.PoolList{Pools: pm.Pools(rq.r.Context())}, nil
}

func (h *handler) addPool(rq *request) (any, error) {
	pm, err := h.poolManager()
	if err != nil {
		return nil, err
	}
	var in adminapi.AddPoolRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if len(in.Drives) == 0 {
		return nil, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "drives: at least one drive is needed")
	}
	return pm.AddPool(rq.r.Context(), in)
}

func (h *handler) pool(rq *request) (PoolManager, int, adminapi.Pool, error) {
	pm, err := h.poolManager()
	if err != nil {
		return nil, 0, adminapi.Pool{}, err
	}
	idx, err := strconv.Atoi(rq.params["pool"])
	if err != nil || idx < 0 {
		return nil, 0, adminapi.Pool{}, errorf(http.StatusBadRequest, adminapi.CodeInvalidArgument, "pool: not a pool index")
	}
	for _, p := range pm.Pools(rq.r.Context()) {
		if p.Index == idx {
			return pm, idx, p, nil
		}
	}
	return nil, 0, adminapi.Pool{}, errorf(http.StatusNotFound, adminapi.CodeNoSuchPool, "no pool %d", idx)
}

func (h *handler) getPool(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	_, _, p, err := h.pool(rq)
	return p, err
}

func (h *handler) decommissionPool(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	pm, idx, _, err := h.pool(rq)
	if err != nil {
		return nil, err
	}
	if err := pm.Decommission(rq.r.Context(), idx); err != nil {
		return nil, err
	}
	for _, p := range pm.Pools(rq.r.Context()) {
		if p.Index == idx {
			return p, nil
		}
	}
	return adminapi.Pool{Index: idx, Draining: true}, nil
}

func (h *handler) rebalance(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	pm, err := h.poolManager()
	if err != nil {
		return nil, err
	}
	if err := pm.Rebalance(rq.r.Context()); err != nil {
		return nil, err
	}
	return pm.RebalanceStatus(rq.r.Context())
}

func (h *handler) stopRebalance(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	pm, err := h.poolManager()
	if err != nil {
		return nil, err
	}
	return pm.StopRebalance(rq.r.Context())
}

func (h *handler) rebalanceStatus(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	pm, err := h.poolManager()
	if err != nil {
		return nil, err
	}
	return pm.RebalanceStatus(rq.r.Context())
}

func (h *handler) heal(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	if h.cfg.Heal == nil {
		return adminapi.HealStatus{}, nil
	}
	return h.cfg.Heal(), nil
}

func (h *handler) metricsToken(rq *request) (any, error) {
	if err := noBody(rq); err != nil {
		return nil, err
	}
	if h.cfg.MetricsToken == nil {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "metrics tokens are not available on this server")
	}
	tok, err := h.cfg.MetricsToken(rq.accessKey)
	if err != nil {
		return nil, err
	}
	return adminapi.MetricsToken{Token: tok}, nil
}
