package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	adminapi "github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/internal/admin"
	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Identity and access: the IAM store (users, groups, policies, access keys, kept
// in the object layer's configuration documents), the authorizer every S3 and
// admin request passes after its signature is verified, and the admin API, which
// is mounted at adminapi.PathPrefix in front of the S3 handler.

// iamRefreshInterval is how often a cluster node re-reads IAM documents that
// other nodes may have changed.
const iamRefreshInterval = 5 * time.Second

// openIAM loads the IAM store and builds the authorizer and the request verifier
// (whose credentials are root plus the store's usable access keys).
func (s *Server) openIAM(ctx context.Context, cluster bool) (*sigv4.Verifier, error) {
	store, err := iam.Open(ctx, iam.Config{
		Backend:       s.layer,
		RootAccessKey: s.cfg.RootUser,
		RootSecretKey: s.cfg.RootPassword,
		Now:           s.cfg.Now,
		Logger:        s.cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	s.iam = store
	s.authz = iam.NewAuthorizer(store, s.layer, s.cfg.Now)
	if cluster {
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.stopIAM = cancel
		go store.RefreshEvery(rctx, iamRefreshInterval)
	}
	return &sigv4.Verifier{Creds: store, Region: s.cfg.Region, Now: s.cfg.Now}, nil
}

// withAdmin answers path-style requests under the admin prefix with the admin
// API and everything else with next. A virtual-host request
// (bucket.<domain>/cairn/admin/…) addresses an object and goes to next.
func (s *Server) withAdmin(v *sigv4.Verifier, next http.Handler) http.Handler {
	ah := admin.NewHandler(admin.Config{
		Store: s.iam, Authorizer: s.authz, Auth: v, Logger: s.cfg.Logger, Info: s.adminInfo, Pools: s.pools, Heal: s.healStatus, MetricsToken: s.mintMetricsToken,
		KMS: s.KMSKeys(), Tiers: s.tierAdmin(),
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/cairn/admin/") && !isVirtualHost(r.Host, s.cfg.Domains) {
			ah.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isVirtualHost reports whether host is <bucket>.<one of domains>.
func isVirtualHost(host string, domains []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, d := range domains {
		d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
		if d != "" && strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// adminInfo describes the server for GET /cairn/admin/v1/info.
func (s *Server) adminInfo(ctx context.Context) adminapi.ServerInfo {
	info := adminapi.ServerInfo{
		Version: s.cfg.Version, DeploymentID: s.deploy, Region: s.cfg.Region,
		Layout: adminapi.Layout{
			Sets: s.layout.SetCount, DrivesPerSet: s.layout.SetSize,
			DataShards: s.layout.DataShards, ParityShards: s.layout.ParityShards,
		},
		Drives: []adminapi.Drive{},
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	for _, st := range s.layer.Sets() {
		for _, d := range st.Drives {
			ad := adminapi.Drive{Path: d.String(), Pool: st.Pool, Set: st.Index, State: "offline"}
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if di, err := d.Info(ictx); err == nil && di.Online {
				ad.State, ad.TotalBytes, ad.FreeBytes = "ok", di.Total, di.Free
				info.TotalBytes += di.Total
				info.FreeBytes += di.Free
				frac := float64(st.Data) / float64(st.Data+st.Parity)
				info.UsableTotalBytes += uint64(float64(di.Total) * frac)
				info.UsableFreeBytes += uint64(float64(di.Free) * frac)
			}
			cancel()
			info.Drives = append(info.Drives, ad)
		}
	}
	if s.pools != nil {
		info.Pools = s.pools.Pools(ctx)
	}
	return info
}
