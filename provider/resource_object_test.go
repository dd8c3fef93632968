package provider

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestAccObject(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const bucket = "acc-object"
	binary := string([]byte{0, 1, 2, 0xff, 0xfe, 'x'})
	src := filepath.Join(t.TempDir(), "page.html")
	must(t, os.WriteFile(src, []byte("<h1>v1</h1>"), 0o644))

	cfg := func(key, body string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = true
}
resource "cairn_bucket_versioning" "v" {
  bucket = cairn_bucket.b.bucket
  status = "Enabled"
}
resource "cairn_object" "o" {
  bucket       = cairn_bucket_versioning.v.bucket
  key          = %q
  content_type = "text/plain"
  %s
}
`, bucket, key, body))
	}
	body := func() (string, error) {
		out, err := e.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/greeting.txt")})
		if err != nil {
			return "", err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return string(b), err
	}
	bodyIs := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got, err := body()
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("object body is %q, want %q", got, want)
			}
			return nil
		}
	}
	const o = "cairn_object.o"
	step1 := cfg("docs/greeting.txt", `content = "hello"
  metadata = { owner = "alice" }`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(bucket),
		Steps: []resource.TestStep{
			{
				Config: step1,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(o, tfjsonpath.New("id"), knownvalue.StringExact(bucket+"/docs/greeting.txt")),
					statecheck.ExpectKnownValue(o, tfjsonpath.New("etag"), knownvalue.StringExact(md5hex("hello"))),
					statecheck.ExpectKnownValue(o, tfjsonpath.New("version_id"), knownvalue.StringRegexp(regexp.MustCompile(`^.{8,}$`))),
					statecheck.ExpectKnownValue(o, tfjsonpath.New("metadata"), knownvalue.MapExact(map[string]knownvalue.Check{"owner": knownvalue.StringExact("alice")})),
				},
				Check: bodyIs("hello"),
			},
			{ResourceName: o, ImportState: true, ImportStateVerify: true},
			{ResourceName: o, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg("docs/greeting.txt", `content = "hello, world"
  metadata = { owner = "bob" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(o, tfjsonpath.New("etag"), knownvalue.StringExact(md5hex("hello, world"))),
					plancheck.ExpectUnknownValue(o, tfjsonpath.New("version_id")),
				}},
				Check: bodyIs("hello, world"),
			},
			{ // overwritten outside Terraform: the etag differs, the plan rewrites it
				PreConfig: func() {
					_, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/greeting.txt"), Body: strings.NewReader("tampered")})
					must(t, err)
				},
				Config: cfg("docs/greeting.txt", `content = "hello, world"
  metadata = { owner = "bob" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
				}},
				Check: bodyIs("hello, world"),
			},
			{ // binary body
				Config: cfg("docs/greeting.txt", fmt.Sprintf("content_base64 = %q", base64.StdEncoding.EncodeToString([]byte(binary)))),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(o, tfjsonpath.New("etag"), knownvalue.StringExact(md5hex(binary))),
					statecheck.ExpectKnownValue(o, tfjsonpath.New("metadata"), knownvalue.Null()),
				},
				Check: bodyIs(binary),
			},
			{ // from a file
				Config: cfg("docs/greeting.txt", fmt.Sprintf("source = %q", src)),
				Check:  bodyIs("<h1>v1</h1>"),
			},
			{ // the file changed: planned as an update without touching the config
				PreConfig: func() { must(t, os.WriteFile(src, []byte("<h1>v2</h1>"), 0o644)) },
				Config:    cfg("docs/greeting.txt", fmt.Sprintf("source = %q", src)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
				}},
				Check: bodyIs("<h1>v2</h1>"),
			},
			{ // a new key replaces the object (and removes the old key's versions)
				Config: cfg("docs/renamed.txt", fmt.Sprintf("source = %q", src)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					out, err := e.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("docs/greeting.txt")})
					if err != nil {
						return err
					}
					if n := len(out.Versions) + len(out.DeleteMarkers); n != 0 {
						return fmt.Errorf("the replaced key still has %d versions", n)
					}
					return nil
				},
			},
			{ // deleted outside Terraform: planned for creation
				PreConfig: func() {
					_, err := e.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/renamed.txt")})
					must(t, err)
				},
				Config: cfg("docs/renamed.txt", fmt.Sprintf("source = %q", src)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccObjectConflictingBodies(t *testing.T) {
	e := newAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: e.config(`
resource "cairn_object" "o" {
  bucket  = "some-bucket"
  key     = "k"
  content = "a"
  source  = "/etc/hostname"
}
`),
			PlanOnly:    true,
			ExpectError: errorLike(`Attribute "source" cannot be specified when "content" is specified`),
		}},
	})
}
