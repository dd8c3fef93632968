package clients

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRclone copies, checks, lists, syncs and deletes a tree with rclone.
func TestRclone(t *testing.T) {
	t.Parallel()
	rclone, err := exec.LookPath("rclone")
	needTool(t, "rclone", err)
	p := start(t)
	home := t.TempDir()
	writeFile(t, home, "rclone.conf", nil) // an empty config: the remote comes from the environment
	env := append(baseEnv(home),
		"RCLONE_CONFIG_CAIRN_TYPE=s3",
		"RCLONE_CONFIG_CAIRN_PROVIDER=Other",
		"RCLONE_CONFIG_CAIRN_ENDPOINT="+p.URL,
		"RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID="+p.AccessKey,
		"RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY="+p.SecretKey,
		"RCLONE_CONFIG_CAIRN_REGION=us-east-1",
	)
	rc := func(args ...string) string {
		t.Helper()
		args = append([]string{"--config", filepath.Join(home, "rclone.conf"),
			// Errors reach the test instead of being retried away.
			"--retries", "1", "--low-level-retries", "1",
			// 10 MiB files go up in two 5 MiB parts.
			"--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
		}, args...)
		return run(t, env, home, rclone, args...)
	}
	bucket := randomName(t, "rclone-")
	remote := "cairn:" + bucket + "/data"
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src, 10<<20)

	// lsf lists what rclone sees under the remote, files only.
	lsf := func() []string {
		t.Helper()
		var files []string
		for _, l := range strings.Split(strings.TrimSpace(rc("lsf", "-R", "--files-only", remote)), "\n") {
			if l != "" {
				files = append(files, l)
			}
		}
		slices.Sort(files)
		return files
	}
	want := func() []string {
		var files []string
		for name := range treeFiles(t, src) {
			files = append(files, name)
		}
		slices.Sort(files)
		return files
	}
	check := func() {
		t.Helper()
		// rclone check compares sizes and MD5s (the ETag, or for multipart objects
		// the md5chksum metadata rclone stores) and exits non-zero on a difference.
		out, errOut, err := runErr(env, home, rclone, "--config", filepath.Join(home, "rclone.conf"), "check", src, remote)
		if err != nil || !strings.Contains(errOut, " 0 differences found") {
			t.Fatalf("rclone check: %v\n%s%s", err, out, errOut)
		}
	}

	rc("mkdir", "cairn:"+bucket)
	rc("copy", src, remote)
	check()
	if got := lsf(); !slices.Equal(got, want()) {
		t.Fatalf("lsf after copy = %q, want %q", got, want())
	}
	if etag := serverETag(t, p, bucket, "data/data/big.bin"); !strings.HasSuffix(etag, "-2") {
		t.Errorf("data/big.bin has ETag %s, want a 2-part multipart upload", etag)
	}

	// Change the tree: one file edited, one added, one removed; sync mirrors it.
	writeFile(t, src, "top.txt", []byte("top, edited\n"))
	writeFile(t, src, "a/b/new.txt", []byte("new\n"))
	if err := os.Remove(filepath.Join(src, "a/b/sibling.json")); err != nil {
		t.Fatal(err)
	}
	rc("sync", src, remote)
	check()
	if got := lsf(); !slices.Equal(got, want()) {
		t.Fatalf("lsf after sync = %q, want %q", got, want())
	}

	// And back down.
	dst := filepath.Join(t.TempDir(), "dst")
	rc("sync", remote, dst)
	sameTree(t, src, dst)

	rc("delete", remote)
	if got := lsf(); len(got) != 0 {
		t.Errorf("lsf after delete = %q, want nothing", got)
	}
	if keys := serverKeys(t, p, bucket, ""); len(keys) != 0 {
		t.Errorf("after rclone delete the server still has %q", keys)
	}
}
