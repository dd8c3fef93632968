package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server/servertest"
)

// TestOnpremModule applies modules/onprem for real against three "hosts" that
// are loopback addresses of this machine (127.0.0.2-4), reached over SSH by a
// throwaway OpenSSH server of the test (startSSHD). Each host gets its own
// host_prefix, so the three installs do not overlap on the one filesystem, and
// the unit-run service manager (scripts/render/unit-run.sh), since there is no
// systemd here. It checks that
//
//  1. apply installs on every host the binary, the env file (mode 0600), the
//     unit whose ExecStart is the pool of 3 hosts × 2 drives (and which
//     `systemd-analyze verify` accepts, where available), and the drive
//     directories, and starts a 3-node cluster that formats its 6 drives;
//  2. the cluster serves S3: an object written through one node reads back
//     through every node (root credentials, SigV4), and SSE-S3 works with the
//     built-in KMS configured through the module's env file;
//  3. a configuration change (a server flag) is rolled out one host at a time:
//     every node runs a new process with the new flag, each restart waited for
//     until ready before the next, and the object is still there;
//  4. a second plan is empty;
//  5. destroy stops every node and removes binary, configuration, unit and, with
//     destroy_data, the drives.
func TestOnpremModule(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: applies a 3-host cluster over SSH with terraform")
	}
	tf := terraformPath(t)
	bin, err := servertest.Binary()
	must(t, err)
	hosts := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	ssh := startSSHD(t, hosts)

	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	tmp := t.TempDir()
	must(t, os.CopyFS(filepath.Join(tmp, "modules", "onprem"), os.DirFS(filepath.Join(repo, "modules", "onprem"))))
	must(t, os.CopyFS(filepath.Join(tmp, "scripts", "render"), os.DirFS(filepath.Join(repo, "scripts", "render"))))
	work := filepath.Join(tmp, "root")
	must(t, os.MkdirAll(work, 0o755))

	port := freePortOn(t, hosts)
	prefix := map[string]string{}
	var prefixes []string
	for _, h := range hosts {
		prefix[h] = filepath.Join(tmp, "hosts", h)
		prefixes = append(prefixes, fmt.Sprintf("%q = %q", h, prefix[h]))
	}
	const rootPassword = "onprem-test-root-secret"
	must(t, os.WriteFile(filepath.Join(work, "main.tf"), []byte(fmt.Sprintf(`
variable "scanner_interval" {
  type    = string
  default = "1m0s"
}

module "cairn" {
  source          = "../modules/onprem"
  hosts           = %s
  drives_per_node = 2
  port            = %d
  ssh = {
    user             = %q
    port             = %d
    private_key_file = %q
    known_hosts_file = %q
  }
  binary_source   = %q
  root_user       = "admin"
  root_password   = %q
  user            = %q
  service_manager = "unit-run"
  host_prefix     = { %s }
  destroy_data    = true
  metrics_public  = true
  extra_args      = ["--scanner-interval", var.scanner_interval]
  ready_timeout   = 90
  kms             = { backend = "builtin", master_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", key = "objects" }
}

output "endpoint" { value = module.cairn.endpoint }
output "node_endpoints" { value = module.cairn.node_endpoints }
output "pool_args" { value = module.cairn.pool_args }
output "metrics_url" { value = module.cairn.metrics_url }
`, hcl(hosts), port, ssh.User, ssh.Port, ssh.KeyFile, ssh.KnownHosts, bin, rootPassword, ssh.User,
		strings.Join(prefixes, ", "))), 0o644))

	// Whatever happens, no node and no unit-run supervisor outlives the test:
	// every process whose command line names this test's directory is killed
	// (with its session's process group when it leads one).
	t.Cleanup(func() {
		for _, pid := range pidsMentioning(tmp) {
			syscall.Kill(-pid, syscall.SIGKILL) // a supervisor's session, if pid leads one
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			for _, h := range hosts {
				b, _ := os.ReadFile(filepath.Join(prefix[h], "etc/systemd/system/cairn.service.log"))
				t.Logf("%s log:\n%s", h, tail(b, 30))
			}
		}
	})

	tfr := newTerraform(t, tf, work, nil)
	tfr.run("init", "-no-color")
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			tfr.try("destroy", "-auto-approve", "-no-color")
		}
	})
	tfr.run("apply", "-auto-approve", "-no-color")

	wantPool := fmt.Sprintf("http://127.0.0.2:%[1]d%[2]s/var/lib/cairn/d{1...2},http://127.0.0.3:%[1]d%[3]s/var/lib/cairn/d{1...2},http://127.0.0.4:%[1]d%[4]s/var/lib/cairn/d{1...2}",
		port, prefix["127.0.0.2"], prefix["127.0.0.3"], prefix["127.0.0.4"])
	firstPIDs := map[string]int{}
	for _, h := range hosts {
		p := prefix[h]
		st, err := os.Stat(filepath.Join(p, "etc/cairn/cairn.env"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: env file: %v, mode %v; want mode 0600", h, err, st.Mode().Perm())
		}
		env, _ := os.ReadFile(filepath.Join(p, "etc/cairn/cairn.env"))
		if !bytes.Contains(env, []byte(`CAIRN_ROOT_PASSWORD="`+rootPassword+`"`)) {
			t.Errorf("%s: env file lacks the root password", h)
		}
		if st, err := os.Stat(filepath.Join(p, "usr/local/bin/cairn")); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s: binary not installed executable: %v", h, err)
		}
		unit, err := os.ReadFile(filepath.Join(p, "etc/systemd/system/cairn.service"))
		must(t, err)
		wantExec := fmt.Sprintf(`ExecStart="%s/usr/local/bin/cairn" "server" "--address" "%s:%d" "--metrics-public" "--scanner-interval" "1m0s" "%s"`, p, h, port, wantPool)
		if !strings.Contains(string(unit), wantExec+"\n") {
			t.Errorf("%s: unit lacks\n%s\ngot:\n%s", h, wantExec, unit)
		}
		// systemd's own parser accepts the unit as installed (quoting, specifiers,
		// settings), where systemd-analyze is available.
		if sa, err := exec.LookPath("systemd-analyze"); err == nil {
			out, err := exec.Command(sa, "verify", filepath.Join(p, "etc/systemd/system/cairn.service")).CombinedOutput()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("%s: systemd-analyze verify: %v\n%s", h, err, out)
			}
		} else {
			t.Logf("no systemd-analyze: the unit's syntax is checked by unit-run.sh only")
		}
		for _, d := range []string{"d1", "d2"} {
			if _, err := os.Stat(filepath.Join(p, "var/lib/cairn", d, ".cairn", "format.json")); err != nil {
				t.Errorf("%s: drive %s not formatted: %v", h, d, err)
			}
		}
		pids := serverPIDs(fmt.Sprintf("%s:%d", h, port))
		if len(pids) != 1 {
			t.Fatalf("%s: %d cairn server processes for the node, want 1", h, len(pids))
		}
		firstPIDs[h] = pids[0]
	}
	if got := tfr.output("pool_args"); got != `["`+wantPool+`"]` {
		t.Errorf("pool_args = %s, want [%q]", got, wantPool)
	}

	// S3 through every node, root credentials.
	ctx := context.Background()
	client := func(url string) *s3.Client {
		return s3.New(s3.Options{
			BaseEndpoint: aws.String(url), Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("admin", rootPassword, ""),
		})
	}
	endpoint := tfr.outputRaw("endpoint")
	if want := fmt.Sprintf("http://127.0.0.2:%d", port); endpoint != want {
		t.Errorf("endpoint = %q, want %q", endpoint, want)
	}
	if got, want := tfr.outputRaw("metrics_url"), endpoint+"/metrics"; got != want {
		t.Errorf("metrics_url = %q, want %q", got, want)
	}
	body := []byte("hello from modules/onprem")
	_, err = client(endpoint).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("onprem")})
	must(t, err)
	_, err = client(endpoint).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("onprem"), Key: aws.String("hello.txt"), Body: bytes.NewReader(body)})
	must(t, err)
	readEverywhere := func(stage string) {
		t.Helper()
		for _, h := range hosts {
			url := fmt.Sprintf("http://%s:%d", h, port)
			if got := get(t, client(url), "onprem", "hello.txt"); !bytes.Equal(got, body) {
				t.Errorf("%s: get at %s = %q, want %q", stage, url, got, body)
			}
		}
	}
	readEverywhere("after apply")

	// The env file's KMS settings reached the servers: SSE-S3 through one node,
	// read back (decrypted) through another.
	secretBody := []byte("encrypted at rest by the built-in KMS")
	_, err = client(endpoint).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("onprem"), Key: aws.String("secret.txt"),
		Body: bytes.NewReader(secretBody), ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatalf("SSE-S3 put (kms from the env file): %v", err)
	}
	head, err := client(fmt.Sprintf("http://127.0.0.3:%d", port)).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("onprem"), Key: aws.String("secret.txt")})
	must(t, err)
	if head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("head of the SSE-S3 object: encryption %q, want AES256", head.ServerSideEncryption)
	}
	if got := get(t, client(fmt.Sprintf("http://127.0.0.4:%d", port)), "onprem", "secret.txt"); !bytes.Equal(got, secretBody) {
		t.Errorf("SSE-S3 object read back as %q", got)
	}

	// A configuration change rolls through the hosts one at a time.
	out := tfr.run("apply", "-auto-approve", "-no-color", "-var", "scanner_interval=2m0s")
	if !strings.Contains(out, "rolling restart, one host at a time") {
		t.Errorf("second apply did not roll the cluster:\n%s", out)
	}
	last := -1
	for _, h := range hosts {
		addr := fmt.Sprintf("%s:%d", h, port)
		restart := strings.Index(out, "restarting "+addr)
		ready := strings.Index(out, addr+" ready")
		if restart < 0 || ready < restart || restart < last {
			t.Errorf("rollout order: %s restarted at %d, ready at %d, previous host ready at %d; want restart after the previous host was ready, then ready", addr, restart, ready, last)
		}
		last = ready
		pids := serverPIDs(addr)
		if len(pids) != 1 || pids[0] == firstPIDs[h] {
			t.Errorf("%s: server processes after the rollout %v, want one new process (was %d)", h, pids, firstPIDs[h])
			continue
		}
		args, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pids[0]))
		if !bytes.Contains(args, []byte("\x00--scanner-interval\x002m0s\x00")) {
			t.Errorf("%s: new process runs %q, want --scanner-interval 2m0s", h, bytes.ReplaceAll(args, []byte{0}, []byte{' '}))
		}
	}
	readEverywhere("after the rolling restart")

	if out, err := tfr.try("plan", "-detailed-exitcode", "-no-color", "-var", "scanner_interval=2m0s"); err != nil {
		t.Errorf("plan after apply: %v (exit 2: changes planned)\n%s", err, out)
	}

	tfr.run("destroy", "-auto-approve", "-no-color", "-var", "scanner_interval=2m0s")
	destroyed = true
	time.Sleep(200 * time.Millisecond) // a killed session's members are reaped
	for _, pid := range pidsMentioning(filepath.Join(tmp, "hosts")) {
		args, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("process %d survived destroy: %s", pid, bytes.ReplaceAll(args, []byte{0}, []byte{' '}))
	}
	for _, h := range hosts {
		if pids := serverPIDs(fmt.Sprintf("%s:%d", h, port)); len(pids) > 0 {
			t.Errorf("%s: server processes %v survived destroy", h, pids)
		}
		for _, f := range []string{"usr/local/bin/cairn", "etc/cairn/cairn.env", "etc/systemd/system/cairn.service", "var/lib/cairn/d1", "var/lib/cairn/d2", "usr/local/lib/cairn/unit-run.sh"} {
			if _, err := os.Stat(filepath.Join(prefix[h], f)); err == nil {
				t.Errorf("%s: %s still there after destroy", h, f)
			}
		}
	}
}

// serverPIDs returns the PIDs of the cairn server processes started with
// --address addr.
func serverPIDs(addr string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("\x00server\x00--address\x00"+addr+"\x00")) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if alive(pid) && filepath.Base(string(bytes.SplitN(b, []byte{0}, 2)[0])) == "cairn" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// pidsMentioning returns the live processes (other than this one) whose
// command line contains s.
func pidsMentioning(s string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil && pid != os.Getpid() && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hcl renders a list of strings as an HCL tuple.
func hcl(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// terraformPath finds terraform, skipping the test without it (failing on CI).
func terraformPath(t *testing.T) string {
	t.Helper()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("terraform is not on PATH: CI must install it")
		}
		t.Skip("terraform is not on PATH")
	}
	return tf
}

// tfRunner runs terraform in one directory with a clean environment: no
// registry (a CLI config file naming only filesystem mirrors, or none), no
// checkpoint, no TF_/CAIRN_/AWS_ variables of the caller.
type tfRunner struct {
	t   *testing.T
	tf  string
	dir string
	env []string
}

// newTerraform returns a runner in dir. mirrors maps provider source addresses'
// patterns (e.g. "registry.terraform.io/hashicorp/*") to filesystem mirror
// directories; nil: no provider installation at all.
func newTerraform(t *testing.T, tf, dir string, mirror map[string]string) *tfRunner {
	t.Helper()
	var cfg strings.Builder
	cfg.WriteString("provider_installation {\n")
	for pattern, path := range mirror {
		fmt.Fprintf(&cfg, "  filesystem_mirror {\n    path    = %q\n    include = [%q]\n  }\n", path, pattern)
	}
	cfg.WriteString("  direct {\n    exclude = [\"registry.terraform.io/*/*\"]\n  }\n}\n")
	cli := filepath.Join(t.TempDir(), "terraformrc")
	must(t, os.WriteFile(cli, []byte(cfg.String()), 0o644))
	env := []string{"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0"}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); {
		case strings.HasPrefix(name, "TF_"), strings.HasPrefix(name, "CAIRN_"), strings.HasPrefix(name, "AWS_"):
		default:
			env = append(env, kv)
		}
	}
	return &tfRunner{t: t, tf: tf, dir: dir, env: env}
}

func (r *tfRunner) try(args ...string) (string, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.tf, args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r.t.Logf("terraform %s (%s): %v in %v", strings.Join(args, " "), filepath.Base(r.dir), exitStatus(err), time.Since(start).Round(time.Millisecond))
	if testing.Verbose() && (args[0] == "apply" || args[0] == "destroy") {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "complete after") || strings.Contains(line, "cairn-rollout:") {
				r.t.Logf("  %s", strings.TrimSpace(line))
			}
		}
	}
	return string(out), err
}

func (r *tfRunner) run(args ...string) string {
	r.t.Helper()
	out, err := r.try(args...)
	if err != nil {
		r.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (r *tfRunner) output(name string) string {
	r.t.Helper()
	return strings.TrimSpace(r.run("output", "-json", name))
}

func (r *tfRunner) outputRaw(name string) string {
	r.t.Helper()
	return strings.TrimSpace(r.run("output", "-raw", name))
}
