package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

const providerVersion = "0.1.0"

// TestLocalExample applies examples/local as a user would and checks that
//
//  1. `terraform init` installs cairn/cairn from the mirror;
//  2. `terraform apply` starts 3 nodes × 2 drives (modules/local) and configures
//     them with the provider in the same run;
//  3. the application's access key (an output) writes and reads an object through
//     the endpoint output, and, once the key has reached them, through every node;
//  4. `terraform plan -detailed-exitcode` right after exits 0;
//  5. (below, 6) and finally `terraform destroy` stops every node (no PID recorded by the module is alive,
//     no process serves the pool) and deletes the data directory.
//  6. setting extra_pools = [2] and applying again adds a pool of 3 × 2 new drives
//     to the running cluster: every node reports it active, objects written after
//     it read back, the old ones too, and the next plan is empty.
func TestLocalExample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: applies a 3-node cluster with terraform")
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("terraform is not on PATH: CI must install it")
		}
		t.Skip("terraform is not on PATH")
	}
	bin, err := servertest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)

	tmp := t.TempDir()
	mirror := filepath.Join(tmp, "mirror")
	pluginDir := filepath.Join(mirror, "registry.terraform.io", "cairn", "cairn", providerVersion, runtime.GOOS+"_"+runtime.GOARCH)
	must(t, os.MkdirAll(pluginDir, 0o755))
	copyFile(t, bin, filepath.Join(pluginDir, "terraform-provider-cairn_v"+providerVersion), 0o755)
	cli := filepath.Join(tmp, "terraformrc")
	must(t, os.WriteFile(cli, []byte(fmt.Sprintf(`
provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/cairn/cairn"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
`, mirror)), 0o644))

	// The example refers to ../../modules/local: copy both, keeping the layout.
	must(t, os.CopyFS(filepath.Join(tmp, "modules", "local"), os.DirFS(filepath.Join(repo, "modules", "local"))))
	work := filepath.Join(tmp, "examples", "local")
	must(t, os.CopyFS(work, os.DirFS(filepath.Join(repo, "examples", "local"))))
	clusterDir := filepath.Join(tmp, "cluster")

	const nodes = 3
	basePort := freePorts(t, nodes)
	const rootPassword = "deploy-test-root-secret"
	env := []string{
		"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0",
		"TF_VAR_cairn_binary=" + bin,
		"TF_VAR_base_port=" + strconv.Itoa(basePort),
		"TF_VAR_work_dir=" + clusterDir,
		"TF_VAR_root_password=" + rootPassword,
	}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); {
		case strings.HasPrefix(name, "TF_"), strings.HasPrefix(name, "CAIRN_"), strings.HasPrefix(name, "AWS_"):
			// only what is set above
		default:
			env = append(env, kv)
		}
	}

	// Whatever happens, no node outlives the test: kill what the PID files name
	// (if it still is our server), then anything serving this test's pool.
	t.Cleanup(func() {
		for _, pid := range leftovers(clusterDir) {
			t.Logf("cleanup: killing leftover node pid %d", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(clusterDir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, tail(b, 40))
			}
		}
	})

	terraform := func(args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tf, args...)
		cmd.Dir = work
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("terraform %s: %v in %v", strings.Join(args, " "), exitStatus(err), time.Since(start).Round(time.Millisecond))
		return string(out), err
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := terraform(args...)
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	output := func(name string) string {
		t.Helper()
		return strings.TrimSpace(run("output", "-raw", name))
	}

	if out := run("init", "-no-color"); !strings.Contains(out, "Installing cairn/cairn v"+providerVersion) {
		t.Fatalf("terraform init did not install cairn/cairn %s from the mirror:\n%s", providerVersion, out)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed { // a failed test still stops its cluster the module's way
			terraform("destroy", "-auto-approve", "-no-color")
		}
	})
	run("apply", "-auto-approve", "-no-color")

	// The cluster: three nodes on consecutive loopback ports, all alive.
	endpoint := output("endpoint")
	if want := fmt.Sprintf("http://127.0.0.1:%d", basePort); endpoint != want {
		t.Errorf("endpoint = %q, want %q", endpoint, want)
	}
	if n := len(leftovers(clusterDir)); n != nodes {
		t.Fatalf("%d live nodes recorded in %s/run after apply, want %d", n, clusterDir, nodes)
	}
	for i := range nodes {
		for j := 1; j <= 2; j++ {
			d := filepath.Join(clusterDir, "data", fmt.Sprintf("node%d", i+1), fmt.Sprintf("d%d", j), ".cairn", "format.json")
			if _, err := os.Stat(d); err != nil {
				t.Errorf("drive not formatted: %v", err)
			}
		}
	}

	// S3 traffic with the access key the provider created.
	ctx := context.Background()
	keyID, secret := output("app_access_key"), output("app_secret_key")
	client := func(url string) *s3.Client {
		return s3.New(s3.Options{
			BaseEndpoint: aws.String(url), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		})
	}
	body := []byte("hello from examples/local")
	app := client(endpoint)
	if _, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("local-data"), Key: aws.String("hello.txt"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put with the app's access key at %s: %v", endpoint, err)
	}
	if got := get(t, app, "local-data", "hello.txt"); !bytes.Equal(got, body) {
		t.Fatalf("get at %s: %q, want %q", endpoint, got, body)
	}
	// Every node answers, once the new key has reached its IAM cache (measured:
	// a few seconds after creation on node 1).
	for i := range nodes {
		url := fmt.Sprintf("http://127.0.0.1:%d", basePort+i)
		c := client(url)
		start := time.Now()
		for {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("local-data"), Key: aws.String("hello.txt")})
			if err == nil {
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				must(t, err)
				if !bytes.Equal(got, body) {
					t.Errorf("get at %s: %q, want %q", url, got, body)
				}
				t.Logf("node %d (%s) served the object with the app's key after %v", i+1, url, time.Since(start).Round(time.Millisecond))
				break
			}
			if time.Since(start) > 20*time.Second {
				t.Fatalf("get at %s with the app's key: %v (after %v)", url, err, time.Since(start).Round(time.Millisecond))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Versioning is on: a second write keeps the first.
	_, err = app.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("local-data"), Key: aws.String("hello.txt"), Body: strings.NewReader("v2")})
	must(t, err)
	vs, err := app.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("local-data")})
	must(t, err)
	if len(vs.Versions) != 2 {
		t.Errorf("%d versions of hello.txt in the versioned bucket, want 2", len(vs.Versions))
	}

	if out, err := terraform("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("terraform plan -detailed-exitcode after apply: %v (exit 2 = changes planned)\n%s", err, out)
	}

	// A pool added by editing a variable: applied live, on every node, data kept.
	env = append(env, "TF_VAR_extra_pools=[2]")
	run("apply", "-auto-approve", "-no-color")
	for i := range nodes {
		url := fmt.Sprintf("http://127.0.0.1:%d", basePort+i)
		ac, err := admin.New(url, admin.Options{AccessKey: "admin", SecretKey: rootPassword})
		must(t, err)
		ps, err := ac.Pools(ctx)
		must(t, err)
		if len(ps) != 2 || ps[1].State != "active" || ps[1].Drives != 6 {
			t.Fatalf("node %d after adding a pool: %+v", i+1, ps)
		}
	}
	for i := 0; i < 20; i++ { // new objects land on either pool; all read back
		k := fmt.Sprintf("after-pool/%02d", i)
		_, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("local-data"), Key: aws.String(k), Body: strings.NewReader(k)})
		must(t, err)
		if got := get(t, app, "local-data", k); string(got) != k {
			t.Fatalf("%s: %q", k, got)
		}
	}
	if got := get(t, app, "local-data", "hello.txt"); string(got) != "v2" {
		t.Fatalf("hello.txt after the pool addition: %q", got)
	}
	if out, err := terraform("plan", "-detailed-exitcode", "-no-color"); err != nil {
		t.Fatalf("terraform plan -detailed-exitcode after the pool addition: %v\n%s", err, out)
	}

	pids := leftovers(clusterDir)
	run("destroy", "-auto-approve", "-no-color")
	destroyed = true
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("node pid %d still running after destroy", pid)
		}
	}
	if ps, err := exec.Command("ps", "-eo", "pid=,args=").Output(); err == nil {
		for _, line := range strings.Split(string(ps), "\n") {
			if strings.Contains(line, " server ") && strings.Contains(line, clusterDir) {
				t.Errorf("a process serving this test's cluster survived destroy: %s", strings.TrimSpace(line))
			}
		}
	}
	for _, d := range []string{"data", "run"} {
		if _, err := os.Stat(filepath.Join(clusterDir, d)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after destroy: %v, want it removed", filepath.Join(clusterDir, d), err)
		}
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	must(t, err)
	return b
}

// freePorts returns the first of n consecutive loopback ports that are free now.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		base := ln.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{ln}
		ok := base+n-1 <= 65535
		for p := base + 1; ok && p < base+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no run of free consecutive loopback ports")
	return 0
}

// leftovers returns the PIDs recorded in dir/run that are still alive cairn servers
// listening on the recorded address.
func leftovers(dir string) []int {
	files, _ := filepath.Glob(filepath.Join(dir, "run", "node*.pid"))
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || !alive(pid) {
			continue
		}
		addr, _ := os.ReadFile(strings.TrimSuffix(f, ".pid") + ".address")
		args, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && !bytes.Contains(args, []byte("\x00--address\x00"+strings.TrimSpace(string(addr))+"\x00")) {
			continue // the PID was reused by another process
		}
		pids = append(pids, pid)
	}
	return pids
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	must(t, err)
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	must(t, out.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &ee):
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}
