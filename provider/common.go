package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
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
