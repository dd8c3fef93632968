package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// addTier gives e's server a remote tier named name: a bucket on a second
// test server.
func (e *accEnv) addTier(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	remote := servertest.New(t, servertest.Options{Drives: 4})
	if _, err := remote.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tier")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Admin.AddTier(ctx, admin.AddTierRequest{
		Tier:        admin.Tier{Name: name, Type: admin.TierS3, Endpoint: remote.URL, Bucket: "tier"},
		Credentials: admin.TierCredentials{AccessKey: remote.AccessKey, SecretKey: remote.SecretKey},
	}); err != nil {
		t.Fatalf("AddTier %s: %v", name, err)
	}
}

func TestAccBucketLifecycle(t *testing.T) {
	e := newAcc(t)
	e.addTier(t, "COLD")
	ctx := context.Background()
	const name = "acc-lifecycle"
	const bucket = `
resource "cairn_bucket" "b" {
  bucket        = "acc-lifecycle"
  force_destroy = true
}
`
	cfg := func(rules string) string {
		return e.config(bucket + fmt.Sprintf(`
resource "cairn_bucket_lifecycle" "l" {
  bucket = cairn_bucket.b.bucket
  rule = [%s]
}
`, rules))
	}
	first := cfg(`
    {
      id     = "logs"
      filter = { prefix = "logs/" }
      expiration = { days = 30 }
      abort_incomplete_multipart_upload = { days_after_initiation = 7 }
    },
    {
      id     = "big-tagged"
      filter = {
        prefix                   = "data/"
        tags                     = { class = "scratch", team = "ml" }
        object_size_greater_than = 1048576
      }
      noncurrent_version_expiration = {
        noncurrent_days           = 90
        newer_noncurrent_versions = 3
      }
    },
    {
      id         = "markers"
      expiration = { expired_object_delete_marker = true }
    },`)
	second := cfg(`
    {
      id     = "logs"
      status = "Disabled"
      filter = { prefix = "logs/" }
      expiration = { date = "2030-01-31T00:00:00Z" }
    },
    {
      id         = "archive"
      filter     = { object_size_less_than = 4096 }
      transition = [{
        days          = 30
        storage_class = "COLD"
      }]
      noncurrent_version_transition = [{
        noncurrent_days = 7
        storage_class   = "COLD"
      }]
    },`)
	// server returns the rules the server stores, by id.
	server := func() (map[string]s3types.LifecycleRule, error) {
		out, err := e.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(name)})
		if err != nil {
			return nil, err
		}
		rules := map[string]s3types.LifecycleRule{}
		for _, r := range out.Rules {
			rules[aws.ToString(r.ID)] = r
		}
		return rules, nil
	}
	const l = "cairn_bucket_lifecycle.l"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{
				Config: first,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(l, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(l, tfjsonpath.New("rule").AtSliceIndex(0).AtMapKey("status"), knownvalue.StringExact("Enabled")),
					statecheck.ExpectKnownValue(l, tfjsonpath.New("rule").AtSliceIndex(1).AtMapKey("filter").AtMapKey("tags"),
						knownvalue.MapExact(map[string]knownvalue.Check{"class": knownvalue.StringExact("scratch"), "team": knownvalue.StringExact("ml")})),
					statecheck.ExpectKnownValue(l, tfjsonpath.New("rule").AtSliceIndex(2).AtMapKey("filter"), knownvalue.Null()),
				},
				Check: func(*terraform.State) error {
					rules, err := server()
					if err != nil {
						return err
					}
					if len(rules) != 3 {
						return fmt.Errorf("server has %d rules, want 3", len(rules))
					}
					logs := rules["logs"]
					if logs.Expiration == nil || aws.ToInt32(logs.Expiration.Days) != 30 || logs.AbortIncompleteMultipartUpload == nil ||
						aws.ToInt32(logs.AbortIncompleteMultipartUpload.DaysAfterInitiation) != 7 || logs.Filter == nil || aws.ToString(logs.Filter.Prefix) != "logs/" {
						return fmt.Errorf("server's rule logs is %+v", logs)
					}
					big := rules["big-tagged"]
					if big.Filter == nil || big.Filter.And == nil || len(big.Filter.And.Tags) != 2 || aws.ToInt64(big.Filter.And.ObjectSizeGreaterThan) != 1048576 {
						return fmt.Errorf("server's rule big-tagged has filter %+v, want an And of prefix, two tags and a size", big.Filter)
					}
					if nv := big.NoncurrentVersionExpiration; nv == nil || aws.ToInt32(nv.NoncurrentDays) != 90 || aws.ToInt32(nv.NewerNoncurrentVersions) != 3 {
						return fmt.Errorf("server's rule big-tagged has noncurrent expiration %+v", nv)
					}
					if m := rules["markers"].Expiration; m == nil || !aws.ToBool(m.ExpiredObjectDeleteMarker) {
						return fmt.Errorf("server's rule markers has expiration %+v", m)
					}
					return nil
				},
			},
			{ResourceName: l, ImportState: true, ImportStateVerify: true},
			{ResourceName: l, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(l, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(l, tfjsonpath.New("rule").AtSliceIndex(0).AtMapKey("expiration").AtMapKey("date"), knownvalue.StringExact("2030-01-31T00:00:00Z")),
				},
				Check: func(*terraform.State) error {
					rules, err := server()
					if err != nil {
						return err
					}
					if len(rules) != 2 || rules["logs"].Status != s3types.ExpirationStatusDisabled {
						return fmt.Errorf("server has rules %v, want logs (disabled) and archive", rules)
					}
					a := rules["archive"]
					if len(a.Transitions) != 1 || a.Transitions[0].StorageClass != "COLD" || aws.ToInt32(a.Transitions[0].Days) != 30 ||
						len(a.NoncurrentVersionTransitions) != 1 || aws.ToInt32(a.NoncurrentVersionTransitions[0].NoncurrentDays) != 7 {
						return fmt.Errorf("server's rule archive is %+v", a)
					}
					return nil
				},
			},
			{ResourceName: l, ImportState: true, ImportStateVerify: true},
			{ // a rule enabled outside Terraform: the plan disables it again
				PreConfig: func() {
					_, err := e.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
						Bucket: aws.String(name),
						LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
							ID: aws.String("logs"), Status: s3types.ExpirationStatusEnabled,
							Filter:     &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
							Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)},
						}}},
					})
					must(t, err)
				},
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(l, plancheck.ResourceActionUpdate),
				}},
			},
			{ // deleted outside Terraform: the plan creates it again
				PreConfig: func() {
					_, err := e.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(name)})
					must(t, err)
				},
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(l, plancheck.ResourceActionCreate),
				}},
			},
			{ // the resource alone destroyed: the bucket has no rules left
				Config: e.config(bucket),
				Check: func(*terraform.State) error {
					_, err := e.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(name)})
					if errorCode(err) != "NoSuchLifecycleConfiguration" {
						return fmt.Errorf("GetBucketLifecycleConfiguration after destroy: %v, want NoSuchLifecycleConfiguration", err)
					}
					return nil
				},
			},
		},
	})
}

func TestAccBucketLifecycleInvalid(t *testing.T) {
	e := newAcc(t)
	for _, c := range []struct{ name, rule, want string }{
		{"date not midnight", `{
      id         = "r"
      expiration = { date = "2030-01-31T12:00:00Z" }
    }`, `is not midnight UTC`},
		{"tier name", `{
      id         = "r"
      transition = [{
        days          = 1
        storage_class = "cold"
      }]
    }`, `"cold" must start with an upper-case letter`},
		{"status", `{
      id     = "r"
      status = "On"
      expiration = { days = 1 }
    }`, `value must be one of: ["Enabled" "Disabled"]`},
		{"empty filter", `{
      id         = "r"
      filter     = {}
      expiration = { days = 1 }
    }`, `A filter needs at least one of prefix`},
		{"two expirations", `{
      id         = "r"
      expiration = {
        days = 1
        date = "2030-01-31T00:00:00Z"
      }
    }`, `An expiration sets exactly one of days, date or expired_object_delete_marker`},
		{"no action", `{ id = "r" }`, `A rule needs at least one of expiration`},
		{"duplicate id", `{
      id         = "r"
      expiration = { days = 1 }
    },
    {
      id         = "r"
      expiration = { days = 2 }
    }`, `Rule id "r" is used by more than one rule`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config(fmt.Sprintf("resource \"cairn_bucket_lifecycle\" \"l\" {\n  bucket = \"some-bucket\"\n  rule   = [%s]\n}\n", c.rule)),
					PlanOnly:    true,
					ExpectError: errorLike(c.want),
				}},
			})
		})
	}
}

// What other clients write reads back in the one form a configuration can
// have: the legacy top-level Prefix, a one-condition Filter and an And are all
// filter; an empty prefix is no filter; a date keeps the configured spelling
// when it is the same day.
func TestLifecycleFromS3Normalizes(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	rules := []s3types.LifecycleRule{
		{ID: aws.String("legacy"), Status: "Enabled", Prefix: aws.String("logs/"), Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(3)}},
		{ID: aws.String("empty"), Status: "Enabled", Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")}, Expiration: &s3types.LifecycleExpiration{Date: &day}},
		{ID: aws.String("and"), Status: "Disabled", Filter: &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{
			Prefix: aws.String("a/"), Tags: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
		}}, AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}},
	}
	prior := []lifecycleRule{{ID: types.StringValue("empty"), Expiration: &lifecycleExpiration{Date: types.StringValue("2030-01-31T00:00:00+00:00")}}}
	var m bucketLifecycleModel
	if err := m.fromS3(ctx, rules, prior); err != nil {
		t.Fatal(err)
	}
	if len(m.Rules) != 3 {
		t.Fatalf("%d rules, want 3", len(m.Rules))
	}
	if f := m.Rules[0].Filter; f == nil || f.Prefix.ValueString() != "logs/" || !f.Tags.IsNull() {
		t.Errorf("legacy Prefix read as filter %+v, want prefix logs/", f)
	}
	if f := m.Rules[1].Filter; f != nil {
		t.Errorf("empty prefix read as filter %+v, want none", f)
	}
	if d := m.Rules[1].Expiration.Date.ValueString(); d != "2030-01-31T00:00:00+00:00" {
		t.Errorf("date read as %q, want the configured spelling kept", d)
	}
	f := m.Rules[2].Filter
	if f == nil || f.Prefix.ValueString() != "a/" || len(f.Tags.Elements()) != 1 || !f.ObjectSizeGreaterThan.IsNull() {
		t.Errorf("And read as filter %+v, want prefix a/ and one tag", f)
	}
	if m.Rules[2].Status.ValueString() != "Disabled" || m.Rules[2].Expiration != nil {
		t.Errorf("rule and: %+v", m.Rules[2])
	}
	// And back: one condition is a plain Filter, several are an And.
	cfg, err := m.toS3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fl := cfg.Rules[0].Filter; fl == nil || aws.ToString(fl.Prefix) != "logs/" || fl.And != nil {
		t.Errorf("one condition written as %+v, want a plain prefix filter", fl)
	}
	if fl := cfg.Rules[2].Filter; fl == nil || fl.And == nil || len(fl.And.Tags) != 1 || aws.ToString(fl.And.Prefix) != "a/" {
		t.Errorf("two conditions written as %+v, want an And", fl)
	}
	if fl := cfg.Rules[1].Filter; fl == nil || fl.Prefix != nil || fl.And != nil || fl.Tag != nil {
		t.Errorf("no filter written as %+v, want an empty Filter (every object)", fl)
	}
}
