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
	// Pools are the command line's pools, each a list of drives already expanded
	// (see ExpandPools): local directory paths for a single node, or
	// http://host:port/path endpoints for a cluster (every node gets the same
	// lists; see cluster.go). Pools added later live in pools.json (pools.go).
	Pools [][]string
	// Drives, when Pools is empty, is the one pool's drives.
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
	local       map[string]drive.Drive // this node's drives by path (guarded by drivesMu)
	drivesMu    sync.Mutex
	rpcDrives   *drive.RPCHandler // serves the local drives to the other nodes
	auth        rpcauth.Auth      // node-to-node requests
	rpcClient   *http.Client      // remote drives and the pools RPC
	scheme      string            // of node-to-node URLs: http:// or https://
	syncGroup   *drive.SyncGroup  // group-commits the local drives' flushes
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
	drives      []*drive.Local // guarded by drivesMu
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

// ExpandPools turns command-line arguments into pools. As with the drive list of
// earlier versions, arguments without ellipsis patterns ("./d1 ./d2 ./d3 ./d4")
// are all one pool; arguments with patterns are one pool each, and inside one
// argument comma-separated patterns are one pool
// ("http://a:9000/d{1...4},http://b:9000/d{1...4}"). Mixing the two forms is refused.
func ExpandPools(args []string) ([][]string, error) {
	patterned := 0
	for _, a := range args {
		if strings.Contains(a, "...") || strings.Contains(a, ",") {
			patterned++
		}
	}
	if patterned == 0 {
		if len(args) == 0 {
			return nil, errors.New("no drives given")
		}
		return [][]string{append([]string(nil), args...)}, nil
	}
	if patterned != len(args) {
		return nil, errors.New("mix of drive arguments with and without {1...n} patterns: either list every drive of one pool, or give each pool as one argument with patterns")
	}
	var pools [][]string
	for _, a := range args {
		ds, err := layout.ExpandPool(a)
		if err != nil {
			return nil, err
		}
		pools = append(pools, ds)
	}
	return pools, nil
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
	if len(cfg.Pools) == 0 && len(cfg.Drives) > 0 {
		cfg.Pools = [][]string{cfg.Drives}
	}
	specs, err := planPools(cfg.Pools, cfg.Parity)
	if err != nil {
		return nil, err
	}
	cluster := specs[0].eps[0].node != ""
	if cluster && cfg.Listener == nil {
		return nil, errors.New("a cluster node needs its listener before it boots")
	}
	s := &Server{cfg: cfg, layout: specs[0].lay, cluster: cluster}
	s.metrics = newMetrics(cfg, s.metricsKeyToken)
	s.pools = newPoolManager(s)
	s.pools.cmdline = len(specs)
	auth := rpcauth.New(clusterKey(cfg))
	s.initRemote(auth)
	for i := range specs {
		specs[i].drives = s.openEndpoints(specs[i].eps)
	}
	if len(s.local) == 0 {
		s.Close()
		return nil, fmt.Errorf("none of the endpoints belongs to this node (--address %s)", cfg.Address)
	}
	var locker objects.ClusterLocker
	if cluster {
		s.rpc = s.rpcDrives
		var all []endpoint
		for _, sp := range specs {
			all = append(all, sp.eps...)
		}
		table, client := s.clusterLocks(ctx, all, auth)
		s.lockRPC = &dlock.Handler{Table: table, Auth: auth}
		locker = client
		go s.Serve(cfg.Listener) // storage RPC, locks and liveness while booting
	}
	var poolSets [][][]drive.Drive
	var fresh []bool
	for idx, sp := range specs {
		res, err := s.bootFormat(ctx, sp, idx, cluster)
		if err != nil {
			s.Close()
			return nil, err
		}
		if s.deploy == "" {
			for _, f := range res.Formats {
				if f.DeploymentID != "" {
					s.deploy = f.DeploymentID
					break
				}
			}
		}
		for i, f := range res.Formats {
			if !res.Fresh && f.DeploymentID != "" && f.DeploymentID != s.deploy {
				s.Close()
				return nil, fmt.Errorf("pool %d: drive %s belongs to deployment %s, pool 0 to %s", idx, sp.eps[i].raw, f.DeploymentID, s.deploy)
			}
		}
		for _, i := range res.Replaced {
			cfg.Logger.Warn("blank drive accepted as replacement; the scanner rebuilds it", "drive", sp.eps[i].raw)
		}
		offline := map[int]bool{}
		for _, i := range res.Offline {
			offline[i] = true
		}
		sets := make([][]drive.Drive, sp.lay.SetCount)
		for i, d := range sp.drives {
			set, _ := layout.SetOf(i, sp.lay)
			if ld, ok := d.(*drive.Local); ok {
				if offline[i] {
					d = drive.Offline(sp.eps[i].raw)
				} else {
					clearTemp(ctx, ld, cfg.Logger)
				}
			}
			sets[set] = append(sets[set], s.metrics.WrapDrive(d, idx, set, sp.eps[i].raw))
		}
		poolSets = append(poolSets, sets)
		fresh = append(fresh, res.Fresh)
		s.pools.opened[idx] = &openedPool{eps: sp.eps, drives: sp.drives, lay: sp.lay}
	}
	s.layer, err = objects.New(objects.Config{
		Sets: poolSets[0], Parity: specs[0].lay.ParityShards, DeploymentID: s.deploy,
		Now: cfg.Now, Logger: cfg.Logger, BucketCacheTTL: bucketCacheTTL(cluster),
		ClusterLocker: locker, TrashDelay: trashDelay(cluster), Node: cfg.Address,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	for idx := 1; idx < len(specs); idx++ {
		// A pool new on the command line gets the existing buckets from the node
		// that formatted it; failing that, buckets appear on it with their first
		// object.
		if err := s.layer.AddPool(ctx, idx, poolSets[idx], specs[idx].lay.ParityShards, objects.AddPoolOptions{NoBuckets: true}); err != nil {
			s.Close()
			return nil, err
		}
		if fresh[idx] {
			if err := s.layer.CreateBuckets(ctx, idx); err != nil {
				cfg.Logger.Warn("creating the buckets on a new pool", "pool", idx, "err", err)
			}
		}
	}
	if err := s.pools.reload(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("restoring pools: %w", err)
	}
	s.pools.resumeRebalanceNow(ctx)
	if cluster {
		go s.pools.poll()
	}
	s.metrics.Watch(s.layer)
	s.openLifecycle() // installs scanner hooks: before StartBackground
	s.metrics.WatchLifecycle(metrics.Lifecycle{Worker: s.lifecycle.Stats, Tiers: s.layer.TierStats})
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
	var rpc http.Handler // node-to-node: storage, pools, locks
	switch {
	case s.rpc != nil && strings.HasPrefix(r.URL.Path, drive.RPCPrefix):
		rpc = s.rpc
	case s.rpc != nil && strings.HasPrefix(r.URL.Path, poolsRPCPath):
		rpc = http.HandlerFunc(s.servePoolsRPC)
	case s.lockRPC != nil && strings.HasPrefix(r.URL.Path, dlock.RPCPrefix):
		rpc = s.lockRPC
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
	if s.pools != nil {
		s.pools.stopOnce.Do(func() { close(s.pools.stop) })
	}
	if s.layer != nil {
		s.layer.Close()
	}
	s.drivesMu.Lock()
	for _, d := range s.drives {
		d.Close()
	}
	s.drivesMu.Unlock()
	return nil
}
