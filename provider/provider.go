package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the provider's source address.
const Address = "registry.terraform.io/cairn/cairn"

// Provider is the cairn provider. Version is reported to Terraform.
type Provider struct {
	version string
}

var _ provider.Provider = (*Provider)(nil)

// New returns the constructor providerserver expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &Provider{version: version} }
}

type providerModel struct {
	Endpoint   types.String `tfsdk:"endpoint"`
	Region     types.String `tfsdk:"region"`
	AccessKey  types.String `tfsdk:"access_key"`
	SecretKey  types.String `tfsdk:"secret_key"`
	Insecure   types.Bool   `tfsdk:"insecure"`
	CACert     types.String `tfsdk:"ca_cert"`
	MaxRetries types.Int64  `tfsdk:"max_retries"`
}

func (p *Provider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cairn"
	resp.Version = p.version
}

func (p *Provider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The Cairn provider manages buckets, objects, bucket policies, default encryption " +
			"and lifecycle rules on a [Cairn](https://github.com/cairn-io/cairn) object server (or any " +
			"S3-compatible endpoint) over the S3 API, and users, groups, IAM policies, access keys, KMS keys " +
			"and pools, and reads the cluster's topology and health, over Cairn's admin API " +
			"(`/cairn/admin/v1`, on the same endpoint). Requests are path-style and signed with SigV4 " +
			"with the same credentials; the IAM resources need root's or those of a user whose policies " +
			"allow `admin:*`. A server answering `503 Slow Down` is retried with exponential backoff.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "URL of the Cairn server, for example `https://s3.example.com:9000`. " +
					"Defaults to the `CAIRN_ENDPOINT` environment variable.",
				Optional: true,
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Region used to sign requests; must match the server's `--region`. " +
					"Defaults to `CAIRN_REGION`, then `us-east-1`.",
				Optional: true,
			},
			"access_key": schema.StringAttribute{
				MarkdownDescription: "Access key id. Defaults to `CAIRN_ACCESS_KEY`.",
				Optional:            true,
			},
			"secret_key": schema.StringAttribute{
				MarkdownDescription: "Secret access key. Defaults to `CAIRN_SECRET_KEY`.",
				Optional:            true,
				Sensitive:           true,
			},
			"insecure": schema.BoolAttribute{
				MarkdownDescription: "Skip verification of the server's TLS certificate. For test " +
					"deployments with self-signed certificates only; prefer `ca_cert`. Default `false`.",
				Optional: true,
			},
			"ca_cert": schema.StringAttribute{
				MarkdownDescription: "PEM-encoded CA certificate(s) to trust in addition to the system " +
					"roots, given as the PEM text itself or as the path of a PEM file.",
				Optional: true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: "How many times a request failing with a retryable error " +
					"(503 Slow Down, 500, 502, 504, connection errors) is retried, with exponential " +
					"backoff and jitter. Default `10`.",
				Optional: true,
			},
		},
	}
}

func (p *Provider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]types.String{"endpoint": m.Endpoint, "region": m.Region, "access_key": m.AccessKey, "secret_key": m.SecretKey, "ca_cert": m.CACert} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown provider configuration",
				"The provider's "+name+" depends on a value that is not known until apply. "+
					"Set it to a known value or use the CAIRN_* environment variables.")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := ClientConfig{
		Endpoint:   stringOr(m.Endpoint, os.Getenv("CAIRN_ENDPOINT")),
		Region:     stringOr(m.Region, stringOrDefault(os.Getenv("CAIRN_REGION"), "us-east-1")),
		AccessKey:  stringOr(m.AccessKey, os.Getenv("CAIRN_ACCESS_KEY")),
		SecretKey:  stringOr(m.SecretKey, os.Getenv("CAIRN_SECRET_KEY")),
		Insecure:   m.Insecure.ValueBool(),
		MaxRetries: 10,
	}
	if !m.MaxRetries.IsNull() {
		if n := m.MaxRetries.ValueInt64(); n < 0 || n > 100 {
			resp.Diagnostics.AddAttributeError(path.Root("max_retries"), "Invalid max_retries", "max_retries must be between 0 and 100.")
			return
		}
		cfg.MaxRetries = int(m.MaxRetries.ValueInt64())
	}
	if cfg.Endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Missing endpoint",
			"Set the provider's endpoint (or CAIRN_ENDPOINT) to the URL of the Cairn server, for example https://s3.example.com:9000.")
		return
	}
	if v := m.CACert.ValueString(); v != "" {
		pem, err := readCACert(v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("ca_cert"), "Invalid ca_cert", err.Error())
			return
		}
		cfg.CACert = pem
	}
	c, err := NewClient(cfg)
	if err != nil {
		resp.Diagnostics.AddError("Invalid provider configuration", err.Error())
		return
	}
	resp.ResourceData = c
	resp.DataSourceData = c
}

func (p *Provider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newBucketResource,
		newBucketVersioningResource,
		newBucketTagsResource,
		newBucketPolicyResource,
		newBucketEncryptionResource,
		newBucketLifecycleResource,
		newObjectResource,
		newUserResource,
		newGroupResource,
		newGroupMembershipResource,
		newPolicyResource,
		newUserPolicyAttachmentResource,
		newGroupPolicyAttachmentResource,
		newAccessKeyResource,
		newKMSKeyResource,
		newPoolResource,
	}
}

func (p *Provider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newBucketDataSource,
		newBucketsDataSource,
		newPolicyDocumentDataSource,
		newClusterDataSource,
	}
}

func stringOr(v types.String, def string) string {
	if v.IsNull() || v.ValueString() == "" {
		return def
	}
	return v.ValueString()
}

func stringOrDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
