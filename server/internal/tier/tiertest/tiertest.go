// Package tiertest starts real remote stores for tier tests: a second Cairn
// (the S3 tier), fake-gcs-server (GCS) and Azurite (Azure Blob), each behind a
// TCP proxy the test can cut and restore, so "the tier goes down" and "the tier
// comes back" are one call each and the store keeps its data.
//
// fake-gcs-server is found on PATH, in $GOBIN, $GOPATH/bin or ~/go/bin
// (go install github.com/fsouza/fake-gcs-server@latest); azurite-blob on PATH,
// in $CAIRN_AZURITE_DIR/node_modules/.bin or ~/.cache/cairn-azurite/
// node_modules/.bin. A missing tool skips the test, or fails it when CI is set.
package tiertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/option"

	"github.com/cairn-io/cairn/server/internal/tier"
	"github.com/cairn-io/cairn/server/servertest"
)

// Peer is a running remote store with a bucket (container) for a tier.
type Peer struct {
	Name   string      // "s3-cairn", "gcs-fake-gcs-server", "azure-azurite"
	Config tier.Config // a tier on this peer, through the proxy
	proxy  *Proxy
}

// Stop cuts the peer off: connections are closed and new ones refused.
func (p *Peer) Stop() { p.proxy.Stop() }

// Start makes the peer reachable again, with the data it had.
func (p *Peer) Start() { p.proxy.Start() }

// Peers are the constructors of every peer, by name.
var Peers = []struct {
	Name  string
	Start func(t *testing.T, tierName string) *Peer
}{
	{"s3-cairn", Cairn},
	{"gcs-fake-gcs-server", GCS},
	{"azure-azurite", Azure},
}

// Cairn starts a second Cairn server (one drive) as an S3 tier.
func Cairn(t *testing.T, tierName string) *Peer {
	t.Helper()
	srv := servertest.New(t, servertest.Options{Drives: 1})
	if _, err := srv.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("tier-bucket")}); err != nil {
		t.Fatal(err)
	}
	px := NewProxy(t, srv.Addr)
	return &Peer{Name: "s3-cairn", proxy: px, Config: tier.Config{
		Name: tierName, Type: tier.TypeS3, Endpoint: "http://" + px.Addr, Bucket: "tier-bucket", Prefix: "cold/",
		Credentials: tier.Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey},
	}}
}

// GCS starts fake-gcs-server (in memory) as a GCS tier.
func GCS(t *testing.T, tierName string) *Peer {
	t.Helper()
	home, _ := os.UserHomeDir()
	bin := NeedBinary(t, "fake-gcs-server", os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(home, "go", "bin"))
	port := FreePort(t)
	target := "127.0.0.1:" + strconv.Itoa(port)
	px := newProxyAt(t, target)
	// Resumable uploads answer with URLs on -public-host: the proxy's address.
	startProc(t, bin, target, "-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
		"-public-host", px.Addr, "-backend", "memory", "-log-level", "error")
	px.Start()
	endpoint := "http://" + px.Addr
	client, err := storage.NewClient(context.Background(), option.WithEndpoint(endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Bucket("tier-bucket").Create(context.Background(), "test-project", nil); err != nil {
		t.Fatal(err)
	}
	return &Peer{Name: "gcs-fake-gcs-server", proxy: px, Config: tier.Config{
		Name: tierName, Type: tier.TypeGCS, Endpoint: endpoint, Bucket: "tier-bucket", Prefix: "cold",
	}}
}

// Azurite's well-known development account.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azure starts Azurite's blob service (in memory) as an Azure tier.
func Azure(t *testing.T, tierName string) *Peer {
	t.Helper()
	home, _ := os.UserHomeDir()
	dirs := []string{filepath.Join(home, ".cache", "cairn-azurite", "node_modules", ".bin")}
	if d := os.Getenv("CAIRN_AZURITE_DIR"); d != "" {
		dirs = append([]string{filepath.Join(d, "node_modules", ".bin")}, dirs...)
	}
	bin := NeedBinary(t, "azurite-blob", dirs...)
	port := FreePort(t)
	target := "127.0.0.1:" + strconv.Itoa(port)
	startProc(t, bin, target, "--skipApiVersionCheck", "--inMemoryPersistence", "--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(port), "--silent", "--loose")
	px := NewProxy(t, target)
	endpoint := "http://" + px.Addr + "/" + AzuriteAccount
	cred, err := azblob.NewSharedKeyCredential(AzuriteAccount, AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential(endpoint, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(context.Background(), "tier-bucket", nil); err != nil {
		t.Fatal(err)
	}
	return &Peer{Name: "azure-azurite", proxy: px, Config: tier.Config{
		Name: tierName, Type: tier.TypeAzure, Endpoint: endpoint, Bucket: "tier-bucket", Prefix: "cold/",
		Credentials: tier.Credentials{AccountName: AzuriteAccount, AccountKey: AzuriteKey},
	}}
}

// NeedBinary finds a tool on PATH or in dirs; it skips the test when missing,
// or fails it when CI is set.
func NeedBinary(t *testing.T, name string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required when CI is set (.ci/run installs it)", name)
	}
	t.Skipf("%s is not installed (see .ci/run)", name)
	return ""
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProc runs a peer process until the test ends and waits until it listens.
func startProc(t *testing.T, bin, addr string, args ...string) {
	t.Helper()
	var mu sync.Mutex
	var out []byte
	cmd := exec.Command(bin, args...)
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		out = append(out, p...)
		mu.Unlock()
		return len(p), nil
	})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("output of %s:\n%s", filepath.Base(bin), out)
			mu.Unlock()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited while starting", bin)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within a minute", bin, addr)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Proxy forwards a listening address to a target. Stop closes the listener and
// every connection; Start listens again on the same address.
type Proxy struct {
	Addr   string
	t      *testing.T
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

// NewProxy starts a proxy to target, stopped at the end of the test.
func NewProxy(t *testing.T, target string) *Proxy {
	p := newProxyAt(t, target)
	p.Start()
	return p
}

func newProxyAt(t *testing.T, target string) *Proxy {
	p := &Proxy{t: t, Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(p.Stop)
	return p
}

// Start listens (again).
func (p *Proxy) Start() {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Stop
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
}

func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add && p.ln == nil {
		return false
	}
	if add {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *Proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, true) || !p.track(up, true) {
		c.Close()
		up.Close()
		return
	}
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
	p.track(c, false)
	p.track(up, false)
}

// Stop closes the listener and every connection.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}
