package kms

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startLocalKMS runs github.com/nsmithuk/local-kms (a real AWS KMS emulator,
// installed by .ci/run) on a free loopback port; it is killed at cleanup.
func startLocalKMS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("local-kms")
	if err != nil {
		if gp, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			p := filepath.Join(strings.TrimSpace(string(gp)), "bin", "local-kms")
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("local-kms is not installed (.ci/run installs it)")
		}
		t.Skip("local-kms not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "KMS_DATA_PATH="+t.TempDir(), "KMS_REGION=us-east-1", "KMS_ACCOUNT_ID=111122223333")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
	}
	t.Fatal("local-kms did not start")
	return ""
}

func TestAWSAgainstLocalKMS(t *testing.T) {
	endpoint := startLocalKMS(t)
	ctx := context.Background()
	a, err := NewAWS(ctx, AWSConfig{Endpoint: endpoint, Region: "us-east-1", AccessKey: "local", SecretKey: "local", DefaultKey: "cairn-default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, a); !errorsIs(err, ErrKeyNotFound) {
		t.Fatalf("Check before the default key exists: %v", err)
	}
	for _, n := range []string{"cairn-default", "team-a"} {
		if _, err := a.CreateKey(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	testBackend(t, a, "team-a")
	testManager(t, a, "team-b")
	info, err := a.KeyStatus(ctx, "team-b")
	if err != nil || !strings.HasPrefix(info.ID, "arn:aws:kms:us-east-1:111122223333:key/") {
		t.Fatalf("KeyStatus: %+v %v", info, err)
	}
}
