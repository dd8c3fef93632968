package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/server/admin"
)

type kmsKeyResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*kmsKeyResource)(nil)
	_ resource.ResourceWithImportState = (*kmsKeyResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*kmsKeyResource)(nil)
)

func newKMSKeyResource() resource.Resource { return &kmsKeyResource{} }

type kmsKeyModel struct {
	ID              types.String `tfsdk:"id"`
	Name            types.String `tfsdk:"name"`
	KeyID           types.String `tfsdk:"key_id"`
	Version         types.Int64  `tfsdk:"version"`
	Enabled         types.Bool   `tfsdk:"enabled"`
	Created         types.String `tfsdk:"created"`
	Backend         types.String `tfsdk:"backend"`
	RotateTrigger   types.String `tfsdk:"rotate_trigger"`
	DeletionAllowed types.Bool   `tfsdk:"deletion_allowed"`
}

func (r *kmsKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kms_key"
}

func (r *kmsKeyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A master key of the server's KMS, which seals the keys of SSE-S3 and SSE-KMS " +
			"objects (name it in `cairn_bucket_encryption` or `cairn_object`). Key material never leaves the server.\n\n" +
			"**Destroying a key makes every object it sealed unreadable.** So destroy refuses unless " +
			"`deletion_allowed = true` has been applied first, and the server refuses to delete the default " +
			"key or a key that a bucket's default encryption names. Deleting needs the built-in KMS; for the " +
			"external backends (Vault, AWS, GCP, Azure) manage keys in the service itself.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The key name, which is also the import ID.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the key: letters, digits and `- _ . / :`. Changing it replaces the key " +
					"(and so needs `deletion_allowed`).",
				Required:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validKMSKeyID()},
			},
			"key_id": schema.StringAttribute{
				MarkdownDescription: "The backend's id of the key (an ARN, resource name or key URL), when it differs from the name.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"version": schema.Int64Attribute{
				MarkdownDescription: "Current version of the key: new data keys are sealed by it; older versions keep opening what they sealed.",
				Computed:            true,
			},
			"enabled": schema.BoolAttribute{
				MarkdownDescription: "Whether the key can seal and open data keys.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"created": schema.StringAttribute{
				MarkdownDescription: "When the key was created (RFC 3339).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"backend": schema.StringAttribute{
				MarkdownDescription: "The KMS backend holding the key: `builtin`, `vault`, `aws`, `gcp` or `azure`.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"rotate_trigger": schema.StringAttribute{
				MarkdownDescription: "Any value; changing it to a new non-empty value rotates the key (a new version seals " +
					"new data keys, and the server re-seals the keys of existing objects in the background). For " +
					"example a date, or `time_rotating`'s id. The value a key is created with does not rotate it.",
				Optional: true,
			},
			"deletion_allowed": schema.BoolAttribute{
				MarkdownDescription: "Must be `true` (applied before the destroy) for destroy to delete the key. Default " +
					"`false`: destroy fails, and the key stays.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
		},
	}
}

// ModifyPlan plans a new version when rotate_trigger changes, and keeps the
// current one otherwise.
func (r *kmsKeyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() {
		return
	}
	var plan, state kmsKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if rotates(state, plan) || plan.RotateTrigger.IsUnknown() || !plan.Name.Equal(state.Name) {
		plan.Version = types.Int64Unknown()
	} else {
		plan.Version = state.Version
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func rotates(state, plan kmsKeyModel) bool {
	return !plan.RotateTrigger.IsUnknown() && plan.RotateTrigger.ValueString() != "" && !plan.RotateTrigger.Equal(state.RotateTrigger)
}

func (m *kmsKeyModel) set(k *admin.KMSKey) {
	m.ID = types.StringValue(k.Name)
	m.Name = types.StringValue(k.Name)
	m.KeyID = types.StringValue(k.ID)
	m.Version = types.Int64Value(int64(k.Version))
	m.Enabled = types.BoolValue(k.Enabled)
	m.Created = types.StringValue("")
	if !k.Created.IsZero() {
		m.Created = types.StringValue(k.Created.UTC().Format(time.RFC3339))
	}
	m.Backend = types.StringValue(k.Backend)
	if m.DeletionAllowed.IsNull() || m.DeletionAllowed.IsUnknown() {
		m.DeletionAllowed = types.BoolValue(false)
	}
}

func (r *kmsKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan kmsKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	k, err := r.client.Admin.CreateKMSKey(ctx, name)
	if admin.IsConflict(err) {
		resp.Diagnostics.AddError("KMS key already exists", fmt.Sprintf(
			"The server's KMS already has a key %q. Import it (terraform import <address> %s) instead of creating it.", name, name))
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "CreateKMSKey", "KMS key "+name, err)
		return
	}
	plan.set(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *kmsKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state kmsKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	k, err := r.client.Admin.KMSKeyStatus(ctx, name)
	if admin.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "KMSKeyStatus", "KMS key "+name, err)
		return
	}
	state.set(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *kmsKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state kmsKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	var k *admin.KMSKey
	var err error
	if rotates(state, plan) {
		k, err = r.client.Admin.RotateKMSKey(ctx, name)
		if err != nil {
			adminError(&resp.Diagnostics, "RotateKMSKey", "KMS key "+name, err)
			return
		}
	} else if k, err = r.client.Admin.KMSKeyStatus(ctx, name); err != nil {
		adminError(&resp.Diagnostics, "KMSKeyStatus", "KMS key "+name, err)
		return
	}
	plan.set(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *kmsKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state kmsKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	if !state.DeletionAllowed.ValueBool() {
		resp.Diagnostics.AddError("KMS key deletion not allowed", fmt.Sprintf(
			"Destroying KMS key %q would make every object it sealed unreadable, so it is refused. If nothing "+
				"was encrypted with it, set deletion_allowed = true, apply, then destroy; to stop managing the "+
				"key without deleting it, use terraform state rm.", name))
		return
	}
	err := r.client.Admin.DeleteKMSKey(ctx, name)
	if admin.IsNotFound(err) {
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "DeleteKMSKey", "KMS key "+name, err)
	}
}

func (r *kmsKeyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := kmsKeyIDProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the key name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
