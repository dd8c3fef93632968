package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-io/cairn/server/internal/admin"
	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/tier"
)

// Lifecycle and tiers: the lifecycle worker rides on the object layer's scanner
// (its hooks must be installed before StartBackground); the tier store keeps the
// remote tiers that lifecycle Transitions name, in the cluster configuration,
// credentials sealed with the root password.

// openLifecycle builds the tier store and the lifecycle worker and installs the
// worker's scanner hooks. Call it after the object layer exists and before
// StartBackground.
func (s *Server) openLifecycle() {
	s.tiers = tier.NewStore(s.layer, tier.StoreOptions{
		RootSecret: s.cfg.RootPassword,
		NotFound:   func(err error) bool { return errors.Is(err, objects.ErrConfigNotFound) },
	})
	s.layer.SetTiers(layerTiers{s.tiers})
	s.lifecycle = lifecycle.NewWorker(lifecycle.WorkerConfig{Objects: s.layer, Now: s.cfg.Now, Logger: s.cfg.Logger})
	s.layer.SetScanHooks(s.lifecycle.Hooks())
}

// layerTiers is the object layer's view of the tier store: the client of a
// tier and its KeepRemote setting.
type layerTiers struct{ store *tier.Store }

var _ objects.Tiers = layerTiers{}

func (t layerTiers) Tier(ctx context.Context, name string) (objects.RemoteTier, bool, error) {
	cfg, err := t.store.Get(ctx, name)
	if err != nil {
		return nil, false, err
	}
	c, err := t.store.Tier(ctx, name)
	if err != nil {
		return nil, false, err
	}
	return c, cfg.KeepRemote, nil
}

// Lifecycle is the lifecycle worker (for tests and metrics in this module).
func (s *Server) Lifecycle() *lifecycle.Worker { return s.lifecycle }

// Tiers is the remote tier store (for tests and tools in this module).
func (s *Server) Tiers() *tier.Store { return s.tiers }

// tierAdmin is the admin API's view of the tier store: Remove refuses a tier
// that a bucket's lifecycle configuration still names.
func (s *Server) tierAdmin() admin.TierManager { return tierAdmin{s.tiers, s.layer} }

type tierAdmin struct {
	*tier.Store
	layer *objects.Layer
}

func (t tierAdmin) Remove(ctx context.Context, name string) error {
	buckets, err := t.layer.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		bc, err := t.layer.BucketConfig(ctx, b.Name)
		if err != nil || bc.Lifecycle == "" {
			continue
		}
		cfg, err := lifecycle.Parse([]byte(bc.Lifecycle), lifecycle.Options{})
		if err != nil {
			continue
		}
		if cfg.NamesTier(name) {
			return fmt.Errorf("%w: bucket %s has lifecycle rules that transition to %s", tier.ErrInUse, b.Name, name)
		}
	}
	return t.Store.Remove(ctx, name)
}
