package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccBucket(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name = "acc-bucket"
	cfg := func(forceDestroy bool) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = %t
}
resource "cairn_bucket" "gen" {
  bucket_prefix = "acc-gen-"
}
`, name, forceDestroy))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{ // create; the framework then checks that a second plan is empty
				Config: cfg(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:s3:::"+name)),
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("object_lock_enabled"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("creation_date"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
					statecheck.ExpectKnownValue("cairn_bucket.gen", tfjsonpath.New("bucket"), knownvalue.StringRegexp(regexp.MustCompile(`^acc-gen-\d{18}[0-9a-f]{8}$`))),
				},
			},
			{ // terraform import
				ResourceName:      "cairn_bucket.b",
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // import block: the plan is a no-op import
				ResourceName:    "cairn_bucket.b",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
			},
			{ // update in place
				Config: cfg(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket.b", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("cairn_bucket.gen", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("force_destroy"), knownvalue.Bool(true)),
				},
			},
			{ // deleted outside Terraform: the next plan creates it again
				PreConfig: func() {
					_, err := e.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
					must(t, err)
				},
				Config: cfg(true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket.b", plancheck.ResourceActionCreate),
				}},
			},
			{ // renaming replaces
				Config: strings.Replace(cfg(true), `"`+name+`"`, `"`+name+`-2"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket.b", plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
	})
}

func TestAccBucketNotEmptyWithoutForceDestroy(t *testing.T) {
	e := newAcc(t)
	const name = "acc-not-empty"
	cfg := func(forceDestroy bool) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = %t
}
`, name, forceDestroy))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{Config: cfg(false)},
			{
				PreConfig: func() {
					_, err := e.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("keep"), Body: strings.NewReader("x")})
					must(t, err)
				},
				Config:      cfg(false),
				Destroy:     true,
				ExpectError: errorLike(`Bucket "acc-not-empty" still holds objects`),
			},
			{Config: cfg(true)}, // then force_destroy lets the final destroy succeed
		},
	})
}

// TestAccBucketForceDestroyVersioned destroys a versioned bucket holding 100 object
// versions and 20 delete markers (plus an unfinished multipart upload).
func TestAccBucketForceDestroyVersioned(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name = "acc-force-destroy"
	cfg := e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = true
}
resource "cairn_bucket_versioning" "v" {
  bucket = cairn_bucket.b.bucket
  status = "Enabled"
}
`, name))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					for i := range 100 {
						_, err := e.S3.PutObject(ctx, &s3.PutObjectInput{
							Bucket: aws.String(name), Key: aws.String(fmt.Sprintf("dir/key-%d", i%20)),
							Body: strings.NewReader(fmt.Sprintf("version %d", i)),
						})
						must(t, err)
					}
					for i := range 20 {
						_, err := e.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(fmt.Sprintf("dir/key-%d", i))})
						must(t, err)
					}
					_, err := e.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(name), Key: aws.String("unfinished")})
					must(t, err)
					versions, markers := 0, 0
					pages := s3.NewListObjectVersionsPaginator(e.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(name)})
					for pages.HasMorePages() {
						page, err := pages.NextPage(ctx)
						must(t, err)
						versions += len(page.Versions)
						markers += len(page.DeleteMarkers)
					}
					if versions != 100 || markers != 20 {
						t.Fatalf("bucket holds %d versions and %d delete markers, want 100 and 20", versions, markers)
					}
				},
				Config: cfg,
			},
		},
	})
}

func TestAccBucketObjectLock(t *testing.T) {
	e := newAcc(t)
	const name = "acc-locked"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket              = %q
  object_lock_enabled = true
}
`, name)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("object_lock_enabled"), knownvalue.Bool(true)),
			},
			Check: func(*terraform.State) error {
				out, err := e.S3.GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
				if err != nil {
					return err
				}
				if out.Status != s3types.BucketVersioningStatusEnabled {
					return fmt.Errorf("an object-lock bucket has versioning %q, want Enabled", out.Status)
				}
				return nil
			},
		}},
	})
}

func TestAccBucketInvalidName(t *testing.T) {
	e := newAcc(t)
	for _, tc := range []struct{ name, want string }{
		{"Upper", `must begin and end with a lower-case letter or a digit`},
		{"ab", `must be 3 to 63 characters long`},
		{"a_b_c", `may contain only lower-case letters, digits, hyphens and periods`},
		{"192.168.1.1", `must not be formatted as an IP address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config(fmt.Sprintf("resource \"cairn_bucket\" \"b\" {\n  bucket = %q\n}\n", tc.name)),
					PlanOnly:    true,
					ExpectError: errorLike(tc.want),
				}},
			})
		})
	}
}

// TestAccBucketImportObjectLock imports a bucket made with object lock. Where the
// server cannot report object lock, configuring object_lock_enabled = true must
// record it, never replace (destroy) the imported bucket.
func TestAccBucketImportObjectLock(t *testing.T) {
	e := newAcc(t)
	const name = "acc-import-locked"
	_, err := e.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)})
	must(t, err)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{{
			Config: e.config(fmt.Sprintf(`
import {
  to = cairn_bucket.b
  id = %[1]q
}
resource "cairn_bucket" "b" {
  bucket              = %[1]q
  object_lock_enabled = true
}
`, name)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{notReplaced("cairn_bucket.b")}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("cairn_bucket.b", tfjsonpath.New("object_lock_enabled"), knownvalue.Bool(true)),
			},
		}},
	})
}

// notReplaced is a plan check that the resource is not destroyed and recreated.
type notReplaced string

func (a notReplaced) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address == string(a) && rc.Change != nil && rc.Change.Actions.Replace() {
			resp.Error = fmt.Errorf("%s is planned for replacement (%v)", a, rc.Change.Actions)
		}
	}
}
