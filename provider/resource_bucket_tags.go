package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketTagsResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*bucketTagsResource)(nil)
	_ resource.ResourceWithImportState = (*bucketTagsResource)(nil)
)

func newBucketTagsResource() resource.Resource { return &bucketTagsResource{} }

type bucketTagsModel struct {
	ID     types.String `tfsdk:"id"`
	Bucket types.String `tfsdk:"bucket"`
	Tags   types.Map    `tfsdk:"tags"`
}

func (r *bucketTagsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_tags"
}

func (r *bucketTagsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The complete tag set of a bucket. Tags set on the bucket outside Terraform " +
			"show up as a change in the next plan; destroying the resource removes all the bucket's tags.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of the bucket. Changing it replaces the resource.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validBucketName()},
			},
			"tags": schema.MapAttribute{
				MarkdownDescription: "Tags, key to value: at most 50, keys 1–128 characters, values at most 256 characters.",
				Required:            true,
				ElementType:         types.StringType,
				Validators: []validator.Map{
					mapvalidator.SizeBetween(1, 50),
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 128)),
					mapvalidator.ValueStringsAre(stringvalidator.LengthAtMost(256)),
				},
			},
		},
	}
}

func (r *bucketTagsResource) put(ctx context.Context, m *bucketTagsModel) error {
	tags := map[string]string{}
	if d := m.Tags.ElementsAs(ctx, &tags, false); d.HasError() {
		return fmt.Errorf("reading tags from the plan: %v", d)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := make([]s3types.Tag, 0, len(keys))
	for _, k := range keys {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := r.client.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String(m.Bucket.ValueString()),
		Tagging: &s3types.Tagging{TagSet: set},
	})
	return err
}

// read returns the bucket's tags (empty when it has none) and found=false when the
// bucket does not exist.
func (r *bucketTagsResource) read(ctx context.Context, bucket string) (map[string]string, bool, error) {
	out, err := r.client.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	switch {
	case isNotFound(err):
		return nil, false, nil
	case errorCode(err) == "NoSuchTagSet":
		return map[string]string{}, true, nil
	case err != nil:
		return nil, false, err
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, true, nil
}

func (r *bucketTagsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan bucketTagsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.put(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "PutBucketTagging", plan.Bucket.ValueString(), "", err)
		return
	}
	plan.ID = plan.Bucket
	if err := r.readBack(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "GetBucketTagging", plan.Bucket.ValueString(), "", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *bucketTagsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan bucketTagsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.put(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "PutBucketTagging", plan.Bucket.ValueString(), "", err)
		return
	}
	plan.ID = plan.Bucket
	if err := r.readBack(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "GetBucketTagging", plan.Bucket.ValueString(), "", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// readBack replaces m.Tags with what the server stored.
func (r *bucketTagsResource) readBack(ctx context.Context, m *bucketTagsModel) error {
	tags, found, err := r.read(ctx, m.Bucket.ValueString())
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("bucket %s does not exist", m.Bucket.ValueString())
	}
	v, d := types.MapValueFrom(ctx, types.StringType, tags)
	if d.HasError() {
		return fmt.Errorf("converting tags: %v", d)
	}
	m.Tags = v
	return nil
}

func (r *bucketTagsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketTagsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	tags, found, err := r.read(ctx, bucket)
	if err != nil {
		s3Error(&resp.Diagnostics, "GetBucketTagging", bucket, "", err)
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	state.Bucket = types.StringValue(bucket)
	v, d := types.MapValueFrom(ctx, types.StringType, tags)
	resp.Diagnostics.Append(d...)
	state.Tags = v
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *bucketTagsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketTagsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	_, err := r.client.S3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil && !isNotFound(err) {
		s3Error(&resp.Diagnostics, "DeleteBucketTagging", bucket, "", err)
	}
}

func (r *bucketTagsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
