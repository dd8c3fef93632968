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

func TestAccObjectSSE(t *testing.T) {
	e := newAccKMS(t)
	ctx := context.Background()
	if _, err := e.Admin.CreateKMSKey(ctx, "acc-object-key"); err != nil {
		t.Fatal(err)
	}
	const bucket = "acc-object-sse"
	cfg := func(sse string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket        = %q
  force_destroy = true
}
resource "cairn_bucket_encryption" "e" {
  bucket = cairn_bucket.b.bucket
  rule   = { sse_algorithm = "AES256" }
}
resource "cairn_object" "o" {
  bucket  = cairn_bucket.b.bucket
  key     = "secret.txt"
  content = "top secret"
  %s
}
resource "cairn_object" "default" {
  bucket     = cairn_bucket.b.bucket
  key        = "plain.txt"
  content    = "takes the bucket default"
  depends_on = [cairn_bucket_encryption.e]
}
`, bucket, sse))
	}
	head := func(key string, alg s3types.ServerSideEncryption, kmsKey string) error {
		out, err := e.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		if out.ServerSideEncryption != alg || aws.ToString(out.SSEKMSKeyId) != kmsKey {
			return fmt.Errorf("%s is encrypted with %q (key %q), want %q (key %q)", key, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), alg, kmsKey)
		}
		return nil
	}
	const o = "cairn_object.o"
	kms := `server_side_encryption = "aws:kms"
  kms_key_id             = "acc-object-key"`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(bucket),
		Steps: []resource.TestStep{
			{
				Config: cfg(`server_side_encryption = "aws:kms"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(o, tfjsonpath.New("server_side_encryption"), knownvalue.StringExact("aws:kms")),
					statecheck.ExpectKnownValue(o, tfjsonpath.New("kms_key_id"), knownvalue.StringExact("cairn-default")),
					// SSE-KMS ETags are not digests; the attribute stays the body's MD5.
					statecheck.ExpectKnownValue(o, tfjsonpath.New("etag"), knownvalue.StringExact(md5hex("top secret"))),
					statecheck.ExpectKnownValue("cairn_object.default", tfjsonpath.New("server_side_encryption"), knownvalue.StringExact("AES256")),
					statecheck.ExpectKnownValue("cairn_object.default", tfjsonpath.New("kms_key_id"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					if err := head("secret.txt", s3types.ServerSideEncryptionAwsKms, "cairn-default"); err != nil {
						return err
					}
					return head("plain.txt", s3types.ServerSideEncryptionAes256, "")
				},
			},
			{ResourceName: o, ImportState: true, ImportStateVerify: true},
			{ResourceName: o, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(kms),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("cairn_object.default", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(o, tfjsonpath.New("kms_key_id"), knownvalue.StringExact("acc-object-key")),
				},
				Check: func(*terraform.State) error {
					return head("secret.txt", s3types.ServerSideEncryptionAwsKms, "acc-object-key")
				},
			},
			{ // the same body rewritten outside Terraform with SSE-S3: drift, written again
				PreConfig: func() {
					_, err := e.S3.PutObject(ctx, &s3.PutObjectInput{
						Bucket: aws.String(bucket), Key: aws.String("secret.txt"), Body: strings.NewReader("top secret"),
						ServerSideEncryption: s3types.ServerSideEncryptionAes256,
					})
					must(t, err)
				},
				Config: cfg(kms),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(o, tfjsonpath.New("server_side_encryption"), knownvalue.StringExact("aws:kms")),
				}},
				Check: func(*terraform.State) error {
					return head("secret.txt", s3types.ServerSideEncryptionAwsKms, "acc-object-key")
				},
			},
			{
				Config: cfg(`server_side_encryption = "AES256"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(o, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(o, tfjsonpath.New("kms_key_id"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error { return head("secret.txt", s3types.ServerSideEncryptionAes256, "") },
			},
		},
	})
}

func TestAccObjectSSEInvalid(t *testing.T) {
	e := newAcc(t)
	for _, c := range []struct{ name, attrs, want string }{
		{"key with AES256", "server_side_encryption = \"AES256\"\n  kms_key_id = \"k\"", "kms_key_id names the key of SSE-KMS"},
		{"key without algorithm", `kms_key_id = "k"`, "kms_key_id names the key of SSE-KMS"},
		{"algorithm", `server_side_encryption = "aws:kms:dsse"`, `value must be one of: ["AES256" "aws:kms"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config: e.config(fmt.Sprintf(`
resource "cairn_object" "o" {
  bucket  = "some-bucket"
  key     = "k"
  content = "x"
  %s
}
`, c.attrs)),
					PlanOnly:    true,
					ExpectError: errorLike(c.want),
				}},
			})
		})
	}
}
