package provider

import (
	"context"
	"fmt"
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

func TestAccBucketEncryption(t *testing.T) {
	e := newAccKMS(t)
	ctx := context.Background()
	const name = "acc-encryption"
	if _, err := e.Admin.CreateKMSKey(ctx, "acc-tenant-key"); err != nil {
		t.Fatal(err)
	}
	const bucket = `
resource "cairn_bucket" "b" {
  bucket        = "acc-encryption"
  force_destroy = true
}
`
	cfg := func(rule string) string {
		return e.config(bucket + fmt.Sprintf(`
resource "cairn_bucket_encryption" "e" {
  bucket = cairn_bucket.b.bucket
  rule   = %s
}
`, rule))
	}
	// written is the encryption a PUT without encryption headers gets.
	written := func(wantAlg s3types.ServerSideEncryption, wantKey string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			key := "probe-" + strings.ReplaceAll(string(wantAlg), ":", "-")
			if _, err := e.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
				return err
			}
			head, err := e.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(name), Key: aws.String(key)})
			if err != nil {
				return err
			}
			if head.ServerSideEncryption != wantAlg {
				return fmt.Errorf("object written with the default encryption has SSE %q, want %q", head.ServerSideEncryption, wantAlg)
			}
			if wantKey != "" && !strings.HasSuffix(aws.ToString(head.SSEKMSKeyId), wantKey) {
				return fmt.Errorf("object written with the default encryption is sealed by %q, want %q", aws.ToString(head.SSEKMSKeyId), wantKey)
			}
			return nil
		}
	}
	const r = "cairn_bucket_encryption.e"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{
				Config: cfg(`{ sse_algorithm = "AES256" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(r, tfjsonpath.New("rule").AtMapKey("sse_algorithm"), knownvalue.StringExact("AES256")),
					statecheck.ExpectKnownValue(r, tfjsonpath.New("rule").AtMapKey("kms_master_key_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(r, tfjsonpath.New("rule").AtMapKey("bucket_key_enabled"), knownvalue.Bool(false)),
				},
				Check: written(s3types.ServerSideEncryptionAes256, ""),
			},
			{ResourceName: r, ImportState: true, ImportStateVerify: true},
			{ResourceName: r, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(`{
    sse_algorithm      = "aws:kms"
    kms_master_key_id  = "acc-tenant-key"
    bucket_key_enabled = true
  }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r, tfjsonpath.New("rule").AtMapKey("kms_master_key_id"), knownvalue.StringExact("acc-tenant-key")),
					statecheck.ExpectKnownValue(r, tfjsonpath.New("rule").AtMapKey("bucket_key_enabled"), knownvalue.Bool(true)),
				},
				Check: written(s3types.ServerSideEncryptionAwsKms, "acc-tenant-key"),
			},
			{ // switched back to SSE-S3 outside Terraform: the plan puts SSE-KMS back
				PreConfig: func() {
					_, err := e.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
						Bucket: aws.String(name),
						ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
							ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
						}}},
					})
					must(t, err)
				},
				Config: cfg(`{
    sse_algorithm      = "aws:kms"
    kms_master_key_id  = "acc-tenant-key"
    bucket_key_enabled = true
  }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r, plancheck.ResourceActionUpdate),
				}},
				Check: written(s3types.ServerSideEncryptionAwsKms, "acc-tenant-key"),
			},
			{ // deleted outside Terraform: the plan creates it again
				PreConfig: func() {
					_, err := e.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(name)})
					must(t, err)
				},
				Config: cfg(`{ sse_algorithm = "aws:kms" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r, plancheck.ResourceActionCreate),
				}},
				Check: written(s3types.ServerSideEncryptionAwsKms, "cairn-default"),
			},
			{ // the resource alone destroyed: the bucket has no default encryption left
				Config: e.config(bucket),
				Check: func(*terraform.State) error {
					_, err := e.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
					if errorCode(err) != "ServerSideEncryptionConfigurationNotFoundError" {
						return fmt.Errorf("GetBucketEncryption after destroy: %v, want ServerSideEncryptionConfigurationNotFoundError", err)
					}
					return nil
				},
			},
		},
	})
}

func TestAccBucketEncryptionInvalid(t *testing.T) {
	e := newAcc(t)
	for _, c := range []struct{ name, rule, want string }{
		{"algorithm", `{ sse_algorithm = "DES" }`, `value must be one of: ["AES256" "aws:kms"]`},
		{"key without kms", `{
    sse_algorithm     = "AES256"
    kms_master_key_id = "k"
  }`, `kms_master_key_id names the key of SSE-KMS`},
		{"key id", `{
    sse_algorithm     = "aws:kms"
    kms_master_key_id = "bad key"
  }`, `"bad key" may contain only letters, digits and - _ . / :`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config(fmt.Sprintf("resource \"cairn_bucket_encryption\" \"e\" {\n  bucket = \"some-bucket\"\n  rule   = %s\n}\n", c.rule)),
					PlanOnly:    true,
					ExpectError: errorLike(c.want),
				}},
			})
		})
	}
}
