package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/admin"
)

func TestAccKMSKey(t *testing.T) {
	e := newAccKMS(t)
	ctx := context.Background()
	const name = "acc-tenant"
	cfg := func(extra string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_kms_key" "k" {
  name = %q
  %s
}
`, name, extra))
	}
	version := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			k, err := e.Admin.KMSKeyStatus(ctx, name)
			if err != nil {
				return err
			}
			if k.Version != want {
				return fmt.Errorf("server's key %s is at version %d, want %d", name, k.Version, want)
			}
			return nil
		}
	}
	const k = "cairn_kms_key.k"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := e.Admin.KMSKeyStatus(ctx, name); !admin.IsNotFound(err) {
				return fmt.Errorf("KMS key %s after destroy: %v, want not found", name, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(k, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(k, tfjsonpath.New("version"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(k, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(k, tfjsonpath.New("backend"), knownvalue.StringExact("builtin")),
					statecheck.ExpectKnownValue(k, tfjsonpath.New("created"), knownvalue.StringRegexp(errorLike("T"))),
					statecheck.ExpectKnownValue(k, tfjsonpath.New("deletion_allowed"), knownvalue.Bool(false)),
				},
				Check: version(1),
			},
			{ResourceName: k, ImportState: true, ImportStateVerify: true},
			{ResourceName: k, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(`rotate_trigger = "2026-q1"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(k, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(k, tfjsonpath.New("version")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(k, tfjsonpath.New("version"), knownvalue.Int64Exact(2)),
				},
				Check: version(2),
			},
			{ // deleted outside Terraform: the plan creates it again
				PreConfig: func() { must(t, e.Admin.DeleteKMSKey(ctx, name)) },
				Config:    cfg(`rotate_trigger = "2026-q1"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(k, plancheck.ResourceActionCreate),
				}},
				Check: version(1),
			},
			{ // destroy without deletion_allowed is refused and keeps the key
				Config:      e.config(""),
				ExpectError: errorLike("would make every object it sealed unreadable"),
			},
			{
				Config: cfg(`rotate_trigger = "2026-q1"
  deletion_allowed = true`),
				Check: version(1),
			},
		},
	})
}

// The server refuses to delete a key that a bucket's default encryption names,
// and the provider says why.
func TestAccKMSKeyInUse(t *testing.T) {
	e := newAccKMS(t)
	withKey := e.config(`
resource "cairn_kms_key" "k" {
  name             = "acc-in-use"
  deletion_allowed = true
}
resource "cairn_bucket" "b" {
  bucket        = "acc-key-in-use"
  force_destroy = true
}
resource "cairn_bucket_encryption" "e" {
  bucket = cairn_bucket.b.bucket
  rule = {
    sse_algorithm     = "aws:kms"
    kms_master_key_id = "acc-in-use" # a literal: no dependency on the key resource
  }
  depends_on = [cairn_kms_key.k]
}
`)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{Config: withKey},
			{
				Config: e.config(`
resource "cairn_bucket" "b" {
  bucket        = "acc-key-in-use"
  force_destroy = true
}
resource "cairn_bucket_encryption" "e" {
  bucket = cairn_bucket.b.bucket
  rule = {
    sse_algorithm     = "aws:kms"
    kms_master_key_id = "acc-in-use"
  }
}
`),
				ExpectError: errorLike("bucket acc-key-in-use's default encryption uses"),
			},
			{ // the key is still there, in state and on the server; destroy (encryption first) works
				Config: withKey,
				Check: func(*terraform.State) error {
					_, err := e.Admin.KMSKeyStatus(context.Background(), "acc-in-use")
					return err
				},
			},
		},
	})
}

// A server without a KMS says so, for keys and for default encryption.
func TestAccKMSKeyNoKMS(t *testing.T) {
	e := newAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{
				Config:      e.config(`resource "cairn_kms_key" "k" { name = "k" }`),
				ExpectError: errorLike("CreateKMSKey on KMS key k: cairn admin: NotImplemented (501)"),
			},
			{
				Config: e.config(`
resource "cairn_bucket" "b" {
  bucket = "acc-no-kms"
}
resource "cairn_bucket_encryption" "e" {
  bucket = cairn_bucket.b.bucket
  rule   = { sse_algorithm = "AES256" }
}
`),
				ExpectError: errorLike("PutBucketEncryption on bucket acc-no-kms"),
			},
		},
	})
}
