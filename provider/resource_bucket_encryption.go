package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketEncryptionResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure      = (*bucketEncryptionResource)(nil)
	_ resource.ResourceWithImportState    = (*bucketEncryptionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*bucketEncryptionResource)(nil)
)

func newBucketEncryptionResource() resource.Resource { return &bucketEncryptionResource{} }

type bucketEncryptionModel struct {
	ID     types.String `tfsdk:"id"`
	Bucket types.String `tfsdk:"bucket"`
	Rule   types.Object `tfsdk:"rule"`
}

type encryptionRuleModel struct {
	SSEAlgorithm     types.String `tfsdk:"sse_algorithm"`
	KMSMasterKeyID   types.String `tfsdk:"kms_master_key_id"`
	BucketKeyEnabled types.Bool   `tfsdk:"bucket_key_enabled"`
}

var encryptionRuleTypes = map[string]attr.Type{
	"sse_algorithm":      types.StringType,
	"kms_master_key_id":  types.StringType,
	"bucket_key_enabled": types.BoolType,
}

func (r *bucketEncryptionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_encryption"
}

func (r *bucketEncryptionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A bucket's default server-side encryption: objects written without encryption " +
			"headers are encrypted with SSE-S3 (`AES256`) or SSE-KMS (`aws:kms`). The server must have a KMS " +
			"configured. Objects written before stay as they are. Destroying the resource removes the default " +
			"(existing objects stay encrypted). The attributes follow the AWS provider's " +
			"`aws_s3_bucket_server_side_encryption_configuration`, with the one rule the S3 API allows as an " +
			"attribute.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name, which is also the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of the bucket. Changing it replaces the resource.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validBucketName()},
			},
			"rule": schema.SingleNestedAttribute{
				MarkdownDescription: "The default encryption rule.",
				Required:            true,
				Attributes: map[string]schema.Attribute{
					"sse_algorithm": schema.StringAttribute{
						MarkdownDescription: "`AES256` (SSE-S3: object keys sealed by the KMS's default key) or " +
							"`aws:kms` (SSE-KMS: sealed by `kms_master_key_id`, or the default key when it is unset).",
						Required:   true,
						Validators: []validator.String{stringvalidator.OneOf("AES256", "aws:kms")},
					},
					"kms_master_key_id": schema.StringAttribute{
						MarkdownDescription: "Name of the KMS key that seals new objects' keys (for example a " +
							"`cairn_kms_key`'s `name`). Only with `sse_algorithm = \"aws:kms\"`.",
						Optional:   true,
						Validators: []validator.String{validKMSKeyID()},
					},
					"bucket_key_enabled": schema.BoolAttribute{
						MarkdownDescription: "Whether SSE-KMS uses a bucket key (fewer KMS calls). Default `false`.",
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(false),
					},
				},
			},
		},
	}
}

func (r *bucketEncryptionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var rule encryptionRuleModel
	if d := req.Config.GetAttribute(ctx, path.Root("rule"), &rule); d.HasError() {
		return // the rule is not known yet (values from other resources): checked at apply
	}
	if rule.SSEAlgorithm.ValueString() == "AES256" && !rule.KMSMasterKeyID.IsNull() && !rule.KMSMasterKeyID.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("rule").AtName("kms_master_key_id"), "kms_master_key_id needs aws:kms",
			`kms_master_key_id names the key of SSE-KMS; set sse_algorithm = "aws:kms" or remove kms_master_key_id.`)
	}
}

func (r *bucketEncryptionResource) put(ctx context.Context, m *bucketEncryptionModel, diags *fwDiags) bool {
	var rule encryptionRuleModel
	diags.Append(m.Rule.As(ctx, &rule, objectAsOptions)...)
	if diags.HasError() {
		return false
	}
	def := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(rule.SSEAlgorithm.ValueString())}
	if v := rule.KMSMasterKeyID.ValueString(); v != "" {
		def.KMSMasterKeyID = aws.String(v)
	}
	_, err := r.client.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(m.Bucket.ValueString()),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: def,
			BucketKeyEnabled:                   aws.Bool(rule.BucketKeyEnabled.ValueBool()),
		}}},
	})
	if err != nil {
		s3Error(diags, "PutBucketEncryption", m.Bucket.ValueString(), "", err)
		return false
	}
	return true
}

// read fills m.Rule from the server; found=false when the bucket or its
// encryption configuration does not exist.
func (r *bucketEncryptionResource) read(ctx context.Context, m *bucketEncryptionModel, diags *fwDiags) (found bool) {
	bucket := m.Bucket.ValueString()
	out, err := r.client.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if isNotFound(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return false
	}
	if err != nil {
		s3Error(diags, "GetBucketEncryption", bucket, "", err)
		return false
	}
	if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) == 0 {
		return false
	}
	rule := out.ServerSideEncryptionConfiguration.Rules[0]
	rm := encryptionRuleModel{SSEAlgorithm: types.StringValue(""), KMSMasterKeyID: types.StringNull(), BucketKeyEnabled: types.BoolValue(aws.ToBool(rule.BucketKeyEnabled))}
	if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
		rm.SSEAlgorithm = types.StringValue(string(d.SSEAlgorithm))
		if k := aws.ToString(d.KMSMasterKeyID); k != "" {
			rm.KMSMasterKeyID = types.StringValue(k)
		}
	}
	obj, d := types.ObjectValueFrom(ctx, encryptionRuleTypes, rm)
	diags.Append(d...)
	m.Rule = obj
	return true
}

func (r *bucketEncryptionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics)
}

func (r *bucketEncryptionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics)
}

func (r *bucketEncryptionResource) apply(ctx context.Context, get planGetter, state stateSetter, diags *fwDiags) {
	var plan bucketEncryptionModel
	diags.Append(get(ctx, &plan)...)
	if diags.HasError() || !r.put(ctx, &plan, diags) {
		return
	}
	plan.ID = plan.Bucket
	if !r.read(ctx, &plan, diags) {
		if !diags.HasError() {
			diags.AddError("Default encryption not stored", fmt.Sprintf("Bucket %s has no default encryption right after PutBucketEncryption succeeded.", plan.Bucket.ValueString()))
		}
		return
	}
	diags.Append(state.Set(ctx, &plan)...)
}

func (r *bucketEncryptionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketEncryptionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Bucket = state.ID
	if !r.read(ctx, &state, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *bucketEncryptionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketEncryptionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	_, err := r.client.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil && !isNotFound(err, "ServerSideEncryptionConfigurationNotFoundError") {
		s3Error(&resp.Diagnostics, "DeleteBucketEncryption", bucket, "", err)
	}
}

func (r *bucketEncryptionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
