// Package servertest starts real, in-process Cairn servers for tests, the way
// net/http/httptest starts HTTP servers: temp-dir drives, a loopback listener, root
// credentials, all torn down by t.Cleanup. Every test can have its own server and run
// in parallel with the others.
package servertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server"
)

// Options configure a test server. The zero value is a 4+2 set on six drives.
type Options struct {
	Drives int    // number of drives (default 6)
	Parity int    // 0 = default for the layout
	Domain string // enables virtual-host style for <bucket>.<Domain>
	// Dir holds the drives (default a t.TempDir()); reuse it to restart on the same data.
	Dir string
	// KMS configures server-side encryption (zero: SSE-C only).
	KMS server.KMSConfig
	// Now is the server's clock (default time.Now): object times and lifecycle
	// rules follow it, so a test can move time forward.
	Now func() time.Time
	// ScanInterval and ScanRate tune the background scanner (zero: the server's
	// defaults); lifecycle tests run it often and fast.
	ScanInterval time.Duration
	ScanRate     float64
}

// Server is a running test server.
type Server struct {
	URL       string // http://127.0.0.1:port
	Addr      string
	AccessKey string
	SecretKey string
	Region    string
	Drives    []string // drive directories
	Server    *server.Server
	ln        net.Listener
}

// Root credentials of every test server.
const (
	AccessKey = "cairn-test-root"
	SecretKey = "cairn-test-root-secret"
)

// New starts a server and registers its shutdown with t.Cleanup.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Drives == 0 {
		opts.Drives = 6
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	var drives []string
	for i := 1; i <= opts.Drives; i++ {
		d := filepath.Join(opts.Dir, fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		drives = append(drives, d)
	}
	cfg := server.Config{Drives: drives, Parity: opts.Parity, RootUser: AccessKey, RootPassword: SecretKey, KMS: opts.KMS}
	cfg.Now, cfg.ScanInterval, cfg.ScanRate = opts.Now, opts.ScanInterval, opts.ScanRate
	if opts.Domain != "" {
		cfg.Domains = []string{opts.Domain}
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(),
		AccessKey: AccessKey, SecretKey: SecretKey, Region: "us-east-1",
		Drives: drives, Server: srv, ln: ln,
	}
	go srv.Serve(ln)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server (idempotent).
func (s *Server) Close() { s.Server.Close() }

// Client returns an aws-sdk-go-v2 S3 client for the server, path-style unless
// virtualHost is set. Extra option functions apply last.
func (s *Server) Client(optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.URL),
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle: true,
		HTTPClient:   &http.Client{},
	}, optFns...)
}
