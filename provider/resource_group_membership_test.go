package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func TestAccGroupMembership(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	const group, m = "acc-team", "cairn_group_membership.m"
	base := `
resource "cairn_user" "ann" {
  name = "ann"
}
resource "cairn_user" "bob" {
  name = "bob"
}
resource "cairn_user" "cat" {
  name = "cat"
}
resource "cairn_group" "g" {
  name = "acc-team"
}
`
	cfg := func(users ...string) string {
		refs := make([]string, len(users))
		for i, u := range users {
			refs[i] = fmt.Sprintf("cairn_user.%s.name", u)
		}
		return e.config(base + fmt.Sprintf(`
resource "cairn_group_membership" "m" {
  group = cairn_group.g.name
  users = [%s]
}
`, strings.Join(refs, ", ")))
	}
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(m, plancheck.ResourceActionUpdate)}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             resource.ComposeTestCheckFunc(e.groupGone(group), e.userGone("ann", "bob", "cat")),
		Steps: []resource.TestStep{
			{Config: e.config(base)},
			{ // exclusive from the start: a member added outside Terraform before is removed
				PreConfig: func() {
					_, err := e.Admin.AddGroupMember(ctx, group, "cat")
					must(t, err)
				},
				Config: cfg("ann", "bob"),
				Check:  e.members(group, "ann", "bob"),
			},
			{ResourceName: m, ImportState: true, ImportStateVerify: true},
			{ResourceName: m, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{Config: cfg("bob", "cat"), ConfigPlanChecks: update, Check: e.members(group, "bob", "cat")},
			{ // a member added outside Terraform is planned away
				PreConfig: func() {
					_, err := e.Admin.AddGroupMember(ctx, group, "ann")
					must(t, err)
				},
				Config: cfg("bob", "cat"), ConfigPlanChecks: update, Check: e.members(group, "bob", "cat"),
			},
			{ // a member removed outside Terraform is planned back
				PreConfig: func() {
					_, err := e.Admin.RemoveGroupMember(ctx, group, "cat")
					must(t, err)
				},
				Config: cfg("bob", "cat"), ConfigPlanChecks: update, Check: e.members(group, "bob", "cat"),
			},
			{Config: cfg(), ConfigPlanChecks: update, Check: e.members(group)},
			{Config: cfg("ann"), ConfigPlanChecks: update, Check: e.members(group, "ann")},
		},
	})
}

// members checks that the group's members on the server are exactly want.
func (e *accEnv) members(group string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		g, err := e.Admin.GetGroup(context.Background(), group)
		if err != nil {
			return err
		}
		got := slices.Sorted(slices.Values(g.Members))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Errorf("group %s has members %q on the server, want %q", group, got, want)
		}
		return nil
	}
}
