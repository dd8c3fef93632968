package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/server/admin"
)

type groupMembershipResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*groupMembershipResource)(nil)
	_ resource.ResourceWithImportState = (*groupMembershipResource)(nil)
)

func newGroupMembershipResource() resource.Resource { return &groupMembershipResource{} }

type groupMembershipModel struct {
	ID    types.String `tfsdk:"id"`
	Group types.String `tfsdk:"group"`
	Users types.Set    `tfsdk:"users"`
}

func (r *groupMembershipResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group_membership"
}

func (r *groupMembershipResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The members of a group, managed **exclusively**: after an apply the group " +
			"holds exactly the listed users. Creating this resource removes every other member the group " +
			"had, and a user added to (or removed from) the group outside Terraform shows up as a change " +
			"in the next plan. Use one `cairn_group_membership` per group.\n\n" +
			"Destroying it removes the listed users from the group; the users and the group stay.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The group name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"group": schema.StringAttribute{
				MarkdownDescription: "Name of the group. Changing it replaces the resource.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validGroupName()},
			},
			"users": schema.SetAttribute{
				MarkdownDescription: "Names of the users that are the group's members, and its only members. " +
					"An empty set empties the group.",
				Required:    true,
				ElementType: types.StringType,
				Validators:  []validator.Set{setvalidator.ValueStringsAre(validUserName())},
			},
		},
	}
}

// sync makes the group's members exactly want, adding before removing so that a
// user moved in by this change never sees a moment without the group. It returns
// the group as the server has it afterwards.
func (r *groupMembershipResource) sync(ctx context.Context, group string, want []string, diags *diag.Diagnostics) *admin.Group {
	g, err := r.client.Admin.GetGroup(ctx, group)
	if err != nil {
		adminError(diags, "GetGroup", "group "+group, err)
		return nil
	}
	for _, u := range want {
		if slices.Contains(g.Members, u) {
			continue
		}
		if _, err := r.client.Admin.AddGroupMember(ctx, group, u); err != nil {
			adminError(diags, "AddGroupMember", fmt.Sprintf("group %s, user %s", group, u), err)
			return nil
		}
	}
	for _, u := range g.Members {
		if slices.Contains(want, u) {
			continue
		}
		if _, err := r.client.Admin.RemoveGroupMember(ctx, group, u); err != nil && !admin.IsNotFound(err) {
			adminError(diags, "RemoveGroupMember", fmt.Sprintf("group %s, user %s", group, u), err)
			return nil
		}
	}
	if g, err = r.client.Admin.GetGroup(ctx, group); err != nil {
		adminError(diags, "GetGroup", "group "+group, err)
		return nil
	}
	return g
}

func (r *groupMembershipResource) apply(ctx context.Context, plan *groupMembershipModel, diags *diag.Diagnostics) {
	var want []string
	diags.Append(plan.Users.ElementsAs(ctx, &want, false)...)
	if diags.HasError() {
		return
	}
	group := plan.Group.ValueString()
	g := r.sync(ctx, group, want, diags)
	if g == nil {
		return
	}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(g.Members)); !slices.Equal(got, want) {
		diags.AddError("Group members differ after apply", fmt.Sprintf(
			"Group %q has members [%s] after the apply, want [%s]; something else changed them at the same time. Apply again.",
			group, strings.Join(got, ", "), strings.Join(want, ", ")))
		return
	}
	plan.ID = types.StringValue(group)
	diags.Append(membersToModel(ctx, g, plan)...)
}

func membersToModel(ctx context.Context, g *admin.Group, m *groupMembershipModel) diag.Diagnostics {
	users, diags := types.SetValueFrom(ctx, types.StringType, g.Members)
	m.Group = types.StringValue(g.Name)
	m.Users = users
	return diags
}

func (r *groupMembershipResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan groupMembershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *groupMembershipResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan groupMembershipModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.apply(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *groupMembershipResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state groupMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	g, err := r.client.Admin.GetGroup(ctx, state.ID.ValueString())
	if admin.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "GetGroup", "group "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(membersToModel(ctx, g, &state)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete removes the users in state, which the refresh before a destroy has made
// every member of the group.
func (r *groupMembershipResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state groupMembershipModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var users []string
	resp.Diagnostics.Append(state.Users.ElementsAs(ctx, &users, false)...)
	group := state.ID.ValueString()
	for _, u := range users {
		_, err := r.client.Admin.RemoveGroupMember(ctx, group, u)
		if admin.IsNotFound(err) {
			continue // the group, the user or the membership is already gone
		}
		if err != nil {
			adminError(&resp.Diagnostics, "RemoveGroupMember", fmt.Sprintf("group %s, user %s", group, u), err)
			return
		}
	}
}

func (r *groupMembershipResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := iamNameProblem(maxGroupName)(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the group name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
