package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/server/admin"
)

type groupResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*groupResource)(nil)
	_ resource.ResourceWithImportState = (*groupResource)(nil)
)

func newGroupResource() resource.Resource { return &groupResource{} }

type groupModel struct {
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

func (r *groupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_group"
}

func (r *groupResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An IAM group. Its members are managed by `cairn_group_membership` and its " +
			"policies by `cairn_group_policy_attachment`, as in the AWS provider; every member may do what " +
			"the group's policies allow.\n\n" +
			"The server refuses to delete a group that still has members: destroying the group together " +
			"with its `cairn_group_membership` works (Terraform removes the members first), while members " +
			"added outside Terraform make the destroy fail with their names.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The group name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Name of the group: 1–%d letters, digits and `+=,.@_-`. "+
					"Changing it replaces the group.", maxGroupName),
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validGroupName()},
			},
		},
	}
}

func (r *groupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	g, err := r.client.Admin.CreateGroup(ctx, admin.CreateGroupRequest{Name: name})
	if admin.IsConflict(err) {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Group already exists",
			fmt.Sprintf("Group %q already exists. To manage it with Terraform, import it: terraform import <address> %s", name, name))
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "CreateGroup", "group "+name, err)
		return
	}
	plan.ID = types.StringValue(g.Name)
	plan.Name = types.StringValue(g.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *groupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state groupModel
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
	state.Name = types.StringValue(g.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update has nothing to change on the server: the name forces replacement.
func (r *groupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan groupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *groupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state groupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	err := r.client.Admin.DeleteGroup(ctx, name)
	switch {
	case err == nil || admin.IsNotFound(err):
	case admin.IsConflict(err):
		members := "members"
		if g, gerr := r.client.Admin.GetGroup(ctx, name); gerr == nil && len(g.Members) > 0 {
			members = "members (" + strings.Join(g.Members, ", ") + ")"
		}
		resp.Diagnostics.AddError("Group has members",
			fmt.Sprintf("Group %q still has %s, so it cannot be deleted. Manage its members with a "+
				"cairn_group_membership resource (destroyed before the group), or remove them yourself.", name, members))
	default:
		adminError(&resp.Diagnostics, "DeleteGroup", "group "+name, err)
	}
}

func (r *groupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := iamNameProblem(maxGroupName)(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the group name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
