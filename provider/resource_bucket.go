package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// bucketSuffixLen is the length of the unique suffix appended to bucket_prefix:
// a UTC timestamp to the 1/10000 s and 8 random hex digits, like Terraform's
// PrefixedUniqueId, so generated names sort by creation time.
const bucketSuffixLen = 26

type bucketResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure   = (*bucketResource)(nil)
	_ resource.ResourceWithImportState = (*bucketResource)(nil)
)

func newBucketResource() resource.Resource { return &bucketResource{} }

type bucketModel struct {
	ID                types.String `tfsdk:"id"`
	Bucket            types.String `tfsdk:"bucket"`
	BucketPrefix      types.String `tfsdk:"bucket_prefix"`
	ForceDestroy      types.Bool   `tfsdk:"force_destroy"`
	ObjectLockEnabled types.Bool   `tfsdk:"object_lock_enabled"`
	ARN               types.String `tfsdk:"arn"`
	Region            types.String `tfsdk:"region"`
	CreationDate      types.String `tfsdk:"creation_date"`
}

func (r *bucketResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket"
}

func (r *bucketResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A bucket. Versioning, tags and the bucket policy are separate resources " +
			"(`cairn_bucket_versioning`, `cairn_bucket_tags`, `cairn_bucket_policy`), as in the AWS provider.\n\n" +
			"Destroying a bucket that still holds objects fails unless `force_destroy` is true, in which " +
			"case every object version, delete marker and unfinished multipart upload is removed first.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The bucket name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of the bucket: 3–63 lower-case letters, digits, hyphens and periods, " +
					"beginning and ending with a letter or digit. If neither `bucket` nor `bucket_prefix` is set, " +
					"a unique name beginning with `terraform-` is generated. Changing it replaces the bucket.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplace(),
				},
				Validators: []validator.String{
					validBucketName(),
					stringvalidator.ConflictsWith(path.MatchRoot("bucket_prefix")),
				},
			},
			"bucket_prefix": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Creates a unique bucket name beginning with this prefix "+
					"(at most %d characters; a %d-character suffix is appended). Conflicts with `bucket`. "+
					"Changing it replaces the bucket.", 63-bucketSuffixLen, bucketSuffixLen),
				Optional:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{validBucketPrefix()},
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "Delete every object version, delete marker and unfinished multipart upload " +
					"when the bucket is destroyed, so a non-empty (or versioned) bucket can be destroyed. " +
					"These objects are **not** recoverable. Applies only after it has been saved to state by an apply. " +
					"Default `false`.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
			},
			"object_lock_enabled": schema.BoolAttribute{
				MarkdownDescription: "Create the bucket with S3 Object Lock enabled (this also enables versioning, " +
					"which then cannot be suspended). Changing it replaces the bucket. On import it is read from the " +
					"server where the server reports it; otherwise the configured value is recorded without " +
					"replacing the bucket. Default `false`.",
				Optional:      true,
				Computed:      true,
				Default:       booldefault.StaticBool(false),
				PlanModifiers: []planmodifier.Bool{replaceObjectLockIfVerified{}},
			},
			"arn": schema.StringAttribute{
				MarkdownDescription: "ARN of the bucket, `arn:aws:s3:::NAME`, for use in policy documents.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Region the bucket was created in (the provider's region).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"creation_date": schema.StringAttribute{
				MarkdownDescription: "When the bucket was created, RFC 3339.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *bucketResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan bucketModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Bucket.ValueString()
	if plan.Bucket.IsUnknown() || name == "" {
		prefix := plan.BucketPrefix.ValueString()
		if prefix == "" {
			prefix = "terraform-"
		}
		name = prefix + uniqueSuffix()
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if plan.ObjectLockEnabled.ValueBool() {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if r.client.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r.client.Region)}
	}
	tflog.Debug(ctx, "creating bucket", map[string]any{"bucket": name})
	if _, err := r.client.S3.CreateBucket(ctx, in); err != nil {
		switch errorCode(err) {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			resp.Diagnostics.AddAttributeError(path.Root("bucket"), "Bucket already exists",
				fmt.Sprintf("Bucket %q already exists. To manage it with Terraform, import it: terraform import <address> %s", name, name))
		default:
			s3Error(&resp.Diagnostics, "CreateBucket", name, "", err)
		}
		return
	}
	plan.ID = types.StringValue(name)
	plan.Bucket = types.StringValue(name)
	found, _, err := r.read(ctx, &plan)
	if err == nil && !found {
		err = errors.New("the bucket is not visible after it was created")
	}
	if err != nil {
		s3Error(&resp.Diagnostics, "reading back the new bucket", name, "", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// read refreshes m from the server. It reports found=false when the bucket is gone,
// and lockVerified=true when the server told whether object lock is on.
func (r *bucketResource) read(ctx context.Context, m *bucketModel) (found, lockVerified bool, err error) {
	name := m.ID.ValueString()
	info, err := readBucketInfo(ctx, r.client, name)
	if err != nil || info == nil {
		return false, false, err
	}
	m.Bucket = types.StringValue(name)
	m.ARN = types.StringValue(bucketARN(name))
	m.Region = types.StringValue(r.client.Region)
	m.CreationDate = types.StringValue(info.created)
	if info.objectLock != nil {
		m.ObjectLockEnabled = types.BoolValue(*info.objectLock)
	} else if m.ObjectLockEnabled.IsNull() || m.ObjectLockEnabled.IsUnknown() {
		m.ObjectLockEnabled = types.BoolValue(false)
	}
	if m.ForceDestroy.IsNull() || m.ForceDestroy.IsUnknown() {
		m.ForceDestroy = types.BoolValue(false)
	}
	return true, info.objectLock != nil, nil
}

func (r *bucketResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	found, lockVerified, err := r.read(ctx, &state)
	if err != nil {
		s3Error(&resp.Diagnostics, "reading bucket", state.ID.ValueString(), "", err)
		return
	}
	if !found {
		tflog.Warn(ctx, "bucket is gone; removing it from state", map[string]any{"bucket": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if lockVerified {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, objectLockUnverifiedKey, nil)...)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update only ever changes force_destroy (everything else forces replacement),
// which lives in state alone.
func (r *bucketResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan bucketModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *bucketResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	for attempt := 0; ; attempt++ {
		if state.ForceDestroy.ValueBool() {
			n, err := emptyBucket(ctx, r.client, name, state.ObjectLockEnabled.ValueBool())
			if err != nil {
				s3Error(&resp.Diagnostics, "emptying bucket (force_destroy)", name, "", err)
				return
			}
			tflog.Info(ctx, "force_destroy emptied bucket", map[string]any{"bucket": name, "deleted": n})
		}
		_, err := r.client.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		switch {
		case err == nil || isNotFound(err):
			return
		case errorCode(err) == "BucketNotEmpty" && state.ForceDestroy.ValueBool() && attempt < 5:
			continue // something wrote while we emptied it; go again
		case errorCode(err) == "BucketNotEmpty":
			resp.Diagnostics.AddError("Bucket not empty",
				fmt.Sprintf("Bucket %q still holds objects (or object versions), so it cannot be deleted. "+
					"Set force_destroy = true and apply before destroying to delete everything in it, or empty it yourself.", name))
			return
		default:
			s3Error(&resp.Diagnostics, "DeleteBucket", name, "", err)
			return
		}
	}
}

func (r *bucketResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
	// Until Read learns otherwise from the server, object_lock_enabled is a guess.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, objectLockUnverifiedKey, []byte("true"))...)
}

// objectLockUnverifiedKey marks, in the resource's private state, a bucket that was
// imported from a server that does not report object lock (GetObjectLockConfiguration
// answers NotImplemented): its object_lock_enabled is whatever the configuration says.
const objectLockUnverifiedKey = "object_lock_unverified"

// replaceObjectLockIfVerified is RequiresReplace for object_lock_enabled, except for
// an imported bucket whose object lock the server could not report: there a
// configured value is recorded in place instead of destroying the bucket to
// "change" a setting it may well already have.
type replaceObjectLockIfVerified struct{}

var _ planmodifier.Bool = replaceObjectLockIfVerified{}

func (replaceObjectLockIfVerified) Description(context.Context) string {
	return "Changing the value replaces the bucket (unless it was imported from a server that cannot report object lock)."
}

func (m replaceObjectLockIfVerified) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (replaceObjectLockIfVerified) PlanModifyBool(ctx context.Context, req planmodifier.BoolRequest, resp *planmodifier.BoolResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.PlanValue.IsUnknown() || req.PlanValue.Equal(req.StateValue) {
		return
	}
	if b, d := req.Private.GetKey(ctx, objectLockUnverifiedKey); !d.HasError() && len(b) > 0 {
		return
	}
	resp.RequiresReplace = true
}

// bucketInfo is what the S3 API tells about a bucket.
type bucketInfo struct {
	created    string // RFC 3339, "" if the listing does not show it
	objectLock *bool  // nil if the server cannot say
}

// readBucketInfo returns nil, nil when the bucket does not exist.
func readBucketInfo(ctx context.Context, c *Client, name string) (*bucketInfo, error) {
	if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	info := &bucketInfo{}
	out, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String(name)})
	if err != nil {
		return nil, err
	}
	for _, b := range out.Buckets {
		if aws.ToString(b.Name) == name && b.CreationDate != nil {
			info.created = b.CreationDate.UTC().Format(time.RFC3339)
		}
	}
	lock, err := c.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(name)})
	switch {
	case err == nil:
		on := lock.ObjectLockConfiguration != nil && lock.ObjectLockConfiguration.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled
		info.objectLock = &on
	case errorCode(err) == "ObjectLockConfigurationNotFoundError":
		off := false
		info.objectLock = &off
	case errorCode(err) == "NotImplemented":
		// The server does not expose object lock configuration: keep what we know.
	case isNotFound(err):
		return nil, nil
	default:
		return nil, err
	}
	return info, nil
}

// emptyBucket deletes every object version, delete marker and unfinished multipart
// upload in the bucket and returns how many versions and markers it deleted.
func emptyBucket(ctx context.Context, c *Client, bucket string, bypassGovernance bool) (int, error) {
	deleted := 0
	for {
		var batch []s3types.ObjectIdentifier
		pages := s3.NewListObjectVersionsPaginator(c.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return deleted, fmt.Errorf("listing object versions: %w", err)
			}
			for _, v := range page.Versions {
				batch = append(batch, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
			for _, m := range page.DeleteMarkers {
				batch = append(batch, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
		}
		if len(batch) == 0 {
			break
		}
		for len(batch) > 0 {
			n := min(len(batch), 1000)
			in := &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: batch[:n], Quiet: aws.Bool(true)}}
			if bypassGovernance {
				in.BypassGovernanceRetention = aws.Bool(true)
			}
			out, err := c.S3.DeleteObjects(ctx, in)
			if err != nil {
				return deleted, fmt.Errorf("deleting objects: %w", err)
			}
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				return deleted, fmt.Errorf("deleting %s (version %s): %s: %s (and %d more errors)",
					aws.ToString(e.Key), aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
			}
			deleted += n
			batch = batch[n:]
		}
	}
	uploads := s3.NewListMultipartUploadsPaginator(c.S3, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	for uploads.HasMorePages() {
		page, err := uploads.NextPage(ctx)
		if err != nil {
			return deleted, fmt.Errorf("listing multipart uploads: %w", err)
		}
		for _, u := range page.Uploads {
			_, err := c.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil && errorCode(err) != "NoSuchUpload" {
				return deleted, fmt.Errorf("aborting multipart upload of %s: %w", aws.ToString(u.Key), err)
			}
		}
	}
	return deleted, nil
}

func bucketARN(name string) string { return "arn:aws:s3:::" + name }

func uniqueSuffix() string {
	now := time.Now().UTC()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%04d%s", now.Format("20060102150405"), now.Nanosecond()/100000, hex.EncodeToString(b[:]))
}
