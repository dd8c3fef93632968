package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketDataSource struct{ dataSourceBase }

var _ datasource.DataSourceWithConfigure = (*bucketDataSource)(nil)

func newBucketDataSource() datasource.DataSource { return &bucketDataSource{} }

type bucketDataModel struct {
	ID           types.String `tfsdk:"id"`
	Bucket       types.String `tfsdk:"bucket"`
	ARN          types.String `tfsdk:"arn"`
	Region       types.String `tfsdk:"region"`
	CreationDate types.String `tfsdk:"creation_date"`
}

func (d *bucketDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket"
}

func (d *bucketDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up an existing bucket; fails if it does not exist.",
		Attributes: map[string]schema.Attribute{
			"id":     schema.StringAttribute{MarkdownDescription: "The bucket name.", Computed: true},
			"bucket": schema.StringAttribute{MarkdownDescription: "Name of the bucket.", Required: true, Validators: []validator.String{validBucketName()}},
			"arn":    schema.StringAttribute{MarkdownDescription: "ARN of the bucket, `arn:aws:s3:::NAME`.", Computed: true},
			"region": schema.StringAttribute{MarkdownDescription: "Region of the bucket (the provider's region).", Computed: true},
			"creation_date": schema.StringAttribute{
				MarkdownDescription: "When the bucket was created, RFC 3339.",
				Computed:            true,
			},
		},
	}
}

func (d *bucketDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m bucketDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := m.Bucket.ValueString()
	info, err := readBucketInfo(ctx, d.client, name)
	if err != nil {
		s3Error(&resp.Diagnostics, "reading bucket", name, "", err)
		return
	}
	if info == nil {
		resp.Diagnostics.AddError("Bucket not found", fmt.Sprintf("Bucket %q does not exist (or the credentials cannot see it).", name))
		return
	}
	m.ID = types.StringValue(name)
	m.ARN = types.StringValue(bucketARN(name))
	m.Region = types.StringValue(d.client.Region)
	m.CreationDate = types.StringValue(info.created)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
