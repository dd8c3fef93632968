package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/server/admin"
)

type userResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*userResource)(nil)
	_ resource.ResourceWithImportState = (*userResource)(nil)
)

func newUserResource() resource.Resource { return &userResource{} }

type userModel struct {
	ID     types.String `tfsdk:"id"`
	Name   types.String `tfsdk:"name"`
	Status types.String `tfsdk:"status"`
}

func (r *userResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user"
}

func (r *userResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "An IAM user.\n\n" +
			"A user has no secret of its own: it signs requests with its access keys, each a " +
			"`cairn_access_key` with its own secret, so this resource never holds a credential. " +
			"What the user may do comes from policies attached to it (`cairn_user_policy_attachment`) " +
			"or to its groups (`cairn_group_membership`, `cairn_group_policy_attachment`).\n\n" +
			"Destroying a user also deletes its access keys and its group memberships on the server.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The user name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Name of the user: 1–%d letters, digits and `+=,.@_-`. "+
					"Changing it replaces the user (and so deletes its access keys).", maxUserName),
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validUserName()},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`enabled` or `disabled`. A disabled user's access keys cannot sign " +
					"requests; they work again once it is enabled. Default `enabled`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(string(admin.StatusEnabled)),
				Validators: []validator.String{stringvalidator.OneOf(string(admin.StatusEnabled), string(admin.StatusDisabled))},
			},
		},
	}
}

func (r *userResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	u, err := r.client.Admin.CreateUser(ctx, admin.CreateUserRequest{Name: name})
	if admin.IsConflict(err) {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "User already exists",
			fmt.Sprintf("User %q already exists. To manage it with Terraform, import it: terraform import <address> %s", name, name))
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "CreateUser", "user "+name, err)
		return
	}
	if want := admin.Status(plan.Status.ValueString()); u.Status != want {
		if u, err = r.client.Admin.SetUserStatus(ctx, name, want); err != nil {
			adminError(&resp.Diagnostics, "SetUserStatus", "user "+name, err)
			return
		}
	}
	userToModel(u, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func userToModel(u *admin.User, m *userModel) {
	m.ID = types.StringValue(u.Name)
	m.Name = types.StringValue(u.Name)
	m.Status = types.StringValue(string(u.Status))
}

func (r *userResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	u, err := r.client.Admin.GetUser(ctx, state.ID.ValueString())
	if admin.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "GetUser", "user "+state.ID.ValueString(), err)
		return
	}
	userToModel(u, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update only ever changes status (a new name replaces the user).
func (r *userResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.ID.ValueString()
	u, err := r.client.Admin.SetUserStatus(ctx, name, admin.Status(plan.Status.ValueString()))
	if err != nil {
		adminError(&resp.Diagnostics, "SetUserStatus", "user "+name, err)
		return
	}
	userToModel(u, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *userResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client.Admin.DeleteUser(ctx, state.ID.ValueString()); err != nil && !admin.IsNotFound(err) {
		adminError(&resp.Diagnostics, "DeleteUser", "user "+state.ID.ValueString(), err)
	}
}

func (r *userResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := iamNameProblem(maxUserName)(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the user name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
