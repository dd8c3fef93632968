package servertest

// Out-of-process servers: the real `cairn` binary as a child process (Process).

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BinaryEnv names an environment variable that, when set, is the path of a prebuilt
// cairn binary for StartProcess to run instead of building one.
const BinaryEnv = "CAIRN_TEST_BINARY"

// ProcOptions configure a server process. The zero value is a 4+2 set on six fresh
// drives on a free loopback port.
type ProcOptions struct {
	// Drives is the number of drive directories, d1…dN under Dir (default 6).
	// Ignored when DriveArgs is set.
	Drives int
	// Dir holds the drive directories (default a t.TempDir()). Reuse a Dir to start
	// a second process on the data of an earlier one.
	Dir string
	// DriveArgs, if set, are passed verbatim as the server's DRIVE arguments (local
	// paths, ellipsis patterns or, for multi-node clusters, endpoints); Dir and
	// Drives are then not used to create drives and Process.Drives is DriveArgs.
	DriveArgs []string
	// Address is the listen address, a loopback host:port (default 127.0.0.1 and a
	// free port; see FreeAddr).
	Address string
	// Args are extra flags, placed after `server --address ADDR` and before the
	// drives (e.g. "--parity", "3").
	Args []string
	// Env holds extra KEY=VALUE environment entries; they override the inherited
	// environment and the root credentials.
	Env []string
	// ReadyTimeout bounds WaitReady (default 20 s).
	ReadyTimeout time.Duration
	// TLS: the server serves HTTPS (pass --certs-dir in Args); URL is https:// and
	// the harness's own probes and Client skip certificate verification (loopback
	// tests that check verification build their own client).
	TLS bool
}

// Process is the real `cairn` binary running as a child process, for tests that
// need what an in-process Server cannot give: SIGKILL and restart on the same
// drives, a crash that takes the process down, several nodes.
//
// StartProcess builds the binary (once per test binary, see Binary), starts it with
// `cairn server --address ADDR [Args] DRIVE...` and the root credentials in
// CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD, and waits until /cairn/health/live
// answers 200. Kill, Stop and Restart may be called any number of times, in any
// order; t.Cleanup kills whatever still runs and, if the test failed, logs all the
// server wrote to stdout and stderr over all its starts. A Process is safe for
// concurrent use; its exported fields do not change after StartProcess returns.
type Process struct {
	URL       string // http://Addr
	Addr      string // host:port it listens on
	AccessKey string // root credentials (AccessKey, SecretKey constants)
	SecretKey string
	Region    string
	Dir       string   // parent of the drive directories ("" with DriveArgs)
	Drives    []string // drive arguments, in order
	// Log collects stdout and stderr of every start, each preceded by a header line.
	Log *LockedBuffer

	opts ProcOptions
	bin  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited
	err    error         // cmd.Wait's result, valid after done is closed
	starts int
}

// LockedBuffer is a bytes.Buffer safe for concurrent writes (the child's output)
// and reads (the test).
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns a copy of everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartProcess builds (once) and starts a cairn server process, waits until it is
// live, and registers t.Cleanup to kill it. It fails the test if the server does not
// become live within ProcOptions.ReadyTimeout.
func StartProcess(t testing.TB, opts ProcOptions) *Process {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 20 * time.Second
	}
	p := &Process{
		AccessKey: AccessKey, SecretKey: SecretKey, Region: "us-east-1",
		Log: &LockedBuffer{}, opts: opts, bin: bin,
	}
	if len(opts.DriveArgs) > 0 {
		p.Drives = append([]string(nil), opts.DriveArgs...)
	} else {
		if opts.Drives == 0 {
			opts.Drives = 6
		}
		p.Dir = opts.Dir
		if p.Dir == "" {
			p.Dir = t.TempDir()
		}
		for i := 1; i <= opts.Drives; i++ {
			d := filepath.Join(p.Dir, fmt.Sprintf("d%d", i))
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			p.Drives = append(p.Drives, d)
		}
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("servertest: output of %s:\n%s", p.Addr, p.Log.String())
		}
	})
	// A free port found by FreeAddr can be taken by someone else before the server
	// binds it; with a chosen port, retry on a fresh one.
	for attempt := 1; ; attempt++ {
		p.Addr = opts.Address
		if p.Addr == "" {
			p.Addr = FreeAddr(t)
		}
		p.URL = "http://" + p.Addr
		if opts.TLS {
			p.URL = "https://" + p.Addr
		}
		if err := p.start(); err != nil {
			t.Fatalf("servertest: %v", err)
		}
		err := p.waitReady(opts.ReadyTimeout)
		if err == nil {
			return p
		}
		if opts.Address == "" && attempt < 3 && p.exited() && strings.Contains(p.Log.String(), "address already in use") {
			continue
		}
		t.Fatalf("servertest: %v (the server's output follows the test)", err)
	}
}

// FreeAddr returns a loopback address with a port that was free a moment ago. Use it
// to choose the addresses of a multi-node cluster before starting any node.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// start launches the binary; the previous process, if any, must have exited.
func (p *Process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isClosed(p.done) {
		return errors.New("start: the server is still running")
	}
	args := append([]string{"server", "--address", p.Addr}, p.opts.Args...)
	args = append(args, p.Drives...)
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "CAIRN_ROOT_USER="+p.AccessKey, "CAIRN_ROOT_PASSWORD="+p.SecretKey)
	cmd.Env = append(cmd.Env, p.opts.Env...)
	cmd.Stdout = p.Log
	cmd.Stderr = p.Log
	p.starts++
	fmt.Fprintf(p.Log, "=== servertest: start %d: %s %s\n", p.starts, filepath.Base(p.bin), strings.Join(args, " "))
	setParentDeath(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.bin, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		fmt.Fprintf(p.Log, "=== servertest: exited: %v\n", exitStatus(err))
		close(done)
	}()
	return nil
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Cmd is the command of the current (or last) start; nil before the first.
func (p *Process) Cmd() *exec.Cmd {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd
}

// exited reports whether the current process has exited.
func (p *Process) exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd == nil || isClosed(p.done)
}

// Running reports whether the server process is alive; if it has exited, err is how
// (nil for exit status 0).
func (p *Process) Running() (running bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false, nil
	}
	if !isClosed(p.done) {
		return true, nil
	}
	return false, p.err
}

// signal sends sig to the running process and waits up to timeout for it to exit.
// It reports whether the process has exited.
func (p *Process) signal(sig os.Signal, timeout time.Duration) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return true
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Kill sends SIGKILL and waits for the process to exit: a crash, as far as the
// server can tell. It does nothing if the process is not running.
func (p *Process) Kill() {
	p.signal(syscall.SIGKILL, time.Minute)
}

// Stop sends SIGTERM and waits for a graceful shutdown, up to 15 s, then kills.
// It reports whether the server exited by itself within that time.
func (p *Process) Stop() bool {
	if p.signal(syscall.SIGTERM, 15*time.Second) {
		return true
	}
	p.Kill()
	return false
}

// Restart stops the server gracefully if it is running, starts it again with the
// same address, drives, flags and environment, and waits until it is live.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	p.Stop()
	if err := p.start(); err != nil {
		t.Fatalf("servertest: restart: %v", err)
	}
	p.WaitReady(t)
}

// WaitReady waits until GET /cairn/health/live answers 200 (at most
// ProcOptions.ReadyTimeout) and fails the test, with the server's output, if it does
// not or if the process exits first.
func (p *Process) WaitReady(t testing.TB) {
	t.Helper()
	if err := p.waitReady(p.opts.ReadyTimeout); err != nil {
		t.Fatalf("servertest: %v (the server's output follows the test)", err)
	}
}

func (p *Process) waitReady(timeout time.Duration) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	hc := p.httpClient()
	hc.Timeout = 2 * time.Second
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if done == nil || isClosed(done) {
			_, err := p.Running()
			return fmt.Errorf("server at %s exited before it was ready: %s", p.Addr, exitStatus(err))
		}
		resp, err := hc.Get(p.URL + "/cairn/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not live after %v: %v", p.Addr, timeout, last)
}

// Client returns an aws-sdk-go-v2 S3 client for the server, path-style, with the
// SDK's default retries. Extra option functions apply last (for example
// `func(o *s3.Options) { o.Retryer = aws.NopRetryer{} }` to see every failure).
func (p *Process) Client(optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(p.URL),
		Region:       p.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(p.AccessKey, p.SecretKey, ""),
		UsePathStyle: true,
		HTTPClient:   p.httpClient(),
	}, optFns...)
}

func (p *Process) httpClient() *http.Client {
	if !p.opts.TLS {
		return &http.Client{}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// The binary, built at most once per test binary.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of the cairn binary that StartProcess runs: $CAIRN_TEST_BINARY
// if set, otherwise the module's main package built (without -race, whatever the
// tests use) into a temporary directory on the first call. The build needs the go
// command (on PATH, or under GOROOT) and runs in the current directory, which must
// be inside the cairn module (as a test's package directory is). Remove the build
// with RemoveBinary, or use Main.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	built.once.Do(func() {
		goTool, err := goCommand()
		if err != nil {
			built.err = err
			return
		}
		dir, err := os.MkdirTemp("", "cairn-servertest-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		out := filepath.Join(dir, "cairn")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "github.com/cairn-io/cairn")
		if b, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("building cairn: %v\n%s", err, b)
			return
		}
		built.path = out
	})
	return built.path, built.err
}

// RemoveBinary deletes the binary Binary built, if any. Call it after all tests ran.
func RemoveBinary() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// Main runs m's tests and then removes the binary StartProcess built. Use it in a
// package that starts processes:
//
//	func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	RemoveBinary()
	return code
}

// goCommand finds the go tool: on PATH, else under $GOROOT or the GOROOT this test
// binary was built with.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if root == "" {
			continue
		}
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the go command is not on PATH and GOROOT is unknown; set " + BinaryEnv)
}
