package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallScript runs scripts/render/install.sh the way cloud-init runs it on
// the cloud modules' VMs — the binary downloaded from binary_url (here a
// loopback HTTP server) and checked against binary_sha256 — into a temporary
// directory: the right checksum installs the binary and the drive
// directories; a wrong one installs nothing and says why.
func TestInstallScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if _, err := exec.LookPath("wget"); err != nil {
			t.Skip("neither curl nor wget")
		}
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "render", "install.sh"))
	must(t, err)
	binary := []byte("#!/bin/sh\necho cairn stand-in\n")
	sum := sha256.Sum256(binary)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cairn-linux-amd64" {
			http.NotFound(w, r)
			return
		}
		w.Write(binary)
	}))
	defer srv.Close()
	user := "root"
	if out, err := exec.Command("id", "-un").Output(); err == nil {
		user = strings.TrimSpace(string(out))
	}

	install := func(t *testing.T, sha string) (string, string, error) {
		t.Helper()
		dir := t.TempDir()
		cmd := exec.Command("sh", script)
		cmd.Env = append(os.Environ(),
			"CAIRN_BINARY="+filepath.Join(dir, "usr/local/bin/cairn"),
			"CAIRN_BINARY_URL="+srv.URL+"/cairn-linux-amd64",
			"CAIRN_BINARY_SHA256="+sha,
			"CAIRN_USER="+user,
			"CAIRN_CONFIG_DIR="+filepath.Join(dir, "etc/cairn"),
			"CAIRN_UNIT_FILE="+filepath.Join(dir, "etc/systemd/system/cairn.service"),
			"CAIRN_LIB_DIR="+filepath.Join(dir, "usr/local/lib/cairn"),
			"CAIRN_DRIVES="+filepath.Join(dir, "data/d1")+" "+filepath.Join(dir, "data/d2"),
			"CAIRN_START=none",
		)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		return dir, stderr.String(), err
	}

	t.Run("checksum_ok", func(t *testing.T) {
		dir, stderr, err := install(t, hex.EncodeToString(sum[:]))
		if err != nil {
			t.Fatalf("install.sh: %v\n%s", err, stderr)
		}
		got, err := os.ReadFile(filepath.Join(dir, "usr/local/bin/cairn"))
		must(t, err)
		if !bytes.Equal(got, binary) {
			t.Errorf("installed binary %q, want %q", got, binary)
		}
		if st, _ := os.Stat(filepath.Join(dir, "usr/local/bin/cairn")); st == nil || st.Mode().Perm() != 0o755 {
			t.Errorf("binary mode %v, want 0755", st)
		}
		for _, d := range []string{"data/d1", "data/d2"} {
			if st, err := os.Stat(filepath.Join(dir, d)); err != nil || !st.IsDir() || st.Mode().Perm() != 0o750 {
				t.Errorf("drive directory %s: %v %v, want a 0750 directory", d, st, err)
			}
		}
	})

	t.Run("checksum_mismatch", func(t *testing.T) {
		dir, stderr, err := install(t, strings.Repeat("0", 64))
		if err == nil {
			t.Fatal("install.sh accepted a binary whose SHA-256 differs")
		}
		if !strings.Contains(stderr, "SHA-256") {
			t.Errorf("the failure does not say why:\n%s", stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "usr/local/bin/cairn")); err == nil {
			t.Error("a binary with the wrong checksum was installed")
		}
	})
}
