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

func TestAccGroup(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name, g = "acc-devs", "cairn_group.g"
	cfg := func(name string) string {
		return e.config(fmt.Sprintf("resource \"cairn_group\" \"g\" {\n  name = %q\n}\n", name))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.groupGone(name, name+"-2"),
		Steps: []resource.TestStep{
			{
				Config: cfg(name),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(g, tfjsonpath.New("id"), knownvalue.StringExact(name)),
				},
				Check: func(*terraform.State) error {
					_, err := e.Admin.GetGroup(ctx, name)
					return err
				},
			},
			{ResourceName: g, ImportState: true, ImportStateVerify: true},
			{ResourceName: g, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{ // deleted outside Terraform: planned for creation
				PreConfig: func() { must(t, e.Admin.DeleteGroup(ctx, name)) },
				Config:    cfg(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(g, plancheck.ResourceActionCreate),
				}},
			},
			{ // the only change there is, the name, replaces
				Config: cfg(name + "-2"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(g, plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
			{ // a member added outside Terraform blocks the destroy, with its name
				PreConfig: func() {
					_, err := e.Admin.CreateUser(ctx, admin.CreateUserRequest{Name: "stray"})
					must(t, err)
					_, err = e.Admin.AddGroupMember(ctx, name+"-2", "stray")
					must(t, err)
				},
				Config:      cfg(name + "-2"),
				Destroy:     true,
				ExpectError: errorLike(`Group "acc-devs-2" still has members (stray), so it cannot be deleted`),
			},
			{ // once it is gone, the final destroy succeeds
				PreConfig: func() {
					_, err := e.Admin.RemoveGroupMember(ctx, name+"-2", "stray")
					must(t, err)
				},
				Config: cfg(name + "-2"),
			},
		},
	})
}

// groupGone is a CheckDestroy that none of the groups exists.
func (e *accEnv) groupGone(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if _, err := e.Admin.GetGroup(context.Background(), n); !admin.IsNotFound(err) {
				return fmt.Errorf("group %s: GetGroup = %v after destroy, want NoSuchGroup", n, err)
			}
		}
		return nil
	}
}
