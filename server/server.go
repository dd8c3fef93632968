// Package server is Cairn's object server: the composition root that turns a list of
// drives into a running S3 endpoint. It is the only place where the parts are wired
// together; every part receives what it uses, so tests can run many servers at once.
//
// The data path of a PUT, one package per step (a GET is the same in reverse):
//
//	net/http server
//	  → s3api    route (path-style and virtual-host), decode the request
//	  → sigv4    verify the signature: header, presigned URL, aws-chunked payload
//	  → iam      authorize: identity and bucket policies, conditions (iam.go)
//	  → s3api    handler: options, call the object layer, encode the XML response
//	  → sse      (if encryption applies) encrypting reader; data keys from the KMS (kms.go)
//	  → objects  buckets, versions, multipart, listing; pick the erasure set
//	  → erasure  k data + m parity shards per block; write quorum; reconstruct on read
//	  → bitrot   hash-framed shard streams: corruption detected, never served
//	  → drive    local filesystem drive: temp write, group-committed sync, atomic rename
//
// Startup (New): expand nothing (callers pass drive paths), plan the erasure layout
// (package layout), reconcile each drive's identity file, clear temp areas, open the
// drives and build the object layer, the IAM store and the S3 and admin handlers.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/dlock"
	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/metrics"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/rpcauth"
	"github.com/cairn-io/cairn/server/internal/s3api"
	"github.com/cairn-io/cairn/server/internal/sse"
	"github.com/cairn-io/cairn/server/internal/tier"
)

// Config configures a server.
type Config struct {
	// Drives are the pool's drives, already expanded (see ExpandDrives): local
	// directory paths for a single node, or http://host:port/path endpoints for a
	// cluster (every node gets the same list; see cluster.go).
	Drives []string
	// Address is this node's host:port: in a cluster, the endpoints with this
	// host:port are its local drives.
	Address string
	// Listener is required in a cluster: New serves storage RPC on it while the
	// node boots (other nodes need this node's drives to boot too), and Serve
	// continues on it.
	Listener net.Listener
	// ClusterSecret keys node-to-node storage RPC (default: derived from the root
	// credentials).
	ClusterSecret string
	// ClientTLS, when set, makes node-to-node calls use HTTPS with this config.
	ClientTLS *tls.Config
	// PeerTLS, when set, checks the TLS connection of every storage and lock
	// RPC call (certs.Store.VerifyPeer: the calling node's certificate); a call
	// it refuses, or one without TLS, gets 403 and never reaches the handler.
	PeerTLS func(*tls.ConnectionState) error
	// Parity overrides the default parity of the layout (0 = default).
	Parity int
	// RootUser and RootPassword are the root credentials.
	RootUser, RootPassword string
	// Region is the S3 region the server claims (default us-east-1).
	Region string
	// Domains enable virtual-host style requests (bucket.domain).
	Domains []string
	// Logger receives the server's logs (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Scanner and healing (zero values: defaults). ScanRate is in keys per second;
	// DeepScanEvery: every n-th scanner cycle verifies shard contents (0: never).
	ScanRate      float64
	ScanInterval  time.Duration
	DeepScanEvery int
	HealWorkers   int
	// NoBackground disables the scanner and heal workers (tests that need a
	// quiet store).
	NoBackground bool
	// Metrics configures GET /metrics (see MetricsConfig).
	Metrics MetricsConfig
	// Version is reported by the admin API (GET /cairn/admin/v1/info); "" = "dev".
	Version string
	// KMS configures server-side encryption (see KMSConfig in kms.go).
	KMS KMSConfig
}

// Server is a running object server's parts. Serve it with Serve or use Handler.
type Server struct {
	cfg         Config
	local       map[string]drive.Drive // this node's drives by path, served over RPC
	app         atomic.Pointer[http.Handler]
	rpc         http.Handler
	lockRPC     http.Handler
	lockState   drive.Drive   // where a cluster node records a clean stop
	cluster     bool          // http:// endpoints: several nodes
	rewrapState rewrapState   // re-wrap of object keys after a KMS key rotation (rewrap.go)
	pools       *poolManager  // pools beyond the command line's (pools.go)
	mu          sync.Mutex    // guards httpSrv
	served      chan struct{} // closed when Serve returns
	layout      layout.Layout
	deploy      string
	drives      []*drive.Local
	layer       *objects.Layer
	handler     http.Handler
	httpSrv     *http.Server
	metrics     *metrics.Metrics
	iam         *iam.Store      // users, groups, policies, access keys (iam.go)
	authz       *iam.Authorizer // decides every S3 and admin request
	stopIAM     func()          // stops a cluster node's IAM refresh; nil otherwise
	kms         kms.KMS         // nil without a KMS (kms.go)
	sse         *sse.Service    // server-side encryption (kms.go)

	// Lifecycle rules (on the scanner) and the remote tiers they name (lifecycle.go).
	lifecycle *lifecycle.Worker
	tiers     *tier.Store
}

// ExpandDrives expands ellipsis patterns ("./data/d{1...6}") in drive arguments.
func ExpandDrives(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		ds, err := layout.ExpandPool(a)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// Credential rules for root credentials.
const (
	MinUserLen     = 3
	MinPasswordLen = 8
)

// CheckCredentials refuses missing or weak root credentials.
func CheckCredentials(user, password string) error {
	if len(user) < MinUserLen {
		return fmt.Errorf("root user must be at least %d characters (set CAIRN_ROOT_USER)", MinUserLen)
	}
	if len(password) < MinPasswordLen {
		return fmt.Errorf("root password must be at least %d characters (set CAIRN_ROOT_PASSWORD)", MinPasswordLen)
	}
	return nil
}

// New prepares the drives and builds the server. It does not listen.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := CheckCredentials(cfg.RootUser, cfg.RootPassword); err != nil {
		return nil, err
	}
	if len(cfg.Drives) == 0 {
		return nil, errors.New("no drives given")
	}
	lay, err := layout.Plan(len(cfg.Drives), cfg.Parity)
	if err != nil {
		return nil, err
	}
	eps, err := parseEndpoints(cfg.Drives)
	if err != nil {
		return nil, err
	}
	cluster := eps[0].node != ""
	if cluster && cfg.Listener == nil {
		return nil, errors.New("a cluster node needs its listener before it boots")
	}
	eps = interleave(eps)
	s := &Server{cfg: cfg, layout: lay, cluster: cluster}
	s.metrics = newMetrics(cfg, s.metricsKeyToken)
	auth := rpcauth.New(clusterKey(cfg))
	drives, err := s.openEndpoints(eps, auth)
	if err != nil {
		s.Close()
		return nil, err
	}
	var locker objects.ClusterLocker
	if cluster {
		s.rpc = &drive.RPCHandler{Drives: s.local, Auth: auth, Now: cfg.Now}
		table, client := s.clusterLocks(ctx, eps, auth)
		s.lockRPC = &dlock.Handler{Table: table, Auth: auth}
		locker = client
		go s.Serve(cfg.Listener) // storage RPC, locks and liveness while booting
	}
	var res layout.Result
	for {
		res, err = s.formatDrives(ctx, drives, eps, lay, cluster)
		if err == nil {
			break
		}
		if !errors.Is(err, errNotYet) {
			s.Close()
			return nil, err
		}
		cfg.Logger.Info("waiting for the other nodes", "reason", err)
		select {
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("booting: %w (last: %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
	for _, i := range res.Replaced {
		cfg.Logger.Warn("blank drive accepted as replacement; the scanner rebuilds it", "drive", eps[i].raw)
	}
	for _, f := range res.Formats {
		if f.DeploymentID != "" {
			s.deploy = f.DeploymentID
			break
		}
	}
	offline := map[int]bool{}
	for _, i := range res.Offline {
		offline[i] = true
	}
	sets := make([][]drive.Drive, lay.SetCount)
	for i, d := range drives {
		set, _ := layout.SetOf(i, lay)
		if ld, ok := d.(*drive.Local); ok {
			if offline[i] {
				d = drive.Offline(eps[i].raw)
			} else {
				clearTemp(ctx, ld, cfg.Logger)
			}
		}
		sets[set] = append(sets[set], s.metrics.WrapDrive(d, 0, set, eps[i].raw))
	}
	s.layer, err = objects.New(objects.Config{
		Sets: sets, Parity: lay.ParityShards, DeploymentID: s.deploy,
		Now: cfg.Now, Logger: cfg.Logger, BucketCacheTTL: bucketCacheTTL(cluster),
		ClusterLocker: locker, TrashDelay: trashDelay(cluster),
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.pools = &poolManager{s: s}
	if !cluster {
		if err := s.restorePools(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("restoring pools: %w", err)
		}
	}
	s.metrics.Watch(s.layer)
	s.openLifecycle() // installs scanner hooks: before StartBackground
	if !cfg.NoBackground {
		s.layer.StartBackground(context.WithoutCancel(ctx), objects.BackgroundOptions{
			ScanRate: cfg.ScanRate, ScanInterval: cfg.ScanInterval,
			DeepEvery: cfg.DeepScanEvery, HealWorkers: cfg.HealWorkers,
		})
	}
	verifier, err := s.openIAM(ctx, cluster)
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openKMS(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.handler = s.metrics.Mount(s.withAdmin(verifier, s3api.NewHandler(s3api.Config{
		Objects:    s.layer,
		Auth:       verifier,
		Authorize:  s.authz.Authorize,
		Region:     cfg.Region,
		Domains:    cfg.Domains,
		Logger:     cfg.Logger,
		Observer:   s.metrics.S3(),
		SSE:        s.sse,
		TierExists: s.tiers.Exists,
	})))
	s.app.Store(&s.handler)
	return s, nil
}

// ServeHTTP routes storage RPC to the local drives and everything else to the S3
// handler, or answers 503 while the node boots.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rpc := s.rpc
	if rpc == nil || !strings.HasPrefix(r.URL.Path, drive.RPCPrefix) {
		rpc = nil
		if s.lockRPC != nil && strings.HasPrefix(r.URL.Path, dlock.RPCPrefix) {
			rpc = s.lockRPC
		}
	}
	if rpc != nil {
		if s.cfg.PeerTLS != nil {
			err := errors.New("node-to-node calls need TLS")
			if r.TLS != nil {
				err = s.cfg.PeerTLS(r.TLS)
			}
			if err != nil {
				s.cfg.Logger.Warn("refused a node-to-node call", "from", r.RemoteAddr, "err", err)
				drive.Refuse(w, err)
				return
			}
		}
		rpc.ServeHTTP(w, r)
		return
	}
	if h := s.app.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/cairn/health/live" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>ServiceUnavailable</Code><Message>The node is starting: waiting for the other nodes of the cluster.</Message></Error>`)
	}
}

// bucketCacheTTL: a cluster node re-reads bucket configuration after a second,
// since its peers may have changed it (until peers notify each other).
func bucketCacheTTL(cluster bool) time.Duration {
	if cluster {
		return time.Second
	}
	return 0
}

// trashDelay: in a cluster, replaced data outlives its replacement by 15 minutes, for
// GETs on other nodes that resolved the old version (reads lock on their node only).
func trashDelay(cluster bool) time.Duration {
	if cluster {
		return 15 * time.Minute
	}
	return 0
}

// clearTemp removes writes a previous process left unfinished.
func clearTemp(ctx context.Context, d drive.Drive, log *slog.Logger) {
	if err := d.Delete(ctx, ".cairn/tmp", true); err != nil {
		log.Warn("clearing temp area", "drive", d.String(), "err", err)
	}
}

// Handler is the S3 HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Layout is the erasure layout the server runs with.
func (s *Server) Layout() layout.Layout { return s.layout }

// Objects is the object layer (for tests and tools in this module).
func (s *Server) Objects() *objects.Layer { return s.layer }

// IAM is the IAM store (for tests and tools in this module).
func (s *Server) IAM() *iam.Store { return s.iam }

// Serve answers S3 requests on ln until Shutdown or Close. A cluster node already
// serves its Config.Listener from New; Serve then waits for it to stop.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.httpSrv != nil {
		done := s.served
		s.mu.Unlock()
		<-done
		return nil
	}
	s.served = make(chan struct{})
	defer close(s.served)
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	srv := s.httpSrv
	s.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err == nil {
		s.markCleanStop()
	}
	return err
}

// Close stops serving and releases the drives.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	if s.metrics != nil {
		s.metrics.Close() // stops a usage scan before the layer goes
	}
	if s.stopIAM != nil {
		s.stopIAM()
	}
	if s.layer != nil {
		s.layer.Close()
	}
	for _, d := range s.drives {
		d.Close()
	}
	return nil
}
