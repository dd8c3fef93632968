package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccDataSourcePolicyDocument(t *testing.T) {
	e := newAcc(t)
	const want = `{
  "Version": "2012-10-17",
  "Id": "photos",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:ListBucket"
      ],
      "Resource": [
        "arn:aws:s3:::photos",
        "arn:aws:s3:::photos/*"
      ],
      "Principal": {
        "AWS": "arn:aws:iam::000000000000:user/alice"
      },
      "Condition": {
        "IpAddress": {
          "aws:SourceIp": [
            "10.0.0.0/8",
            "192.168.0.0/16"
          ]
        }
      }
    },
    {
      "Effect": "Deny",
      "NotAction": "s3:GetObject",
      "Resource": "arn:aws:s3:::photos/*",
      "Principal": "*"
    }
  ]
}`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{
				Config: e.config(`
data "cairn_policy_document" "d" {
  policy_id = "photos"
  statement {
    sid       = "Read"
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = ["arn:aws:s3:::photos/*", "arn:aws:s3:::photos"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::000000000000:user/alice"]
    }
    condition {
      test     = "IpAddress"
      variable = "aws:SourceIp"
      values   = ["192.168.0.0/16", "10.0.0.0/8"]
    }
  }
  statement {
    effect      = "Deny"
    not_actions = ["s3:GetObject"]
    resources   = ["arn:aws:s3:::photos/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.cairn_policy_document.d", tfjsonpath.New("json"), knownvalue.StringExact(want)),
				},
			},
			{
				Config: e.config(`
data "cairn_policy_document" "d" {
  statement {
    resources = ["arn:aws:s3:::photos/*"]
  }
}
`),
				ExpectError: errorLike(`Statement[0]: one of Action or NotAction is required`),
			},
		},
	})
}
