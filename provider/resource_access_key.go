package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cairn-io/cairn/server/admin"
)

// An access key's secret never comes back from the server after creation, so
// the provider can only know it at create time: from the configuration
// (secret_wo, write-only, never in plan or state) or from the server's answer
// (kept in state, Sensitive, only with store_secret_in_state). To notice a key
// that was deleted and re-created under the same id outside Terraform — whose
// secret is then not the one the user holds — the resource keeps, in private
// state, the creation time of the key whose secret it handed out
// (privIssuedAt). Read compares it with the server's and records why the secret
// no longer works (privSecretLost); ModifyPlan turns that into a replacement.
// Neither holds the secret.
const (
	privIssuedAt   = "secret_issued_at" // JSON string, RFC 3339 with nanoseconds
	privSecretLost = "secret_lost"      // JSON string: why the secret stopped working
)

type accessKeyResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure      = (*accessKeyResource)(nil)
	_ resource.ResourceWithImportState    = (*accessKeyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*accessKeyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*accessKeyResource)(nil)
)

func newAccessKeyResource() resource.Resource { return &accessKeyResource{} }

type accessKeyModel struct {
	ID                 types.String `tfsdk:"id"`
	AccessKey          types.String `tfsdk:"access_key"`
	User               types.String `tfsdk:"user"`
	Name               types.String `tfsdk:"name"`
	Description        types.String `tfsdk:"description"`
	Status             types.String `tfsdk:"status"`
	Expiration         types.String `tfsdk:"expiration"`
	Policy             PolicyValue  `tfsdk:"policy"`
	SecretWO           types.String `tfsdk:"secret_wo"`
	SecretWOVersion    types.Int64  `tfsdk:"secret_wo_version"`
	StoreSecretInState types.Bool   `tfsdk:"store_secret_in_state"`
	Secret             types.String `tfsdk:"secret"`
	CreateDate         types.String `tfsdk:"create_date"`
}

func (r *accessKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_access_key"
}

const accessKeyDescription = `An access key of a user: the credentials (access key id and secret) that sign S3 and admin requests. A key may do what its user's policies allow, further restricted by its own inline ` + "`policy`" + `; it stops working when it is disabled, when it expires or when its user is disabled.

## The secret

The server returns a key's secret exactly once, when the key is created, and never again. This resource offers two ways to hold it, and never puts it in plan or state unless asked to:

* **` + "`secret_wo`" + `** (recommended, Terraform 1.11 or later): you choose the secret and pass it in a write-only attribute, typically from an ephemeral resource or an ephemeral variable. Terraform sends it to the server at creation and keeps it nowhere. Change ` + "`secret_wo_version`" + ` to rotate: the key is replaced by a new one (a new access key id) with the new secret. This is the pattern of the AWS provider's ` + "`password_wo`" + ` and ` + "`password_wo_version`" + `.
* **` + "`store_secret_in_state = true`" + `**: the server generates the secret and Terraform keeps it in the ` + "`secret`" + ` attribute, marked sensitive but in plain text in the state, like ` + "`aws_iam_access_key.secret`" + `. Protect the state accordingly. Setting it later, or on an imported key, cannot recover the secret of an existing key; replace the key (` + "`terraform apply -replace=ADDRESS`" + `) to get one.

Creating a key with neither is refused: nobody could ever learn its secret.

## Drift

A key deleted outside Terraform is planned for creation. A key deleted and re-created under the same id outside Terraform (its secret then is not the one you hold), or one whose secret the server can no longer unseal because the root credentials changed, is planned for **replacement**, with a warning saying which; the plan shows ` + "`create_date`" + ` forcing it and never the secret. Changes of status, expiration, name, description or inline policy made outside Terraform are planned back.`

func (r *accessKeyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: accessKeyDescription,
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The access key id.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "The access key id, generated by the server (for example `CK7QZ…`); " +
					"use it with the secret as a client's access key.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"user": schema.StringAttribute{
				MarkdownDescription: "Name of the user the key belongs to. Changing it replaces the key.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validUserName()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "A name for the key, up to 64 characters.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"description": schema.StringAttribute{
				MarkdownDescription: "What the key is for, up to 256 characters.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 256)},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "`enabled` or `disabled`; a disabled key cannot sign requests. Default `enabled`.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(string(admin.StatusEnabled)),
				Validators:          []validator.String{stringvalidator.OneOf(string(admin.StatusEnabled), string(admin.StatusDisabled))},
			},
			"expiration": schema.StringAttribute{
				MarkdownDescription: "When the key stops working, RFC 3339 (`2030-01-31T00:00:00Z`); it must be in " +
					"the future when it is set. Any time zone may be used: a value naming the same instant as the " +
					"server's plans no change. Removing it makes the key never expire.",
				Optional:   true,
				Validators: []validator.String{stringCheck{desc: "expiration", check: rfc3339Problem}},
			},
			"policy": schema.StringAttribute{
				MarkdownDescription: "An inline policy (AWS IAM JSON) restricting the key: it may do only what " +
					"both this policy and its user's policies allow. Compared by meaning, like `cairn_policy`'s. " +
					"Removing it gives the key all of its user's permissions.",
				Optional:      true,
				CustomType:    PolicyType{},
				PlanModifiers: []planmodifier.String{keepEquivalentPolicy{}},
			},
			"secret_wo": schema.StringAttribute{
				MarkdownDescription: "The secret key to create the key with: 8–128 printable ASCII characters " +
					"without spaces. **Write-only**: sent to the server at creation and never stored in the plan " +
					"or the state (requires Terraform 1.11 or later). Changing only this value does nothing; " +
					"change `secret_wo_version` with it. Conflicts with `store_secret_in_state = true`.",
				Optional:   true,
				Sensitive:  true,
				WriteOnly:  true,
				Validators: []validator.String{secretCheck{desc: "secret_wo", check: secretKeyProblem}},
			},
			"secret_wo_version": schema.Int64Attribute{
				MarkdownDescription: "A number to change whenever `secret_wo` changes: a new value replaces the key " +
					"(new access key id, new secret). Setting it where it was unset (for example after an import) " +
					"only records it. Requires `secret_wo`.",
				Optional: true,
				Validators: []validator.Int64{
					int64validator.AlsoRequires(path.MatchRoot("secret_wo")),
				},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplaceIf(
					func(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
						resp.RequiresReplace = !req.StateValue.IsNull() && !req.PlanValue.IsNull()
					},
					"A changed version replaces the key; setting it where it was unset does not.",
					"A changed version replaces the key; setting it where it was unset does not.",
				)},
			},
			"store_secret_in_state": schema.BoolAttribute{
				MarkdownDescription: "Keep the server-generated secret in the `secret` attribute (sensitive, but " +
					"plain text in the state). Only takes effect when the key is created; turning it off removes " +
					"the secret from the state. Default `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"secret": schema.StringAttribute{
				MarkdownDescription: "The secret key generated by the server, when `store_secret_in_state` is true " +
					"and the key was created by this resource; null otherwise.",
				Computed:  true,
				Sensitive: true,
			},
			"create_date": schema.StringAttribute{
				MarkdownDescription: "When the key was created, RFC 3339.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *accessKeyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var wo types.String
	var store types.Bool
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("store_secret_in_state"), &store)...)
	if !wo.IsNull() && store.ValueBool() {
		resp.Diagnostics.AddAttributeError(path.Root("store_secret_in_state"), "Conflicting secret settings",
			"secret_wo keeps the secret out of the state; store_secret_in_state = true would put one there. Use one of them.")
	}
}

// ModifyPlan refuses to create a key whose secret nobody could learn, plans the
// secret attribute (it is only ever known at creation), and replaces a key whose
// secret Read found no longer works.
func (r *accessKeyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan accessKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	store := plan.StoreSecretInState
	if req.State.Raw.IsNull() {
		var wo types.String
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
		if wo.IsNull() && !store.IsUnknown() && !store.ValueBool() {
			resp.Diagnostics.AddAttributeError(path.Root("secret_wo"), "No way to learn the secret",
				"The server returns an access key's secret only when the key is created. Give the secret in "+
					"secret_wo (write-only, kept nowhere), or set store_secret_in_state = true to keep the "+
					"generated one in the state.")
			return
		}
		if store.IsUnknown() || store.ValueBool() {
			plan.Secret = types.StringUnknown()
		} else {
			plan.Secret = types.StringNull()
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state accessKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case store.IsUnknown():
		plan.Secret = types.StringUnknown()
	case store.ValueBool():
		plan.Secret = state.Secret
	default:
		plan.Secret = types.StringNull()
	}
	if lost := privateString(ctx, req.Private, privSecretLost); lost != "" {
		resp.Diagnostics.AddWarning("Access key will be replaced",
			fmt.Sprintf("Access key %s %s, so the secret Terraform issued for it no longer works. "+
				"The plan replaces it with a new key.", state.ID.ValueString(), lost))
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("create_date"))
		plan.CreateDate = types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *accessKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan accessKeyModel
	var wo types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_wo"), &wo)...)
	if resp.Diagnostics.HasError() {
		return
	}
	user := plan.User.ValueString()
	in := admin.CreateAccessKeyRequest{
		User:        user,
		Name:        plan.Name.ValueString(),
		Description: plan.Description.ValueString(),
		SecretKey:   wo.ValueString(),
	}
	if !plan.Policy.IsNull() {
		in.Policy = policyJSON(plan.Policy.ValueString())
	}
	if !plan.Expiration.IsNull() {
		t, err := time.Parse(time.RFC3339, plan.Expiration.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("expiration"), "Invalid expiration", err.Error())
			return
		}
		in.Expiration = &t
	}
	creds, err := r.client.Admin.CreateAccessKey(ctx, in)
	if err != nil {
		adminError(&resp.Diagnostics, "CreateAccessKey", "an access key of user "+user, err)
		return
	}
	tflog.Info(ctx, "created access key", map[string]any{"access_key": creds.AccessKey.AccessKey, "user": user})
	keyToModel(&creds.AccessKey, &plan)
	if plan.StoreSecretInState.ValueBool() && wo.IsNull() {
		plan.Secret = types.StringValue(creds.SecretKey)
	} else {
		plan.Secret = types.StringNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	setPrivateString(ctx, resp.Private, privIssuedAt, creds.Created.Format(time.RFC3339Nano), &resp.Diagnostics)
	setPrivateString(ctx, resp.Private, privSecretLost, "", &resp.Diagnostics)
}

// policyJSON sends a policy document as a JSON string holding it, which the
// admin API accepts like an object and which cannot fail to encode.
func policyJSON(doc string) json.RawMessage {
	b, _ := json.Marshal(doc)
	return b
}

// keyToModel records what the server holds. Values that mean the same as the
// model's (an expiration naming the same instant, an equivalent policy, through
// PolicyType's semantic equality) keep the model's text.
func keyToModel(k *admin.AccessKey, m *accessKeyModel) {
	m.ID = types.StringValue(k.AccessKey)
	m.AccessKey = types.StringValue(k.AccessKey)
	m.User = types.StringValue(k.User)
	m.Name = nullIfEmpty(k.Name)
	m.Description = nullIfEmpty(k.Description)
	m.Status = types.StringValue(string(k.Status))
	switch {
	case k.Expiration == nil:
		m.Expiration = types.StringNull()
	case !sameInstant(m.Expiration, *k.Expiration):
		m.Expiration = types.StringValue(k.Expiration.UTC().Format(time.RFC3339Nano))
	}
	if len(k.Policy) == 0 {
		m.Policy = PolicyValue{StringValue: types.StringNull()}
	} else {
		m.Policy = NewPolicyValue(string(k.Policy))
	}
	m.CreateDate = types.StringValue(k.Created.UTC().Format(time.RFC3339))
}

func nullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// sameInstant reports whether v is a known RFC 3339 timestamp naming t.
func sameInstant(v types.String, t time.Time) bool {
	if v.IsNull() || v.IsUnknown() {
		return false
	}
	p, err := time.Parse(time.RFC3339, v.ValueString())
	return err == nil && p.Equal(t)
}

func (r *accessKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state accessKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	k, err := r.client.Admin.GetAccessKey(ctx, id)
	if admin.IsNotFound(err) {
		tflog.Warn(ctx, "access key is gone; removing it from state", map[string]any{"access_key": id})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		adminError(&resp.Diagnostics, "GetAccessKey", "access key "+id, err)
		return
	}
	keyToModel(k, &state)
	if state.StoreSecretInState.IsNull() {
		state.StoreSecretInState = types.BoolValue(false)
	}

	// Is the secret Terraform handed out still this key's secret?
	issued := privateString(ctx, req.Private, privIssuedAt)
	lost := ""
	if issued == "" {
		// Imported: adopt the key as it is now.
		issued = k.Created.Format(time.RFC3339Nano)
		setPrivateString(ctx, resp.Private, privIssuedAt, issued, &resp.Diagnostics)
	}
	if t, err := time.Parse(time.RFC3339Nano, issued); err != nil || !t.Equal(k.Created) {
		lost = fmt.Sprintf("was deleted and created again outside Terraform (now created %s)", k.Created.UTC().Format(time.RFC3339))
	} else if !k.Usable {
		lost = "can no longer be used: the server cannot unseal its secret (the root credentials changed since it was created)"
	}
	if lost != "" {
		tflog.Warn(ctx, "access key secret no longer works", map[string]any{"access_key": id, "reason": lost})
	}
	setPrivateString(ctx, resp.Private, privSecretLost, lost, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *accessKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state accessKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	name, desc, status := plan.Name.ValueString(), plan.Description.ValueString(), admin.Status(plan.Status.ValueString())
	in := admin.UpdateAccessKeyRequest{Name: &name, Description: &desc, Status: &status}
	if plan.Policy.IsNull() != state.Policy.IsNull() || plan.Policy.ValueString() != state.Policy.ValueString() {
		if plan.Policy.IsNull() {
			in.Policy = admin.RemovePolicy()
		} else {
			in.Policy = policyJSON(plan.Policy.ValueString())
		}
	}
	// The expiration is sent only when it changes: an unchanged one may have
	// passed, and the server refuses to set an expiration in the past.
	if plan.Expiration.IsNull() != state.Expiration.IsNull() || plan.Expiration.ValueString() != state.Expiration.ValueString() {
		if plan.Expiration.IsNull() {
			in.NoExpiration = true
		} else {
			t, err := time.Parse(time.RFC3339, plan.Expiration.ValueString())
			if err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("expiration"), "Invalid expiration", err.Error())
				return
			}
			in.Expiration = &t
		}
	}
	k, err := r.client.Admin.UpdateAccessKey(ctx, id, in)
	if err != nil {
		adminError(&resp.Diagnostics, "UpdateAccessKey", "access key "+id, err)
		return
	}
	keyToModel(k, &plan)
	if plan.StoreSecretInState.ValueBool() {
		plan.Secret = state.Secret
	} else {
		plan.Secret = types.StringNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *accessKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state accessKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()
	if err := r.client.Admin.DeleteAccessKey(ctx, id); err != nil && !admin.IsNotFound(err) {
		adminError(&resp.Diagnostics, "DeleteAccessKey", "access key "+id, err)
	}
}

// ImportState takes the access key id. An imported key's secret is unknown to
// Terraform: secret stays null whatever store_secret_in_state says.
func (r *accessKeyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := accessKeyIDProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the access key id; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("store_secret_in_state"), false)...)
}
