// Package server is Cairn's object server: the composition root that turns a list of
// drives into a running S3 endpoint. It is the only place where the parts are wired
// together; every part receives what it uses, so tests can run many servers at once.
//
// The data path of a PUT, one package per step (a GET is the same in reverse):
//
//	net/http server
//	  → s3api    route (path-style and virtual-host), decode the request
//	  → sigv4    verify the signature: header, presigned URL, aws-chunked payload
//	  → s3api    handler: options, call the object layer, encode the XML response
//	  → objects  buckets, versions, multipart, listing; pick the erasure set
//	  → erasure  k data + m parity shards per block; write quorum; reconstruct on read
//	  → bitrot   hash-framed shard streams: corruption detected, never served
//	  → drive    local filesystem drive: temp write, group-committed sync, atomic rename
//
// Startup (New): expand nothing (callers pass drive paths), plan the erasure layout
// (package layout), reconcile each drive's identity file, clear temp areas, open the
// drives and build the object layer and the S3 handler.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/s3api"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Config configures a server.
type Config struct {
	// Drives are local directory paths, already expanded (see ExpandDrives).
	Drives []string
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
}

// Server is a running object server's parts. Serve it with Serve or use Handler.
type Server struct {
	cfg     Config
	layout  layout.Layout
	deploy  string
	drives  []*drive.Local
	layer   *objects.Layer
	handler http.Handler
	httpSrv *http.Server
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
	roots := make([]string, len(cfg.Drives))
	for i, d := range cfg.Drives {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("drive %s: %w", d, err)
		}
		roots[i] = abs
	}
	res, err := layout.ReconcileStates(layout.LoadAll(roots), lay, 0)
	if err != nil {
		return nil, err
	}
	for _, i := range res.ToWrite {
		if err := layout.Save(roots[i], res.Formats[i]); err != nil {
			return nil, fmt.Errorf("drive %s: writing identity: %w", roots[i], err)
		}
	}
	for _, i := range res.Replaced {
		cfg.Logger.Warn("blank drive accepted as replacement; it will be filled by healing", "drive", roots[i])
	}
	s := &Server{cfg: cfg, layout: lay}
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
	group := drive.NewSyncGroup()
	sets := make([][]drive.Drive, lay.SetCount)
	for i, root := range roots {
		set, _ := layout.SetOf(i, lay)
		var d drive.Drive
		if !offline[i] {
			ld, err := drive.OpenLocal(root, group)
			if err != nil {
				cfg.Logger.Error("drive offline", "drive", root, "err", err)
			} else {
				clearTemp(ctx, ld, cfg.Logger)
				s.drives = append(s.drives, ld)
				d = ld
			}
		}
		if d == nil {
			d = drive.Offline(root)
		}
		sets[set] = append(sets[set], d)
	}
	s.layer, err = objects.New(objects.Config{
		Sets: sets, Parity: lay.ParityShards, DeploymentID: s.deploy,
		Now: cfg.Now, Logger: cfg.Logger,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	if !cfg.NoBackground {
		s.layer.StartBackground(context.WithoutCancel(ctx), objects.BackgroundOptions{
			ScanRate: cfg.ScanRate, ScanInterval: cfg.ScanInterval,
			DeepEvery: cfg.DeepScanEvery, HealWorkers: cfg.HealWorkers,
		})
	}
	s.handler = s3api.NewHandler(s3api.Config{
		Objects: s.layer,
		Auth: &sigv4.Verifier{
			Creds:  rootCreds{user: cfg.RootUser, password: cfg.RootPassword},
			Region: cfg.Region,
			Now:    cfg.Now,
		},
		Region:  cfg.Region,
		Domains: cfg.Domains,
		Logger:  cfg.Logger,
	})
	return s, nil
}

// clearTemp removes writes a previous process left unfinished.
func clearTemp(ctx context.Context, d drive.Drive, log *slog.Logger) {
	if err := d.Delete(ctx, ".cairn/tmp", true); err != nil {
		log.Warn("clearing temp area", "drive", d.String(), "err", err)
	}
}

type rootCreds struct{ user, password string }

func (c rootCreds) SecretKey(accessKey string) (string, bool) {
	if subtle.ConstantTimeCompare([]byte(accessKey), []byte(c.user)) == 1 {
		return c.password, true
	}
	return "", false
}

// Handler is the S3 HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Layout is the erasure layout the server runs with.
func (s *Server) Layout() layout.Layout { return s.layout }

// Objects is the object layer (for tests and tools in this module).
func (s *Server) Objects() *objects.Layer { return s.layer }

// Serve answers S3 requests on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	err := s.httpSrv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.httpSrv == nil {
		return nil
	}
	return s.httpSrv.Shutdown(ctx)
}

// Close stops serving and releases the drives.
func (s *Server) Close() error {
	if s.httpSrv != nil {
		s.httpSrv.Close()
	}
	if s.layer != nil {
		s.layer.Close()
	}
	for _, d := range s.drives {
		d.Close()
	}
	return nil
}
