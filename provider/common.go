package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// resourceBase is embedded by every resource: it keeps the *Client that
// Provider.Configure built.
type resourceBase struct{ client *Client }

func (b *resourceBase) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.client = providerClient(req.ProviderData, &resp.Diagnostics)
}

// dataSourceBase is resourceBase for data sources.
type dataSourceBase struct{ client *Client }

func (b *dataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b.client = providerClient(req.ProviderData, &resp.Diagnostics)
}

// providerClient extracts the *Client. ProviderData is nil while Terraform validates
// configuration before the provider is configured; that is not an error.
func providerClient(data any, diags *diag.Diagnostics) *Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*Client)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *provider.Client, got %T. This is a bug in the provider.", data))
		return nil
	}
	return c
}

// s3Error adds an error diagnostic for a failed S3 call, naming the operation and
// the bucket (and key) so the message stands on its own.
func s3Error(diags *diag.Diagnostics, op, bucket, key string, err error) {
	what := "bucket " + bucket
	if key != "" {
		what = "object " + bucket + "/" + key
	}
	diags.AddError(op+" failed", fmt.Sprintf("%s on %s: %v", op, what, err))
}

// adminError adds an error diagnostic for a failed admin API call, naming the
// operation and what it was on ("user alice", "access key CK…"). The admin
// client's errors carry the server's code and message, never a secret.
func adminError(diags *diag.Diagnostics, op, what string, err error) {
	diags.AddError(op+" failed", fmt.Sprintf("%s on %s: %v", op, what, err))
}

// privateData is the part of a resource's private state (req.Private,
// resp.Private) the resources use; the framework's type is internal.
type privateData interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// privateString returns the string stored under key in private state, or "".
func privateString(ctx context.Context, p privateData, key string) string {
	if p == nil {
		return ""
	}
	b, d := p.GetKey(ctx, key)
	var s string
	if d.HasError() || len(b) == 0 || json.Unmarshal(b, &s) != nil {
		return ""
	}
	return s
}

// setPrivateString stores s under key in private state (as a JSON string, the
// only form private state takes); "" removes the key.
func setPrivateString(ctx context.Context, p privateData, key, s string, diags *diag.Diagnostics) {
	var b []byte
	if s != "" {
		b, _ = json.Marshal(s)
	}
	diags.Append(p.SetKey(ctx, key, b)...)
}

// fwDiags is the framework's diagnostics list, shortened for helper signatures.
type fwDiags = diag.Diagnostics

// planGetter is req.Plan.Get of Create and Update, so both can share one body.
type planGetter func(ctx context.Context, target any) diag.Diagnostics

// stateSetter is the part of resp.State that shared Create/Update bodies use.
type stateSetter interface {
	Set(ctx context.Context, val any) diag.Diagnostics
}

// objectAsOptions turn a null or unknown nested object into the zero model
// instead of failing.
var objectAsOptions = basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}
