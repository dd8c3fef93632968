package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/cairn-io/cairn/server/admin"
)

// attachmentKind is what tells cairn_user_policy_attachment and
// cairn_group_policy_attachment apart: the kind of principal the policy is
// attached to and the admin API calls for it. The two resources share
// policyAttachmentResource; each kind is declared in its own resource file.
type attachmentKind struct {
	typeSuffix  string // "_user_policy_attachment"
	principal   string // attribute name and noun: "user" or "group"
	nameCheck   func(string) string
	description string
	importID    string // an example import id: "alice/readonly"
	// policies returns the policies attached to the principal, or an error that
	// admin.IsNotFound recognises when the principal does not exist.
	policies func(ctx context.Context, c *admin.Client, principal string) ([]string, error)
	attach   func(ctx context.Context, c *admin.Client, principal, policy string) ([]string, error)
	detach   func(ctx context.Context, c *admin.Client, principal, policy string) error
}

// policyAttachmentResource attaches one policy to one user or group. Its id is
// "principal/policy": neither a user, group nor policy name may contain "/".
type policyAttachmentResource struct {
	resourceBase
	kind attachmentKind
}

var (
	_ resource.ResourceWithConfigure   = (*policyAttachmentResource)(nil)
	_ resource.ResourceWithImportState = (*policyAttachmentResource)(nil)
)

func (r *policyAttachmentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + r.kind.typeSuffix
}

func (r *policyAttachmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	p := r.kind.principal
	resp.Schema = schema.Schema{
		MarkdownDescription: r.kind.description,
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("`%s/policy`, the %s name and the policy name.", p, p),
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			p: schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Name of the %s. Changing it replaces the attachment.", p),
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringCheck{desc: p + " name", check: r.kind.nameCheck}},
			},
			"policy": schema.StringAttribute{
				MarkdownDescription: "Name of the policy: a `cairn_policy`'s name or a built-in policy " +
					"(`readwrite`, `readonly`, `writeonly`, `admin`). Changing it replaces the attachment.",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validPolicyName()},
			},
		},
	}
}

// attachmentData is the part of tfsdk.Plan, tfsdk.State and tfsdk.Config that
// reading the two names needs.
type attachmentData interface {
	GetAttribute(ctx context.Context, p path.Path, target any) diag.Diagnostics
}

var (
	_ attachmentData = tfsdk.Plan{}
	_ attachmentData = tfsdk.State{}
)

// names reads the principal and policy names.
func (r *policyAttachmentResource) names(ctx context.Context, d attachmentData, diags *diag.Diagnostics) (principal, policy string) {
	diags.Append(d.GetAttribute(ctx, path.Root(r.kind.principal), &principal)...)
	diags.Append(d.GetAttribute(ctx, path.Root("policy"), &policy)...)
	return principal, policy
}

func (r *policyAttachmentResource) setState(ctx context.Context, s *tfsdk.State, principal, policy string, diags *diag.Diagnostics) {
	diags.Append(s.SetAttribute(ctx, path.Root("id"), principal+"/"+policy)...)
	diags.Append(s.SetAttribute(ctx, path.Root(r.kind.principal), principal)...)
	diags.Append(s.SetAttribute(ctx, path.Root("policy"), policy)...)
}

func (r *policyAttachmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	principal, policy := r.names(ctx, req.Plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	what := fmt.Sprintf("policy %s of %s %s", policy, r.kind.principal, principal)
	attached, err := r.kind.attach(ctx, r.client.Admin, principal, policy)
	if err != nil {
		adminError(&resp.Diagnostics, "Attach"+strings.ToUpper(r.kind.principal[:1])+r.kind.principal[1:]+"Policy", what, err)
		return
	}
	if !slices.Contains(attached, policy) {
		resp.Diagnostics.AddError("Policy not attached", fmt.Sprintf("The server accepted attaching the %s but does not list it afterwards.", what))
		return
	}
	r.setState(ctx, &resp.State, principal, policy, &resp.Diagnostics)
}

func (r *policyAttachmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var id string
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	principal, policy, ok := strings.Cut(id, "/")
	if !ok {
		resp.Diagnostics.AddError("Invalid id in state", fmt.Sprintf("The id %q is not %s/policy.", id, r.kind.principal))
		return
	}
	attached, err := r.kind.policies(ctx, r.client.Admin, principal)
	if admin.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "reading "+r.kind.principal, r.kind.principal+" "+principal, err)
		return
	}
	if !slices.Contains(attached, policy) {
		resp.State.RemoveResource(ctx) // detached outside Terraform: plan attaches it again
		return
	}
	r.setState(ctx, &resp.State, principal, policy, &resp.Diagnostics)
}

// Update is never called with a change (every attribute forces replacement).
func (r *policyAttachmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	principal, policy := r.names(ctx, req.Plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		r.setState(ctx, &resp.State, principal, policy, &resp.Diagnostics)
	}
}

func (r *policyAttachmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	principal, policy := r.names(ctx, req.State, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.kind.detach(ctx, r.client.Admin, principal, policy)
	if err != nil && !admin.IsNotFound(err) { // 404: the principal, the policy or the attachment is gone already
		adminError(&resp.Diagnostics, "Detach"+strings.ToUpper(r.kind.principal[:1])+r.kind.principal[1:]+"Policy",
			fmt.Sprintf("policy %s of %s %s", policy, r.kind.principal, principal), err)
	}
}

func (r *policyAttachmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	principal, policy, ok := strings.Cut(req.ID, "/")
	problem := ""
	switch {
	case !ok:
		problem = fmt.Sprintf("has no \"/\" between the %s and the policy name", r.kind.principal)
	case r.kind.nameCheck(principal) != "":
		problem = fmt.Sprintf("holds the %s name %q, which %s", r.kind.principal, principal, r.kind.nameCheck(principal))
	case iamNameProblem(maxPolicyName)(policy) != "":
		problem = fmt.Sprintf("holds the policy name %q, which %s", policy, iamNameProblem(maxPolicyName)(policy))
	}
	if problem != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is %s/policy, for example %q; %q %s.",
			r.kind.principal, r.kind.importID, req.ID, problem))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
