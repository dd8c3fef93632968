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

func TestAccUser(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const name, u = "acc-alice", "cairn_user.u"
	cfg := func(name, status string) string {
		s := ""
		if status != "" {
			s = fmt.Sprintf("  status = %q\n", status)
		}
		return e.config(fmt.Sprintf("resource \"cairn_user\" \"u\" {\n  name = %q\n%s}\n", name, s))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             e.userGone(name, name+"-2"),
		Steps: []resource.TestStep{
			{ // create; status defaults to enabled
				Config: cfg(name, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(u, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(u, tfjsonpath.New("status"), knownvalue.StringExact("enabled")),
				},
				Check: e.userStatus(name, admin.StatusEnabled),
			},
			{ResourceName: u, ImportState: true, ImportStateVerify: true},
			{ResourceName: u, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{ // disabled outside Terraform: the plan enables it again
				PreConfig: func() {
					_, err := e.Admin.SetUserStatus(ctx, name, admin.StatusDisabled)
					must(t, err)
				},
				Config: cfg(name, "enabled"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(u, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(u, tfjsonpath.New("status"), knownvalue.StringExact("enabled")),
				}},
				Check: e.userStatus(name, admin.StatusEnabled),
			},
			{ // update in place
				Config: cfg(name, "disabled"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(u, plancheck.ResourceActionUpdate),
				}},
				Check: e.userStatus(name, admin.StatusDisabled),
			},
			{ // deleted outside Terraform: created again, disabled from the start
				PreConfig: func() { must(t, e.Admin.DeleteUser(ctx, name)) },
				Config:    cfg(name, "disabled"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(u, plancheck.ResourceActionCreate),
				}},
				Check: e.userStatus(name, admin.StatusDisabled),
			},
			{ // renaming replaces
				Config: cfg(name+"-2", "disabled"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(u, plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
	})
}

func TestAccUserErrors(t *testing.T) {
	e := newAcc(t)
	_, err := e.Admin.CreateUser(context.Background(), admin.CreateUserRequest{Name: "taken"})
	must(t, err)
	for _, tc := range []struct{ name, config, want string }{
		{"bad name", `resource "cairn_user" "u" { name = "no spaces" }`, `"no spaces" may contain only letters, digits and +=,.@_- (found ' ' at position 3)`},
		{"long name", fmt.Sprintf(`resource "cairn_user" "u" { name = "%070d" }`, 0), `must be at most 64 characters long (it is 70)`},
		{"bad status", `resource "cairn_user" "u" {
  name   = "x1"
  status = "Active"
}`, `value must be one of: ["enabled" "disabled"]`},
		{"exists", `resource "cairn_user" "u" { name = "taken" }`, `User "taken" already exists. To manage it with Terraform, import it`},
		{"bad import id", `import {
  to = cairn_user.u
  id = "a/b"
}
resource "cairn_user" "u" { name = "a" }`, `The import ID is the user name; "a/b" may contain only letters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps:                    []resource.TestStep{{Config: e.config(tc.config), ExpectError: errorLike(tc.want)}},
			})
		})
	}
}

// userGone is a CheckDestroy that none of the users exists.
func (e *accEnv) userGone(names ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, n := range names {
			if _, err := e.Admin.GetUser(context.Background(), n); !admin.IsNotFound(err) {
				return fmt.Errorf("user %s: GetUser = %v after destroy, want NoSuchUser", n, err)
			}
		}
		return nil
	}
}

// userStatus checks the user's status on the server.
func (e *accEnv) userStatus(name string, want admin.Status) resource.TestCheckFunc {
	return func(*terraform.State) error {
		u, err := e.Admin.GetUser(context.Background(), name)
		if err != nil {
			return err
		}
		if u.Status != want {
			return fmt.Errorf("user %s is %s on the server, want %s", name, u.Status, want)
		}
		return nil
	}
}
