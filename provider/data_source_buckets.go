package provider

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketsDataSource struct{ dataSourceBase }

var _ datasource.DataSourceWithConfigure = (*bucketsDataSource)(nil)

func newBucketsDataSource() datasource.DataSource { return &bucketsDataSource{} }

type bucketsDataModel struct {
	ID      types.String      `tfsdk:"id"`
	Prefix  types.String      `tfsdk:"prefix"`
	Names   []string          `tfsdk:"names"`
	Buckets []bucketListEntry `tfsdk:"buckets"`
}

type bucketListEntry struct {
	Name         string `tfsdk:"name"`
	ARN          string `tfsdk:"arn"`
	CreationDate string `tfsdk:"creation_date"`
}

func (d *bucketsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_buckets"
}

func (d *bucketsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the buckets the credentials can see, sorted by name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{MarkdownDescription: "The prefix (empty for all buckets).", Computed: true},
			"prefix": schema.StringAttribute{
				MarkdownDescription: "List only the buckets whose name begins with this prefix.",
				Optional:            true,
			},
			"names": schema.ListAttribute{
				MarkdownDescription: "Bucket names, sorted.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"buckets": schema.ListNestedAttribute{
				MarkdownDescription: "The buckets, sorted by name.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":          schema.StringAttribute{MarkdownDescription: "Bucket name.", Computed: true},
					"arn":           schema.StringAttribute{MarkdownDescription: "Bucket ARN.", Computed: true},
					"creation_date": schema.StringAttribute{MarkdownDescription: "Creation time, RFC 3339.", Computed: true},
				}},
			},
		},
	}
}

func (d *bucketsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m bucketsDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in := &s3.ListBucketsInput{}
	if p := m.Prefix.ValueString(); p != "" {
		in.Prefix = aws.String(p)
	}
	m.Names, m.Buckets = []string{}, []bucketListEntry{}
	pages := s3.NewListBucketsPaginator(d.client.S3, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			resp.Diagnostics.AddError("ListBuckets failed", err.Error())
			return
		}
		for _, b := range page.Buckets {
			e := bucketListEntry{Name: aws.ToString(b.Name), ARN: bucketARN(aws.ToString(b.Name))}
			if b.CreationDate != nil {
				e.CreationDate = b.CreationDate.UTC().Format(time.RFC3339)
			}
			m.Names = append(m.Names, e.Name)
			m.Buckets = append(m.Buckets, e)
		}
	}
	m.ID = types.StringValue(m.Prefix.ValueString())
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
