package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
	"github.com/cairn-io/cairn/server/admin"
)

func TestAccPolicy(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name, p = "acc-reports-read", "cairn_policy.p"
	cfg := func(policy string) string {
		return e.config(fmt.Sprintf("resource \"cairn_policy\" \"p\" {\n  name   = %q\n  policy = %s\n}\n", name, policy))
	}
	read := `jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]
    }]
  })`
	// The same document: reordered keys and lists, other whitespace, a different case.
	readReformatted := `<<-EOT
    {"Statement": [{"Resource": ["arn:aws:s3:::reports/*", "arn:aws:s3:::reports"],
                    "Action": ["S3:ListBucket", "s3:getobject"], "Effect": "Allow"}],
     "Version": "2012-10-17"}
  EOT`
	readWrite := `jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]
    }]
  })`
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(p, plancheck.ResourceActionUpdate)}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := e.Admin.GetPolicy(ctx, name); !admin.IsNotFound(err) {
				return fmt.Errorf("GetPolicy after destroy = %v, want NoSuchPolicy", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cfg(read), Check: e.policyActions(name, 2)},
			{ResourceName: p, ImportState: true, ImportStateVerify: true},
			{ResourceName: p, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{Config: cfg(readReformatted), PlanOnly: true}, // same meaning: no diff
			{Config: cfg(readWrite), ConfigPlanChecks: update, Check: e.policyActions(name, 3)},
			{ // edited outside Terraform: planned back
				PreConfig: func() {
					_, err := e.Admin.UpdatePolicy(ctx, name, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`))
					must(t, err)
				},
				Config: cfg(readWrite), ConfigPlanChecks: update, Check: e.policyActions(name, 3),
			},
			{ // deleted outside Terraform: planned for creation
				PreConfig: func() { must(t, e.Admin.DeletePolicy(ctx, name)) },
				Config:    cfg(readWrite),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionCreate),
				}},
			},
			{ // attached outside Terraform: the destroy says to whom
				PreConfig: func() {
					_, err := e.Admin.CreateUser(ctx, admin.CreateUserRequest{Name: "carol", Policies: []string{name}})
					must(t, err)
				},
				Config:      cfg(readWrite),
				Destroy:     true,
				ExpectError: errorLike(`Policy "acc-reports-read" is still attached to users carol, so it cannot be deleted`),
			},
			{
				PreConfig: func() { must(t, e.Admin.DeleteUser(ctx, "carol")) },
				Config:    cfg(readWrite),
			},
		},
	})
}

func TestAccPolicyBuiltinOrInvalid(t *testing.T) {
	e := newAcc(t)
	for _, tc := range []struct{ name, config, want string }{
		{"import built-in", `import {
  to = cairn_policy.p
  id = "readonly"
}
resource "cairn_policy" "p" {
  name   = "readonly"
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:GetObject", Resource = "*"}]})
}`, `"readonly" is a built-in policy`},
		{"create built-in", `resource "cairn_policy" "p" {
  name   = "readwrite"
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:GetObject", Resource = "*"}]})
}`, `"readwrite" is a built-in policy: it cannot be created`},
		{"invalid document", `resource "cairn_policy" "p" {
  name   = "p1"
  policy = jsonencode({Statement = [{Effect = "Allow", Actions = "s3:*"}]})
}`, `document: Statement[0]: unknown key "Actions"`},
		{"invalid name", `resource "cairn_policy" "p" {
  name   = "a/b"
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:*", Resource = "*"}]})
}`, `Invalid policy name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps:                    []resource.TestStep{{Config: e.config(tc.config), ExpectError: errorLike(tc.want)}},
			})
		})
	}
}

// policyActions checks that the managed policy on the server allows n actions.
func (e *accEnv) policyActions(name string, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		p, err := e.Admin.GetPolicy(context.Background(), name)
		if err != nil {
			return err
		}
		d, err := iampolicy.Parse(p.Document)
		if err != nil {
			return err
		}
		if len(d.Statements) != 1 || len(d.Statements[0].Action) != n {
			return fmt.Errorf("server holds %s, want one statement with %d actions", p.Document, n)
		}
		return nil
	}
}
