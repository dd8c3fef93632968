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

func TestAccGroupPolicyAttachment(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const a = "cairn_group_policy_attachment.a"
	cfg := func(policy string) string {
		return e.config(attachmentPolicy + fmt.Sprintf(`
resource "cairn_group" "g" {
  name = "acc-ops"
}
resource "cairn_group_policy_attachment" "a" {
  group  = cairn_group.g.name
  policy = %s
}
`, policy))
	}
	policies := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			g, err := e.Admin.GetGroup(ctx, "acc-ops")
			if err != nil {
				return err
			}
			if got := slices.Sorted(slices.Values(g.Policies)); !slices.Equal(got, want) {
				return fmt.Errorf("group acc-ops has policies %q on the server, want %q", got, want)
			}
			return nil
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.groupGone("acc-ops"),
		Steps: []resource.TestStep{
			{
				Config: cfg("cairn_policy.p.name"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(a, tfjsonpath.New("id"), knownvalue.StringExact("acc-ops/acc-logs-write")),
				},
				Check: policies("acc-logs-write"),
			},
			{ResourceName: a, ImportState: true, ImportStateVerify: true},
			{ResourceName: a, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(`"readwrite"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: policies("readwrite"),
			},
			{ // detached outside Terraform: attached again
				PreConfig: func() {
					_, err := e.Admin.DetachGroupPolicy(ctx, "acc-ops", "readwrite")
					must(t, err)
				},
				Config: cfg(`"readwrite"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionCreate),
				}},
				Check: policies("readwrite"),
			},
			{ // the group deleted outside Terraform: both planned again
				PreConfig: func() { must(t, e.Admin.DeleteGroup(ctx, "acc-ops")) },
				Config:    cfg(`"readwrite"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("cairn_group.g", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction(a, plancheck.ResourceActionCreate),
				}},
				Check: policies("readwrite"),
			},
			{
				ResourceName:  a,
				ImportState:   true,
				ImportStateId: "acc-ops/no such",
				ExpectError:   errorLike(`holds the policy name "no such", which may contain only letters`),
			},
		},
	})
}
