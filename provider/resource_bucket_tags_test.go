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

func TestAccBucketTags(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name = "acc-tags"
	cfg := func(tags string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket = %q
}
resource "cairn_bucket_tags" "t" {
  bucket = cairn_bucket.b.bucket
  tags   = %s
}
`, name, tags))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{
				Config: cfg(`{ team = "storage", env = "test" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("cairn_bucket_tags.t", tfjsonpath.New("tags"), knownvalue.MapExact(map[string]knownvalue.Check{
						"team": knownvalue.StringExact("storage"), "env": knownvalue.StringExact("test"),
					})),
				},
			},
			{ResourceName: "cairn_bucket_tags.t", ImportState: true, ImportStateVerify: true},
			{ResourceName: "cairn_bucket_tags.t", ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(`{ team = "storage", env = "prod", "cost center" = "42" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket_tags.t", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					out, err := e.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
					if err != nil {
						return err
					}
					if len(out.TagSet) != 3 {
						return fmt.Errorf("server holds %d tags, want 3", len(out.TagSet))
					}
					return nil
				},
			},
			{ // retagged outside Terraform: the plan restores the configured set
				PreConfig: func() {
					_, err := e.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
						Bucket:  aws.String(name),
						Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("team"), Value: aws.String("intruder")}}},
					})
					must(t, err)
				},
				Config: cfg(`{ team = "storage", env = "prod", "cost center" = "42" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket_tags.t", plancheck.ResourceActionUpdate),
				}},
			},
			{ // all tags removed outside Terraform: also a diff
				PreConfig: func() {
					_, err := e.S3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(name)})
					must(t, err)
				},
				Config: cfg(`{ team = "storage", env = "prod", "cost center" = "42" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_bucket_tags.t", plancheck.ResourceActionUpdate),
				}},
			},
		},
	})
}
