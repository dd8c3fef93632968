package clients

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

// commandTimeout bounds one client command (a whole minio-go run has its own).
const commandTimeout = 3 * time.Minute

// start skips the test with -short, then starts a fresh server process.
func start(t *testing.T) *servertest.Process {
	t.Helper()
	if testing.Short() {
		t.Skip("client test against the cairn binary; skipped with -short")
	}
	// A built-in KMS, so the clients' SSE-S3 and SSE-KMS tests run.
	return servertest.StartProcess(t, servertest.ProcOptions{Env: []string{"CAIRN_KMS_MASTER_KEY=" + testKMSMasterKey}})
}

// testKMSMasterKey is the built-in KMS master key of the client tests' servers.
const testKMSMasterKey = "Y2Fpcm4tY2xpZW50LXRlc3RzLWttcy1tYXN0ZXIta2U="

// needTool skips the test when a client is missing (err != nil), or fails it when
// the CI environment variable is set: CI installs every client, so a missing one
// there is breakage, not a reason to skip.
func needTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required when CI is set (.ci/run installs it): %v", what, err)
	}
	t.Skipf("%s is not available: %v", what, err)
}

// executable checks that path is an executable regular file.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New(path + " is not an executable file")
	}
	return nil
}

// baseEnv is the environment every client runs with: PATH, a UTF-8 locale and a
// scratch HOME and TMPDIR, nothing else from the test's environment (no AWS_*,
// RCLONE_*, proxy or CA-bundle variables). Callers append their own settings.
func baseEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + home,
		"LANG=C.UTF-8",
		"LC_ALL=C.UTF-8",
	}
}

// run runs name with args in dir and env, and returns its stdout. It fails the
// test, with both outputs, if the command does not exit 0 within commandTimeout.
func run(t *testing.T, env []string, dir, name string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(env, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runErr runs a command (for at most commandTimeout) and returns its stdout,
// stderr and error.
func runErr(env []string, dir, name string, args ...string) (stdout, stderr string, err error) {
	return runErrTimeout(env, dir, commandTimeout, name, args...)
}

// runErrTimeout is runErr with a timeout of its own.
func runErrTimeout(env []string, dir string, timeout time.Duration, name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 5 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return o.String(), e.String(), err
}

// randomBytes returns n random bytes.
func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// randomName returns prefix followed by 8 random hex digits (bucket names).
func randomName(t *testing.T, prefix string) string {
	return prefix + hex.EncodeToString(randomBytes(t, 4))
}

// writeFile writes data to dir/rel, creating directories.
func writeFile(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// treeFiles maps every regular file under dir (slash-separated relative path) to
// the SHA-256 of its content. Directories themselves are not listed: S3 has none.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree fails the test unless two directories hold the same files, byte for byte.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	w, g := treeFiles(t, want), treeFiles(t, got)
	for name, sum := range w {
		switch gs, ok := g[name]; {
		case !ok:
			t.Errorf("%s: missing from %s", name, got)
		case gs != sum:
			t.Errorf("%s: content differs between %s and %s", name, want, got)
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("%s: unexpected in %s", name, got)
		}
	}
}

// sameFile fails the test unless the file at path holds want.
func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes that differ from the %d bytes uploaded", path, len(got), len(want))
	}
}

// serverKeys lists the keys under prefix as the server sees them (through
// aws-sdk-go-v2, independently of the client under test), sorted.
func serverKeys(t *testing.T, p *servertest.Process, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pg := s3.NewListObjectsV2Paginator(p.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("listing %s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// serverETag is the ETag (unquoted) of an object, read through aws-sdk-go-v2.
func serverETag(t *testing.T, p *servertest.Process, bucket, key string) string {
	t.Helper()
	out, err := p.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

// goCommand finds the go tool: on PATH, else under GOROOT.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if root == "" {
			continue
		}
		if p := filepath.Join(root, "bin", "go"); executable(p) == nil {
			return p, nil
		}
	}
	return "", errors.New("the go command is not on PATH and GOROOT is unknown")
}
