package provider

import (
	"context"
	"fmt"
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

func TestAccBucketVersioning(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name = "acc-versioning"
	cfg := func(status string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = true
}
resource "cairn_bucket_versioning" "v" {
  bucket = cairn_bucket.b.bucket
  status = %q
}
`, name, status))
	}
	status := func(want s3types.BucketVersioningStatus) error {
		out, err := e.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)})
		if err != nil {
			return err
		}
		if out.Status != want {
			return fmt.Errorf("server says versioning is %q, want %q", out.Status, want)
		}
		return nil
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{
				Config: cfg("Enabled"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("cairn_bucket_versioning.v", tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue("cairn_bucket_versioning.v", tfjsonpath.New("status"), knownvalue.StringExact("Enabled")),
				},
				Check: func(*terraform.State) error { return status(s3types.BucketVersioningStatusEnabled) },
			},
			{ResourceName: "cairn_bucket_versioning.v", ImportState: true, ImportStateVerify: true},
			{ResourceName: "cairn_bucket_versioning.v", ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg("Suspended"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket_versioning.v", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error { return status(s3types.BucketVersioningStatusSuspended) },
			},
			{ // enabled again outside Terraform: the plan puts it back
				PreConfig: func() {
					_, err := e.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
						Bucket:                  aws.String(name),
						VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
					})
					must(t, err)
				},
				Config: cfg("Suspended"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket_versioning.v", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("cairn_bucket_versioning.v", tfjsonpath.New("status"), knownvalue.StringExact("Suspended")),
				}},
				Check: func(*terraform.State) error { return status(s3types.BucketVersioningStatusSuspended) },
			},
		},
	})
}

func TestAccBucketVersioningInvalidStatus(t *testing.T) {
	e := newAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: e.config(`
resource "cairn_bucket_versioning" "v" {
  bucket = "some-bucket"
  status = "Disabled"
}
`),
			PlanOnly:    true,
			ExpectError: errorLike(`value must be one of: ["Enabled" "Suspended"]`),
		}},
	})
}
