package tier_test

import (
	"context"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/api/option"

	"github.com/cairn-io/cairn/server/internal/tier"
	"github.com/cairn-io/cairn/server/internal/tier/tiertest"
	"github.com/cairn-io/cairn/server/servertest"
)

// The peers the tier clients are tested against, all real and local, all started
// by the tests: a second Cairn (in-process, behind a proxy the test can cut) for
// S3, fake-gcs-server for GCS and Azurite for Azure Blob. .ci/run installs the
// last two; without CI set a missing one skips its tests. Here the GCS and Azure
// peers keep their data on disk and are stopped and restarted as processes;
// package tiertest has the same peers behind proxies, for the transition tests.

// peer is a running remote store the test can stop and start again at the same
// address, with the data it had.
type peer struct {
	name   string
	cfg    tier.Config // a tier on this peer (bucket created)
	stop   func()
	start  func()
	minPut int64 // the peer's smallest multipart part
}

// proc runs a peer process with output collected for failures.
type proc struct {
	t    *testing.T
	bin  string
	args []string
	addr string
	log  *lockedBuf
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

type lockedBuf struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func startProc(t *testing.T, bin, addr string, args ...string) *proc {
	p := &proc{t: t, bin: bin, args: args, addr: addr, log: &lockedBuf{}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(bin), p.log.String())
		}
	})
	p.start()
	return p
}

func (p *proc) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting %s: %v", p.bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			p.t.Fatalf("%s exited while starting:\n%s", p.bin, p.log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not listen on %s within a minute:\n%s", p.bin, p.addr, p.log.String())
		}
	}
}

func (p *proc) kill() { p.signal(os.Kill) }

// terminate stops the process gracefully (SIGINT), so it saves its data.
func (p *proc) terminate() { p.signal(os.Interrupt) }

func (p *proc) signal(sig os.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// cairnPeer: a second Cairn server as an S3 tier.
func cairnPeer(t *testing.T) *peer {
	srv := servertest.New(t, servertest.Options{Drives: 4})
	ctx := context.Background()
	if _, err := srv.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: ptr("tier-bucket")}); err != nil {
		t.Fatal(err)
	}
	px := tiertest.NewProxy(t, srv.Addr)
	return &peer{
		name: "s3",
		cfg: tier.Config{
			Name: "CAIRN", Type: tier.TypeS3, Endpoint: "http://" + px.Addr, Bucket: "tier-bucket", Prefix: "cold/",
			Credentials: tier.Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey},
		},
		stop: px.Stop, start: px.Start, minPut: 5 << 20,
	}
}

func ptr[T any](v T) *T { return &v }

// gcsPeer: fake-gcs-server, data on disk so a restart keeps it.
func gcsPeer(t *testing.T) *peer {
	home, _ := os.UserHomeDir()
	bin := tiertest.NeedBinary(t, "fake-gcs-server", os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(home, "go", "bin"))
	port := tiertest.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := startProc(t, bin, addr, "-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
		"-public-host", addr, "-backend", "filesystem", "-filesystem-root", t.TempDir(), "-log-level", "error")
	endpoint := "http://" + addr
	client, err := storage.NewClient(context.Background(), option.WithEndpoint(endpoint+"/storage/v1/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Bucket("tier-bucket").Create(context.Background(), "test-project", nil); err != nil {
		t.Fatal(err)
	}
	return &peer{
		name:  "gcs",
		cfg:   tier.Config{Name: "GCS", Type: tier.TypeGCS, Endpoint: endpoint, Bucket: "tier-bucket", Prefix: "cold"},
		stop:  p.kill,
		start: p.start, minPut: 256 << 10,
	}
}

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azurePeer: Azurite's blob service, data on disk (--location) so a restart keeps it.
func azurePeer(t *testing.T) *peer {
	home, _ := os.UserHomeDir()
	dirs := []string{filepath.Join(home, ".cache", "cairn-azurite", "node_modules", ".bin")}
	if d := os.Getenv("CAIRN_AZURITE_DIR"); d != "" {
		dirs = append([]string{filepath.Join(d, "node_modules", ".bin")}, dirs...)
	}
	bin := tiertest.NeedBinary(t, "azurite-blob", dirs...)
	port := tiertest.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := startProc(t, bin, addr, "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", t.TempDir(), "--silent", "--loose")
	endpoint := "http://" + addr + "/" + azuriteAccount
	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
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
	return &peer{
		name: "azure",
		cfg: tier.Config{
			Name: "AZURE", Type: tier.TypeAzure, Endpoint: endpoint, Bucket: "tier-bucket", Prefix: "cold/",
			Credentials: tier.Credentials{AccountName: azuriteAccount, AccountKey: azuriteKey},
		},
		stop: p.terminate, start: p.start, minPut: 1 << 20, // Azurite saves its data on a clean stop
	}
}

func isUnavailable(err error) bool { return errors.Is(err, tier.ErrUnavailable) }
