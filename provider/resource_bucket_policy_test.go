package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
)

func TestAccBucketPolicy(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name = "acc-policy"
	cfg := func(policy string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_bucket" "b" {
  bucket = %q
}
resource "cairn_bucket_policy" "p" {
  bucket = cairn_bucket.b.bucket
  policy = %s
}
`, name, policy))
	}
	readOnly := `jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublicRead"
      Effect    = "Allow"
      Principal = "*"
      Action    = ["s3:GetObject", "s3:ListBucket"]
      Resource  = ["arn:aws:s3:::acc-policy", "arn:aws:s3:::acc-policy/*"]
    }]
  })`
	// The same policy: reordered keys and lists, a heredoc with other whitespace,
	// {"AWS": "*"} for "*", and differently-cased action names.
	readOnlyReformatted := `<<-EOT
    {
      "Statement": [
        {
          "Resource": ["arn:aws:s3:::acc-policy/*", "arn:aws:s3:::acc-policy"],
          "Action":   ["S3:ListBucket", "s3:getobject"],
          "Principal": {"AWS": ["*"]},
          "Effect": "Allow",
          "Sid": "PublicRead"
        }
      ],
      "Version": "2012-10-17"
    }
  EOT`
	withDeny := `jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "PublicRead"
        Effect    = "Allow"
        Principal = "*"
        Action    = ["s3:GetObject", "s3:ListBucket"]
        Resource  = ["arn:aws:s3:::acc-policy", "arn:aws:s3:::acc-policy/*"]
      },
      {
        Sid       = "NoDeletes"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:DeleteObject"
        Resource  = "arn:aws:s3:::acc-policy/*"
      },
    ]
  })`
	stored := func() (string, error) {
		out, err := e.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy), nil
	}
	statements := func(n int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			p, err := stored()
			if err != nil {
				return err
			}
			d, err := iampolicy.Parse([]byte(p))
			if err != nil {
				return err
			}
			if len(d.Statements) != n {
				return fmt.Errorf("server holds %d statements, want %d", len(d.Statements), n)
			}
			return nil
		}
	}
	const p = "cairn_bucket_policy.p"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.bucketGone(name),
		Steps: []resource.TestStep{
			{Config: cfg(readOnly), Check: statements(1)},
			{ResourceName: p, ImportState: true, ImportStateVerify: true},
			{ResourceName: p, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{ // reformatted and reordered: no diff
				Config:   cfg(readOnlyReformatted),
				PlanOnly: true,
			},
			{
				Config: cfg(withDeny),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionUpdate),
				}},
				Check: statements(2),
			},
			{ // changed outside Terraform: the plan puts the configured policy back
				PreConfig: func() {
					_, err := e.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(
						`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::acc-policy/*"}]}`)})
					must(t, err)
				},
				Config: cfg(withDeny),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionUpdate),
				}},
				Check: statements(2),
			},
			{ // deleted outside Terraform: planned for creation
				PreConfig: func() {
					_, err := e.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(name)})
					must(t, err)
				},
				Config: cfg(withDeny),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionCreate),
				}},
			},
			{ // from cairn_policy_document, equivalent to withDeny: no diff
				Config: cfg("data.cairn_policy_document.d.json") + `
data "cairn_policy_document" "d" {
  statement {
    sid       = "NoDeletes"
    effect    = "Deny"
    actions   = ["s3:DeleteObject"]
    resources = ["arn:aws:s3:::acc-policy/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
  statement {
    sid       = "PublicRead"
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = ["arn:aws:s3:::acc-policy/*", "arn:aws:s3:::acc-policy"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

func TestAccBucketPolicyInvalid(t *testing.T) {
	e := newAcc(t)
	for _, tc := range []struct{ name, policy, want string }{
		{"not json", `"{not json"`, `not valid JSON`},
		{"lower-case effect", `jsonencode({Statement = [{Effect = "allow", Action = "s3:*"}]})`, `document: Statement[0]: Effect must be "Allow" or "Deny", got "allow"`},
		{"typo", `jsonencode({Statement = [{Effect = "Allow", Actions = "s3:*"}]})`, `document: Statement[0]: unknown key "Actions"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config(fmt.Sprintf("resource \"cairn_bucket_policy\" \"p\" {\n  bucket = \"b-1\"\n  policy = %s\n}\n", tc.policy)),
					PlanOnly:    true,
					ExpectError: errorLike(tc.want),
				}},
			})
		})
	}
}
