package provider

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// TestTenantExample runs provider/examples/tenant the way a user would, end to
// end, with nothing in process: the cairn binary is installed as
// terraform-provider-cairn in a filesystem mirror, a CLI configuration lets
// Terraform install providers from that mirror only (no registry), and a real
// `cairn server` process serves the requests. It checks that
//
//  1. `terraform init` finds the provider in the mirror;
//  2. `terraform apply` builds the tenant, and what it built works: the
//     application's access key (its secret given write-only) can write to the
//     tenant's buckets, what it writes to the private one is encrypted with the
//     tenant's KMS key, the lifecycle rule is in place, anonymous clients can
//     read but not write the public one, and the secret is nowhere in the
//     state file;
//  3. `terraform plan -detailed-exitcode` right after exits 0 (no changes);
//  4. `terraform destroy` removes it all, versioned buckets with objects included.
//
// scripts/tf-e2e runs this test alone.
func TestTenantExample(t *testing.T) {
	tf := needTerraform(t)
	t.Parallel()
	const (
		version   = "0.1.0"
		appSecret = "tenant-app-secret-0001"
	)
	bin, err := servertest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	srv := servertest.StartProcess(t, servertest.ProcOptions{
		Env: []string{"CAIRN_KMS_MASTER_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))},
	})

	// The provider in a filesystem mirror: HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/.
	tmp := t.TempDir()
	mirror := filepath.Join(tmp, "mirror")
	pluginDir := filepath.Join(mirror, "registry.terraform.io", "cairn", "cairn", version, runtime.GOOS+"_"+runtime.GOARCH)
	must(t, os.MkdirAll(pluginDir, 0o755))
	copyFile(t, bin, filepath.Join(pluginDir, "terraform-provider-cairn_v"+version), 0o755)
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

	work := filepath.Join(tmp, "tenant")
	must(t, os.CopyFS(work, os.DirFS(filepath.Join("examples", "tenant"))))

	env := []string{
		"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0",
		"CAIRN_ENDPOINT=" + srv.URL, "CAIRN_ACCESS_KEY=" + srv.AccessKey, "CAIRN_SECRET_KEY=" + srv.SecretKey,
		"TF_VAR_tenant=acme", "TF_VAR_app_secret_key=" + appSecret, "TF_VAR_allow_key_deletion=true",
	}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); {
		case strings.HasPrefix(name, "TF_"), strings.HasPrefix(name, "CAIRN_"):
			// only what is set above
		default:
			env = append(env, kv)
		}
	}
	terraform := func(args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
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

	if out := run("init", "-no-color"); !strings.Contains(out, "Installing cairn/cairn v"+version) {
		t.Fatalf("terraform init did not install cairn/cairn %s from the mirror:\n%s", version, out)
	}
	run("apply", "-auto-approve", "-no-color")

	out, err := terraform("plan", "-detailed-exitcode", "-no-color")
	if err != nil {
		t.Fatalf("terraform plan -detailed-exitcode after apply: %v (exit 2 = changes planned)\n%s", err, out)
	}

	// What was built works.
	ctx := context.Background()
	keyID := strings.TrimSpace(run("output", "-raw", "app_access_key"))
	app := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, appSecret, ""),
	})
	for _, b := range []string{"acme-data", "acme-public"} {
		for i := range 2 { // two versions each: destroy must remove them all
			if _, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("hello.txt"),
				Body: strings.NewReader(fmt.Sprintf("hello %d", i))}); err != nil {
				t.Fatalf("the app's access key cannot write to %s: %v", b, err)
			}
		}
	}
	// The private bucket's objects are sealed by the tenant's key; its lifecycle
	// rule is on the server.
	head, err := app.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("hello.txt")})
	must(t, err)
	if head.ServerSideEncryption != "aws:kms" || aws.ToString(head.SSEKMSKeyId) != "acme-key" {
		t.Errorf("object in acme-data encrypted with %q under %q, want aws:kms under acme-key", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
	}
	root := srv.Client()
	lc, err := root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("acme-data")})
	must(t, err)
	if len(lc.Rules) != 1 || aws.ToString(lc.Rules[0].ID) != "trim-versions" || lc.Rules[0].NoncurrentVersionExpiration == nil ||
		aws.ToInt32(lc.Rules[0].NoncurrentVersionExpiration.NoncurrentDays) != 30 {
		t.Errorf("acme-data's lifecycle rules: %+v", lc.Rules)
	}
	_, err = root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("other-tenant")})
	must(t, err)
	if _, err := app.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other-tenant"), Key: aws.String("x"), Body: strings.NewReader("x")}); errorCode(err) != "AccessDenied" {
		t.Errorf("the app's access key writing outside the tenant's buckets: %v, want AccessDenied", err)
	}
	if code, body := anonymous(t, http.MethodGet, srv.URL+"/acme-public/hello.txt"); code != http.StatusOK || body != "hello 1" {
		t.Errorf("anonymous GET of a public object: %d %q, want 200 \"hello 1\"", code, body)
	}
	if code, _ := anonymous(t, http.MethodGet, srv.URL+"/acme-data/hello.txt"); code != http.StatusForbidden {
		t.Errorf("anonymous GET of a private object: %d, want 403", code)
	}
	if code, _ := anonymous(t, http.MethodPut, srv.URL+"/acme-public/defaced.txt"); code != http.StatusForbidden {
		t.Errorf("anonymous PUT to the public bucket: %d, want 403", code)
	}
	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	must(t, err)
	if bytes.Contains(state, []byte(appSecret)) {
		t.Errorf("the write-only secret is in terraform.tfstate")
	}

	run("destroy", "-auto-approve", "-no-color")
	adm, err := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	must(t, err)
	if _, err := adm.GetUser(ctx, "acme-app"); !admin.IsNotFound(err) {
		t.Errorf("user acme-app after destroy: %v, want NoSuchUser", err)
	}
	if _, err := adm.KMSKeyStatus(ctx, "acme-key"); !admin.IsNotFound(err) {
		t.Errorf("KMS key acme-key after destroy: %v, want not found", err)
	}
	if _, err := adm.GetPolicy(ctx, "acme-readwrite"); !admin.IsNotFound(err) {
		t.Errorf("policy acme-readwrite after destroy: %v, want NoSuchPolicy", err)
	}
	buckets, err := root.ListBuckets(ctx, &s3.ListBucketsInput{})
	must(t, err)
	if len(buckets.Buckets) != 1 {
		t.Errorf("%d buckets after destroy, want only other-tenant", len(buckets.Buckets))
	}
}

// anonymous sends an unsigned request and returns the status and body.
func anonymous(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("x"))
	must(t, err)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
