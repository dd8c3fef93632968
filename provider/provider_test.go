package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// TestMain turns acceptance tests on, so `go test ./...` (and `make test`) runs them
// against the terraform on PATH instead of silently skipping them.
func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") == "" {
		os.Setenv("TF_ACC", "1")
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if p, err := exec.LookPath("terraform"); err == nil {
			os.Setenv("TF_ACC_TERRAFORM_PATH", p)
		}
	}
	os.Setenv("CHECKPOINT_DISABLE", "1")
	os.Exit(servertest.Main(m)) // removes the cairn binary TestTenantExample built
}

// needTerraform fails the test in CI and skips it elsewhere when no terraform binary
// is available.
func needTerraform(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("terraform is not on PATH: CI must install it (acceptance tests may not be skipped in CI)")
		}
		t.Skip("terraform is not on PATH; install Terraform >= 1.5 to run the acceptance tests")
	}
	return p
}

// accEnv is one acceptance test's world: its own server, and S3 and admin
// clients (root) for checks and out-of-band changes.
type accEnv struct {
	Endpoint string
	S3       *s3.Client
	Admin    *admin.Client
	Server   *servertest.Server
}

// newAcc starts a server for one acceptance test.
func newAcc(t *testing.T) *accEnv {
	t.Helper()
	return newAccWith(t, servertest.Options{})
}

// newAccKMS starts a server with the built-in KMS (default key cairn-default),
// for the encryption tests.
func newAccKMS(t *testing.T) *accEnv {
	t.Helper()
	return newAccWith(t, servertest.Options{KMS: server.KMSConfig{MasterKey: bytes.Repeat([]byte{7}, 32)}})
}

// newAccWith starts a server with opts for one acceptance test.
func newAccWith(t *testing.T, opts servertest.Options) *accEnv {
	t.Helper()
	needTerraform(t)
	srv := servertest.New(t, opts)
	adm, err := admin.New(srv.URL, admin.Options{AccessKey: servertest.AccessKey, SecretKey: servertest.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return &accEnv{Endpoint: srv.URL, S3: srv.Client(), Admin: adm, Server: srv}
}

// factories serves the provider in-process to the terraform binary.
func factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"cairn": providerserver.NewProtocol6WithError(New("test")()),
	}
}

// config prefixes an HCL configuration with the provider block for this server.
func (e *accEnv) config(hcl string) string {
	return fmt.Sprintf(`
provider "cairn" {
  endpoint   = %q
  access_key = %q
  secret_key = %q
}
`, e.Endpoint, servertest.AccessKey, servertest.SecretKey) + hcl
}

func (e *accEnv) mkBucket(t *testing.T, name string) {
	t.Helper()
	if _, err := e.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// bucketGone is a CheckDestroy that the bucket no longer exists.
func (e *accEnv) bucketGone(name string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, err := e.S3.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(name)})
		if err == nil {
			return fmt.Errorf("bucket %s still exists after destroy", name)
		}
		if !isNotFound(err) {
			return fmt.Errorf("HeadBucket %s: %v", name, err)
		}
		return nil
	}
}

// must fails the test from inside a PreConfig.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errorLike matches an error message that terraform may have wrapped across lines:
// text is literal, each space matches any run of white space.
func errorLike(text string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(text), " ", `\s+`))
}
