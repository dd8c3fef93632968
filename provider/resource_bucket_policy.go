package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketPolicyResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*bucketPolicyResource)(nil)
	_ resource.ResourceWithImportState = (*bucketPolicyResource)(nil)
)

func newBucketPolicyResource() resource.Resource { return &bucketPolicyResource{} }

type bucketPolicyModel struct {
	ID     types.String `tfsdk:"id"`
	Bucket types.String `tfsdk:"bucket"`
	Policy PolicyValue  `tfsdk:"policy"`
}

func (r *bucketPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_policy"
}

func (r *bucketPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The policy of a bucket (AWS IAM JSON). Documents are compared by meaning, not " +
			"text: reformatting, reordering statements or list values, a string versus a one-element list, " +
			"or `\"Principal\": \"*\"` versus `{\"AWS\": \"*\"}` never plans a change, while a real change " +
			"(or one made outside Terraform) always does.",
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
			"policy": schema.StringAttribute{
				MarkdownDescription: "The policy document as JSON, typically `jsonencode({...})` or " +
					"`data.cairn_policy_document.NAME.json`. It is validated at plan time: every statement needs " +
					"`Effect` (`Allow`/`Deny`) and `Action` or `NotAction`; unknown keys are rejected.",
				Required:      true,
				CustomType:    PolicyType{},
				PlanModifiers: []planmodifier.String{keepEquivalentPolicy{}},
			},
		},
	}
}

func (r *bucketPolicyResource) put(ctx context.Context, m *bucketPolicyModel) error {
	_, err := r.client.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(m.Bucket.ValueString()),
		Policy: aws.String(m.Policy.ValueString()),
	})
	return err
}

// read returns the stored policy; found=false when the bucket or its policy is gone.
func (r *bucketPolicyResource) read(ctx context.Context, bucket string) (policy string, found bool, err error) {
	out, err := r.client.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if isNotFound(err, "NoSuchBucketPolicy") {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return aws.ToString(out.Policy), true, nil
}

func (r *bucketPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan bucketPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.write(ctx, &plan, resp.Diagnostics.AddError)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *bucketPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan bucketPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.write(ctx, &plan, resp.Diagnostics.AddError)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// write puts the planned policy and reads back what the server stored; the
// PolicyType's semantic equality keeps the configured text when they match.
func (r *bucketPolicyResource) write(ctx context.Context, plan *bucketPolicyModel, addError func(summary, detail string)) {
	bucket := plan.Bucket.ValueString()
	if err := r.put(ctx, plan); err != nil {
		addError("PutBucketPolicy failed", fmt.Sprintf("PutBucketPolicy on bucket %s: %v", bucket, err))
		return
	}
	policy, found, err := r.read(ctx, bucket)
	if err == nil && !found {
		err = fmt.Errorf("the policy is not visible after it was put")
	}
	if err != nil {
		addError("Reading back the bucket policy failed", fmt.Sprintf("GetBucketPolicy on bucket %s: %v", bucket, err))
		return
	}
	plan.ID = types.StringValue(bucket)
	plan.Policy = NewPolicyValue(policy)
}

func (r *bucketPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	policy, found, err := r.read(ctx, bucket)
	if err != nil {
		s3Error(&resp.Diagnostics, "GetBucketPolicy", bucket, "", err)
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	state.Bucket = types.StringValue(bucket)
	state.Policy = NewPolicyValue(policy)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *bucketPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	_, err := r.client.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil && !isNotFound(err, "NoSuchBucketPolicy") {
		s3Error(&resp.Diagnostics, "DeleteBucketPolicy", bucket, "", err)
	}
}

func (r *bucketPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
