package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketVersioningResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*bucketVersioningResource)(nil)
	_ resource.ResourceWithImportState = (*bucketVersioningResource)(nil)
)

func newBucketVersioningResource() resource.Resource { return &bucketVersioningResource{} }

type bucketVersioningModel struct {
	ID     types.String `tfsdk:"id"`
	Bucket types.String `tfsdk:"bucket"`
	Status types.String `tfsdk:"status"`
}

func (r *bucketVersioningResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_versioning"
}

func (r *bucketVersioningResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The versioning state of a bucket. A bucket that has been versioned can never " +
			"return to unversioned: destroying this resource suspends versioning (existing versions stay).",
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
			"status": schema.StringAttribute{
				MarkdownDescription: "`Enabled` keeps every version of every object; `Suspended` stops creating " +
					"new versions (objects written get the `null` version) but keeps the existing ones.",
				Required:   true,
				Validators: []validator.String{stringvalidator.OneOf("Enabled", "Suspended")},
			},
		},
	}
}

func (r *bucketVersioningResource) put(ctx context.Context, m *bucketVersioningModel) error {
	_, err := r.client.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(m.Bucket.ValueString()),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(m.Status.ValueString())},
	})
	return err
}

// read returns the bucket's status, "" for a bucket never versioned, and found=false
// for a bucket that does not exist.
func (r *bucketVersioningResource) read(ctx context.Context, bucket string) (status string, found bool, err error) {
	out, err := r.client.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(out.Status), true, nil
}

// readBack replaces m.Status with what the server stored.
func (r *bucketVersioningResource) readBack(ctx context.Context, m *bucketVersioningModel) error {
	status, found, err := r.read(ctx, m.Bucket.ValueString())
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("bucket %s does not exist", m.Bucket.ValueString())
	}
	m.Status = types.StringValue(status)
	return nil
}

func (r *bucketVersioningResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan bucketVersioningModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.put(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "PutBucketVersioning", plan.Bucket.ValueString(), "", err)
		return
	}
	plan.ID = plan.Bucket
	if err := r.readBack(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "GetBucketVersioning", plan.Bucket.ValueString(), "", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *bucketVersioningResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan bucketVersioningModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.put(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "PutBucketVersioning", plan.Bucket.ValueString(), "", err)
		return
	}
	plan.ID = plan.Bucket
	if err := r.readBack(ctx, &plan); err != nil {
		s3Error(&resp.Diagnostics, "GetBucketVersioning", plan.Bucket.ValueString(), "", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *bucketVersioningResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketVersioningModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	status, found, err := r.read(ctx, bucket)
	if err != nil {
		s3Error(&resp.Diagnostics, "GetBucketVersioning", bucket, "", err)
		return
	}
	if !found || status == "" {
		resp.State.RemoveResource(ctx)
		return
	}
	state.Bucket = types.StringValue(bucket)
	state.Status = types.StringValue(status)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *bucketVersioningResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketVersioningModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	status, found, err := r.read(ctx, bucket)
	if err != nil {
		s3Error(&resp.Diagnostics, "GetBucketVersioning", bucket, "", err)
		return
	}
	if !found || status != string(s3types.BucketVersioningStatusEnabled) {
		return
	}
	state.Status = types.StringValue(string(s3types.BucketVersioningStatusSuspended))
	if err := r.put(ctx, &state); err != nil {
		if errorCode(err) == "InvalidBucketState" {
			// Object-lock buckets cannot suspend versioning; destroying the
			// resource then only forgets it.
			return
		}
		s3Error(&resp.Diagnostics, "PutBucketVersioning", bucket, "", err)
	}
}

func (r *bucketVersioningResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
