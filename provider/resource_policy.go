package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

type policyResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*policyResource)(nil)
	_ resource.ResourceWithImportState = (*policyResource)(nil)
)

func newPolicyResource() resource.Resource { return &policyResource{} }

type policyModel struct {
	ID     types.String `tfsdk:"id"`
	Name   types.String `tfsdk:"name"`
	Policy PolicyValue  `tfsdk:"policy"`
}

func (r *policyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy"
}

func (r *policyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A managed IAM policy (AWS IAM JSON), attached to users with " +
			"`cairn_user_policy_attachment` and to groups with `cairn_group_policy_attachment`.\n\n" +
			"Documents are compared by meaning, like `cairn_bucket_policy`'s: reformatting or reordering " +
			"never plans a change, while an edit made outside Terraform does. The built-in policies " +
			"(`readwrite`, `readonly`, `writeonly`, `admin`) cannot be managed here; attach them by name.\n\n" +
			"The server refuses to delete a policy that is still attached: destroy its attachments with it " +
			"(Terraform orders that by itself when they refer to this resource).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The policy name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Name of the policy: 1–%d letters, digits and `+=,.@_-`, "+
					"not the name of a built-in policy. Changing it replaces the policy.", maxPolicyName),
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validPolicyName()},
			},
			"policy": schema.StringAttribute{
				MarkdownDescription: "The policy document as JSON, typically `jsonencode({...})` or " +
					"`data.cairn_policy_document.NAME.json`. It is validated at plan time: every statement needs " +
					"`Effect` (`Allow`/`Deny`) and `Action` or `NotAction`; unknown keys are rejected.",
				Required:      true,
				CustomType:    PolicyType{},
				PlanModifiers: []planmodifier.String{keepEquivalentPolicy{}},
			},
		},
	}
}

func (r *policyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	p, err := r.client.Admin.CreatePolicy(ctx, name, []byte(plan.Policy.ValueString()))
	var ae *admin.Error
	switch {
	case errors.As(err, &ae) && ae.Code == admin.CodeBuiltinPolicy:
		resp.Diagnostics.Append(builtinPolicyError(name))
		return
	case admin.IsConflict(err):
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Policy already exists",
			fmt.Sprintf("Policy %q already exists. To manage a policy created outside "+
				"Terraform, import it: terraform import <address> %s", name, name))
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "CreatePolicy", "policy "+name, err)
		return
	}
	resp.Diagnostics.Append(policyToModel(p, &plan)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// policyToModel records what the server stored; PolicyType's semantic equality
// keeps the configured text when it means the same.
func policyToModel(p *admin.Policy, m *policyModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if p.Builtin {
		diags.Append(builtinPolicyError(p.Name))
		return diags
	}
	m.ID = types.StringValue(p.Name)
	m.Name = types.StringValue(p.Name)
	m.Policy = NewPolicyValue(string(p.Document))
	return diags
}

func builtinPolicyError(name string) diag.Diagnostic {
	return diag.NewAttributeErrorDiagnostic(path.Root("name"), "Built-in policy", fmt.Sprintf(
		"%q is a built-in policy: it cannot be created, changed or deleted. Attach it by name "+
			"(cairn_user_policy_attachment, cairn_group_policy_attachment) instead of managing it with cairn_policy.", name))
}

func (r *policyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.Admin.GetPolicy(ctx, state.ID.ValueString())
	if admin.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "GetPolicy", "policy "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(policyToModel(p, &state)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

func (r *policyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan policyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.ID.ValueString()
	p, err := r.client.Admin.UpdatePolicy(ctx, name, []byte(plan.Policy.ValueString()))
	if err != nil {
		adminError(&resp.Diagnostics, "UpdatePolicy", "policy "+name, err)
		return
	}
	resp.Diagnostics.Append(policyToModel(p, &plan)...)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *policyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	err := r.client.Admin.DeletePolicy(ctx, name)
	switch {
	case err == nil || admin.IsNotFound(err):
	case admin.IsConflict(err):
		where := "users or groups"
		if p, perr := r.client.Admin.GetPolicy(ctx, name); perr == nil {
			var parts []string
			if len(p.Users) > 0 {
				parts = append(parts, "users "+strings.Join(p.Users, ", "))
			}
			if len(p.Groups) > 0 {
				parts = append(parts, "groups "+strings.Join(p.Groups, ", "))
			}
			if len(parts) > 0 {
				where = strings.Join(parts, " and ")
			}
		}
		resp.Diagnostics.AddError("Policy is attached",
			fmt.Sprintf("Policy %q is still attached to %s, so it cannot be deleted. Detach it first "+
				"(destroy its cairn_user_policy_attachment / cairn_group_policy_attachment resources).", name, where))
	default:
		adminError(&resp.Diagnostics, "DeletePolicy", "policy "+name, err)
	}
}

func (r *policyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := iamNameProblem(maxPolicyName)(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the policy name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
