package sse

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/certs"
	"github.com/cairn-io/cairn/server/servertest"
)

const python3 = "/usr/bin/python3"

func needBoto3(t *testing.T) {
	t.Helper()
	if err := exec.Command(python3, "-c", "import boto3, cryptography").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3-boto3 / python3-cryptography missing on CI")
		}
		t.Skip("python3-boto3 or python3-cryptography not installed")
	}
}

// TestSeedFlowsWithBoto3 runs the seed's encryption flows with boto3 against
// the real binary over TLS (SSE-C needs it), restarts the server and reads the
// objects again (the built-in KMS keys persist on the drives), and scans the
// drives for the plaintext.
func TestSeedFlowsWithBoto3(t *testing.T) {
	needBoto3(t)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs")
	ca, err := certs.Generate(certDir, []string{"localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	master := base64.StdEncoding.EncodeToString(randomBytes(32))
	p := servertest.StartProcess(t, servertest.ProcOptions{
		Dir: filepath.Join(dir, "drives"), Args: []string{"--certs-dir", certDir}, TLS: true,
		Env: []string{"CAIRN_KMS_MASTER_KEY=" + master, "CAIRN_KMS_KEYS=my-kms-key"},
	})
	work := t.TempDir()
	run := func(script string, args ...string) string {
		cmd := exec.Command(python3, append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "BOTO_DISABLE_CRT=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
		return string(out)
	}
	out := run("testdata/seed_flows.py", p.URL, p.AccessKey, p.SecretKey, ca, work)
	for _, want := range []string{"sse-s3 ok", "sse-c ok", "sse-kms ok", "client-side ok"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in:\n%s", want, out)
		}
	}
	scanDrives(t, p.Drives, "SEED-FLOW-PLAINTEXT-MARKER")

	// After a restart the objects still decrypt (same master key), and a wrong
	// master key is refused at start with a clear message.
	p.Restart(t)
	reread := `
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="us-east-1", verify=sys.argv[4], config=Config(s3={"addressing_style": "path"}))
for k in ("my-object", "my-kms-object"):
    b = s3.get_object(Bucket="my-bucket", Key=k)["Body"].read()
    assert b.startswith(b"SEED-FLOW-PLAINTEXT-MARKER"), k
print("reread ok")
`
	script := filepath.Join(work, "reread.py")
	os.WriteFile(script, []byte(reread), 0o644)
	if out := run(script, p.URL, p.AccessKey, p.SecretKey, ca); !strings.Contains(out, "reread ok") {
		t.Fatalf("after restart: %s", out)
	}
}

// TestWrongMasterKeyRefused: a server started with another master key than
// the one its keys were sealed with stops with a clear error.
func TestWrongMasterKeyRefused(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"d1", "d2", "d3", "d4"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	bin, err := servertest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	start := func(master string) (string, error) {
		cmd := exec.Command(bin, "server", "--address", servertest.FreeAddr(t), filepath.Join(dir, "d{1...4}"))
		cmd.Env = append(os.Environ(), "CAIRN_ROOT_USER=admin", "CAIRN_ROOT_PASSWORD=a-long-password", "CAIRN_KMS_MASTER_KEY="+master)
		var out servertest.LockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return "", err
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return out.String(), err
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			return out.String(), nil // it was serving
		}
	}
	if out, err := start(base64.StdEncoding.EncodeToString(randomBytes(32))); err != nil {
		t.Fatalf("first start: %v\n%s", err, out)
	}
	out, err := start(base64.StdEncoding.EncodeToString(randomBytes(32)))
	if err == nil || !strings.Contains(out, "master key differs") {
		t.Fatalf("second start with another master key: %v\n%s", err, out)
	}
	out, err = start("not-a-key")
	if err == nil || !strings.Contains(out, "CAIRN_KMS_MASTER_KEY") {
		t.Fatalf("start with a malformed master key: %v\n%s", err, out)
	}
}
