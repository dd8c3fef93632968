package provider

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// attachmentPolicy is a managed policy for the attachment tests.
const attachmentPolicy = `
resource "cairn_policy" "p" {
  name   = "acc-logs-write"
  policy = jsonencode({Statement = [{Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::logs/*"}]})
}
`

func TestAccUserPolicyAttachment(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const a, b = "cairn_user_policy_attachment.a", "cairn_user_policy_attachment.b"
	cfg := func(builtin string) string {
		return e.config(attachmentPolicy + fmt.Sprintf(`
resource "cairn_user" "u" {
  name = "acc-dave"
}
resource "cairn_user_policy_attachment" "a" {
  user   = cairn_user.u.name
  policy = cairn_policy.p.name
}
resource "cairn_user_policy_attachment" "b" {
  user   = cairn_user.u.name
  policy = %q
}
`, builtin))
	}
	policies := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			u, err := e.Admin.GetUser(ctx, "acc-dave")
			if err != nil {
				return err
			}
			if got, w := slices.Sorted(slices.Values(u.Policies)), slices.Sorted(slices.Values(want)); !slices.Equal(got, w) {
				return fmt.Errorf("user acc-dave has policies %q on the server, want %q", got, w)
			}
			return nil
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.userGone("acc-dave"),
		Steps: []resource.TestStep{
			{
				Config: cfg("readonly"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(a, tfjsonpath.New("id"), knownvalue.StringExact("acc-dave/acc-logs-write")),
				},
				Check: policies("acc-logs-write", "readonly"),
			},
			{ResourceName: a, ImportState: true, ImportStateVerify: true},
			{ResourceName: b, ImportState: true, ImportStateVerify: true},
			{ResourceName: a, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{ // another policy: a new attachment replaces the old one; the other is untouched
				Config: cfg("writeonly"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(b, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionNoop),
				}},
				Check: policies("acc-logs-write", "writeonly"),
			},
			{ // detached outside Terraform: attached again
				PreConfig: func() {
					_, err := e.Admin.DetachUserPolicy(ctx, "acc-dave", "acc-logs-write")
					must(t, err)
				},
				Config: cfg("writeonly"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(b, plancheck.ResourceActionNoop),
				}},
				Check: policies("acc-logs-write", "writeonly"),
			},
			{ // an attachment made outside Terraform is left alone
				PreConfig: func() {
					_, err := e.Admin.AttachUserPolicy(ctx, "acc-dave", "readonly")
					must(t, err)
				},
				Config: cfg("writeonly"),
				Check:  policies("acc-logs-write", "writeonly", "readonly"),
			},
			{ // the user deleted outside Terraform: everything is planned again
				PreConfig: func() { must(t, e.Admin.DeleteUser(ctx, "acc-dave")) },
				Config:    cfg("writeonly"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_user.u", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(b, plancheck.ResourceActionCreate),
				}},
				Check: policies("acc-logs-write", "writeonly"),
			},
			{
				ResourceName:  a,
				ImportState:   true,
				ImportStateId: "acc-dave",
				ExpectError:   errorLike(`The import ID is user/policy, for example "alice/readonly"; "acc-dave" has no "/"`),
			},
		},
	})
}
