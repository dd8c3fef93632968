package admin

import (
	"context"
	"errors"
	"net/http"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/tier"
)

// Tier routes: GET/POST /tiers, GET/DELETE /tiers/{tier}, PUT
// /tiers/{tier}/credentials, on Config.Tiers (nil: 501). Credentials go in,
// sealed, and never come out.

// TierManager manages remote tiers (a *tier.Store; the server wraps Remove to
// refuse tiers a lifecycle rule still names).
type TierManager interface {
	List(ctx context.Context) ([]tier.Config, error)
	Get(ctx context.Context, name string) (tier.Config, error)
	Add(ctx context.Context, cfg tier.Config) error
	UpdateCredentials(ctx context.Context, name string, cr tier.Credentials) error
	Remove(ctx context.Context, name string) error
}

func (h *handler) tierManager() (TierManager, error) {
	if h.cfg.Tiers == nil {
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "this server does not manage tiers")
	}
	return h.cfg.Tiers, nil
}

// tierError maps a tier error to an admin API error. Messages name the tier and
// what failed; they never carry credentials.
func tierError(err error) error {
	switch {
	case errors.Is(err, tier.ErrNoSuchTier):
		return errorf(http.StatusNotFound, adminapi.CodeNoSuchTier, "%s", err.Error())
	case errors.Is(err, tier.ErrTierExists):
		return errorf(http.StatusConflict, adminapi.CodeAlreadyExists, "%s", err.Error())
	case errors.Is(err, tier.ErrInUse):
		return errorf(http.StatusConflict, adminapi.CodeTierInUse, "%s", err.Error())
	case errors.Is(err, tier.ErrInvalidConfig):
		return errorf(http.StatusBadRequest, adminapi.CodeInvalidConfig, "%s", err.Error())
	case errors.Is(err, tier.ErrUnusable):
		return errorf(http.StatusBadRequest, adminapi.CodeTierUnusable, "%s", err.Error())
	}
	return err
}

func apiTier(c tier.Config) adminapi.Tier {
	return adminapi.Tier{
		Name: c.Name, Type: string(c.Type), Endpoint: c.Endpoint, Bucket: c.Bucket,
		Prefix: c.Prefix, Region: c.Region, KeepRemote: c.KeepRemote,
	}
}

func tierCredentials(c adminapi.TierCredentials) tier.Credentials {
	return tier.Credentials{
		AccessKey: c.AccessKey, SecretKey: c.SecretKey, ServiceAccountJSON: c.ServiceAccountJSON,
		AccountName: c.AccountName, AccountKey: c.AccountKey,
	}
}

func (h *handler) listTiers(rq *request) (any, error) {
	m, err := h.tierManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	cfgs, err := m.List(rq.r.Context())
	if err != nil {
		return nil, tierError(err)
	}
	out := adminapi.TierList{Tiers: make([]adminapi.Tier, 0, len(cfgs))}
	for _, c := range cfgs {
		out.Tiers = append(out.Tiers, apiTier(c))
	}
	return out, nil
}

func (h *handler) addTier(rq *request) (any, error) {
	m, err := h.tierManager()
	if err != nil {
		return nil, err
	}
	var in adminapi.AddTierRequest
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	cfg := tier.Config{
		Name: in.Name, Type: tier.Type(in.Type), Endpoint: in.Endpoint, Bucket: in.Bucket,
		Prefix: in.Prefix, Region: in.Region, KeepRemote: in.KeepRemote,
		Credentials: tierCredentials(in.Credentials),
	}
	if err := m.Add(rq.r.Context(), cfg); err != nil {
		return nil, tierError(err)
	}
	return apiTier(cfg), nil
}

func (h *handler) getTier(rq *request) (any, error) {
	m, err := h.tierManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	c, err := m.Get(rq.r.Context(), rq.params["tier"])
	if err != nil {
		return nil, tierError(err)
	}
	return apiTier(c), nil
}

func (h *handler) updateTierCredentials(rq *request) (any, error) {
	m, err := h.tierManager()
	if err != nil {
		return nil, err
	}
	var in adminapi.TierCredentials
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	name := rq.params["tier"]
	if err := m.UpdateCredentials(rq.r.Context(), name, tierCredentials(in)); err != nil {
		return nil, tierError(err)
	}
	c, err := m.Get(rq.r.Context(), name)
	if err != nil {
		return nil, tierError(err)
	}
	return apiTier(c), nil
}

func (h *handler) removeTier(rq *request) (any, error) {
	m, err := h.tierManager()
	if err != nil {
		return nil, err
	}
	if err := noBody(rq); err != nil {
		return nil, err
	}
	if err := m.Remove(rq.r.Context(), rq.params["tier"]); err != nil {
		return nil, tierError(err)
	}
	return nil, nil
}
