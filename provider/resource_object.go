package provider

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // S3 ETags are MD5
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// importContentMax is the largest object whose body import copies into state
// (as content, or content_base64 when it is not UTF-8 text).
const importContentMax = 1 << 20

type objectResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure      = (*objectResource)(nil)
	_ resource.ResourceWithImportState    = (*objectResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*objectResource)(nil)
	_ resource.ResourceWithValidateConfig = (*objectResource)(nil)
)

func newObjectResource() resource.Resource { return &objectResource{} }

type objectModel struct {
	ID            types.String `tfsdk:"id"`
	Bucket        types.String `tfsdk:"bucket"`
	Key           types.String `tfsdk:"key"`
	Content       types.String `tfsdk:"content"`
	ContentBase64 types.String `tfsdk:"content_base64"`
	Source        types.String `tfsdk:"source"`
	ContentType   types.String `tfsdk:"content_type"`
	Metadata      types.Map    `tfsdk:"metadata"`
	ETag          types.String `tfsdk:"etag"`
	VersionID     types.String `tfsdk:"version_id"`
	SSE           types.String `tfsdk:"server_side_encryption"`
	KMSKeyID      types.String `tfsdk:"kms_key_id"`
}

// privateServerETag is the private-state key under which the server's ETag of
// the object Terraform last wrote (or imported) is kept when it is not the MD5
// of the body: encrypted objects' ETags are not (see the etag attribute).
const privateServerETag = "server_etag"

func (r *objectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_object"
}

func (r *objectResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	bodies := path.Expressions{path.MatchRoot("content"), path.MatchRoot("content_base64"), path.MatchRoot("source")}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An object, written with a single PUT. The planned `etag` is the MD5 of the " +
			"configured body, so a body changed outside Terraform (or a changed `source` file) shows up as a " +
			"change in the next plan. Destroying the resource deletes every version of the key.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`BUCKET/KEY`, which is also the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"bucket": schema.StringAttribute{
				MarkdownDescription: "Name of the bucket. Changing it replaces the object.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{validBucketName()},
			},
			"key": schema.StringAttribute{
				MarkdownDescription: "Object key (name), up to 1,024 bytes. Changing it replaces the object.",
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 1024)},
			},
			"content": schema.StringAttribute{
				MarkdownDescription: "Body of the object as UTF-8 text. Conflicts with `content_base64` and `source`; " +
					"with none of the three the object is empty.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(bodies...)},
			},
			"content_base64": schema.StringAttribute{
				MarkdownDescription: "Body of the object, base64-encoded, for binary content " +
					"(`filebase64(...)`). Conflicts with `content` and `source`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(bodies...), base64Check()},
			},
			"source": schema.StringAttribute{
				MarkdownDescription: "Path of a local file to upload. The file is hashed at plan time, so editing it " +
					"plans an update. Conflicts with `content` and `content_base64`.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.ConflictsWith(bodies...), stringvalidator.LengthAtLeast(1)},
			},
			"content_type": schema.StringAttribute{
				MarkdownDescription: "MIME type of the object, e.g. `text/plain`. When not set, the server's default " +
					"(`application/octet-stream`) is kept.",
				Optional:      true,
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"metadata": schema.MapAttribute{
				MarkdownDescription: "User metadata (`x-amz-meta-*` headers). Keys must be lower case, as S3 " +
					"lower-cases them.",
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.Map{
					mapvalidator.KeysAre(stringvalidator.RegexMatches(regexp.MustCompile(`^[a-z0-9!#$%&'*+.^_|~-]+$`),
						"must be lower case and a valid HTTP header name (letters, digits and !#$%&'*+-.^_|~)")),
				},
			},
			"etag": schema.StringAttribute{
				MarkdownDescription: "The hex MD5 of the object's body. For most objects this is the server's ETag. " +
					"Encrypted objects have ETags that are not digests (as in S3); for them the provider keeps the " +
					"server's ETag beside the state and still reports the body's MD5 here, and an object rewritten " +
					"outside Terraform still shows up as a change. (An encrypted object imported when larger than " +
					"1 MiB, whose body import does not read, is written once more by the next apply.)",
				Computed: true,
			},
			"server_side_encryption": schema.StringAttribute{
				MarkdownDescription: "Server-side encryption of the object: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS). " +
					"When not set, the bucket's default encryption (`cairn_bucket_encryption`) applies and this " +
					"attribute shows the result (null for an unencrypted object). Set, it is checked on every refresh: " +
					"an object rewritten with other encryption is planned to be written again. Changing it rewrites the object.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.OneOf("AES256", "aws:kms")},
			},
			"kms_key_id": schema.StringAttribute{
				MarkdownDescription: "Name of the KMS key that seals the object's key, with `server_side_encryption = " +
					"\"aws:kms\"` (default: the server's default key). Computed when not set. Changing it rewrites the object.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{validKMSKeyID()},
			},
			"version_id": schema.StringAttribute{
				MarkdownDescription: "Version id of the object when the bucket is versioned (`null` when versioning " +
					"is suspended, empty when the bucket was never versioned).",
				Computed: true,
			},
		},
	}
}

func base64Check() validator.String {
	return stringCheck{desc: "base64 content", check: func(s string) string {
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return "is not standard base64: " + err.Error()
		}
		return ""
	}}
}

// body opens the configured body. known=false means it depends on values not known
// until apply.
func (m *objectModel) body() (rc io.ReadSeekCloser, size int64, known bool, err error) {
	switch {
	case m.Content.IsUnknown() || m.ContentBase64.IsUnknown() || m.Source.IsUnknown():
		return nil, 0, false, nil
	case !m.ContentBase64.IsNull():
		b, err := base64.StdEncoding.DecodeString(m.ContentBase64.ValueString())
		if err != nil {
			return nil, 0, true, fmt.Errorf("content_base64: %w", err)
		}
		return nopCloser{bytes.NewReader(b)}, int64(len(b)), true, nil
	case !m.Source.IsNull():
		f, err := os.Open(m.Source.ValueString())
		if err != nil {
			return nil, 0, true, fmt.Errorf("source: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, true, fmt.Errorf("source: %w", err)
		}
		return f, fi.Size(), true, nil
	}
	b := []byte(m.Content.ValueString())
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), true, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// ModifyPlan predicts etag (the MD5 of the configured body) so that a body changed
// on the server, or a changed source file, plans an update; version_id is kept
// unless the object is rewritten.
func (r *objectResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var state *objectModel
	if !req.State.Raw.IsNull() {
		state = &objectModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	rc, _, known, err := plan.body()
	if errors.Is(err, fs.ErrNotExist) {
		// The source file may be made during apply (by another resource); the
		// etag is then known only after the upload, and apply reports a file
		// that is still missing.
		known, err = false, nil
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the object body", err.Error())
		return
	}
	if !known {
		plan.ETag = types.StringUnknown()
		plan.VersionID = types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	// Encryption, when configured, is compared with what the object has; when
	// not configured, it is whatever the server applies (unknown if rewritten).
	sseChanged := func(planned, current types.String) bool {
		return !planned.IsUnknown() && !planned.Equal(current)
	}
	h := md5.New() //nolint:gosec
	_, err = io.Copy(h, rc)
	rc.Close()
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the object body", err.Error())
		return
	}
	plan.ETag = types.StringValue(hex.EncodeToString(h.Sum(nil)))
	rewrite := state == nil || !state.ETag.Equal(plan.ETag) || !state.Metadata.Equal(plan.Metadata) ||
		(!plan.ContentType.IsUnknown() && !state.ContentType.Equal(plan.ContentType)) ||
		sseChanged(plan.SSE, state.SSE) || sseChanged(plan.KMSKeyID, state.KMSKeyID)
	if rewrite {
		plan.VersionID = types.StringUnknown()
	} else {
		plan.VersionID = state.VersionID
		if plan.SSE.IsUnknown() {
			plan.SSE = state.SSE
		}
		if plan.KMSKeyID.IsUnknown() {
			plan.KMSKeyID = state.KMSKeyID
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// ValidateConfig refuses kms_key_id without server_side_encryption = "aws:kms":
// the key would not be sent, and the object would not be what was planned.
func (r *objectResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var key, alg types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("kms_key_id"), &key)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("server_side_encryption"), &alg)...)
	if resp.Diagnostics.HasError() || key.IsNull() || alg.IsUnknown() || alg.ValueString() == "aws:kms" {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("kms_key_id"), "kms_key_id needs aws:kms",
		`kms_key_id names the key of SSE-KMS; set server_side_encryption = "aws:kms" or remove kms_key_id.`)
}

func (r *objectResource) put(ctx context.Context, m *objectModel) error {
	rc, size, _, err := m.body()
	if err != nil {
		return err
	}
	defer rc.Close()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(m.Bucket.ValueString()),
		Key:           aws.String(m.Key.ValueString()),
		Body:          rc,
		ContentLength: aws.Int64(size),
	}
	if !m.ContentType.IsNull() && !m.ContentType.IsUnknown() {
		in.ContentType = aws.String(m.ContentType.ValueString())
	}
	if !m.Metadata.IsNull() {
		md := map[string]string{}
		if d := m.Metadata.ElementsAs(ctx, &md, false); d.HasError() {
			return fmt.Errorf("metadata: %v", d)
		}
		in.Metadata = md
	}
	if v := m.SSE.ValueString(); v != "" && !m.SSE.IsUnknown() {
		in.ServerSideEncryption = s3types.ServerSideEncryption(v)
		if k := m.KMSKeyID.ValueString(); k != "" && !m.KMSKeyID.IsUnknown() {
			in.SSEKMSKeyId = aws.String(k)
		}
	}
	_, err = r.client.S3.PutObject(ctx, in)
	return err
}

// read refreshes m from HeadObject; withBody also copies a small body into
// content/content_base64 (import). found=false when the object is gone.
//
// etag: when the server's ETag is serverETag, the ETag recorded when the object
// was written (or imported), m.ETag (the body's MD5) is kept; otherwise it
// becomes the server's ETag, so a rewrite outside Terraform shows as a change.
// read returns the server's ETag for the caller to record.
func (r *objectResource) read(ctx context.Context, m *objectModel, withBody bool, serverETag string) (found bool, etag string, err error) {
	prior := m.ETag
	found, etag, bodySum, err := r.head(ctx, m, withBody)
	switch {
	case !found || err != nil:
	case bodySum != "":
		m.ETag = types.StringValue(bodySum)
	case serverETag != "" && etag == serverETag && !prior.IsNull() && !prior.IsUnknown():
		m.ETag = prior // unchanged since Terraform wrote it
	default:
		m.ETag = types.StringValue(etag)
	}
	return found, etag, err
}

// head refreshes m from HeadObject (all but etag) and returns the server's ETag
// and, when withBody read the whole body, its MD5.
func (r *objectResource) head(ctx context.Context, m *objectModel, withBody bool) (found bool, etag, bodySum string, err error) {
	bucket, key := m.Bucket.ValueString(), m.Key.ValueString()
	head, err := r.client.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err, "NoSuchKey") {
		return false, "", "", nil
	}
	if err != nil {
		return false, "", "", err
	}
	m.ID = types.StringValue(bucket + "/" + key)
	etag = strings.Trim(aws.ToString(head.ETag), `"`)
	m.SSE, m.KMSKeyID = types.StringNull(), types.StringNull()
	if v := string(head.ServerSideEncryption); v != "" {
		m.SSE = types.StringValue(v)
	}
	if v := aws.ToString(head.SSEKMSKeyId); v != "" {
		m.KMSKeyID = types.StringValue(v)
	}
	m.VersionID = types.StringValue(aws.ToString(head.VersionId))
	m.ContentType = types.StringValue(aws.ToString(head.ContentType))
	if len(head.Metadata) == 0 && m.Metadata.IsNull() {
		// Keep null: no metadata configured, none stored.
	} else {
		v, d := types.MapValueFrom(ctx, types.StringType, head.Metadata)
		if d.HasError() {
			return false, "", "", fmt.Errorf("metadata: %v", d)
		}
		m.Metadata = v
	}
	if withBody && aws.ToInt64(head.ContentLength) <= importContentMax {
		out, err := r.client.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return false, "", "", err
		}
		b, err := io.ReadAll(io.LimitReader(out.Body, importContentMax+1))
		out.Body.Close()
		if err != nil {
			return false, "", "", err
		}
		if int64(len(b)) == aws.ToInt64(head.ContentLength) {
			sum := md5.Sum(b) //nolint:gosec // S3 ETags are MD5
			bodySum = hex.EncodeToString(sum[:])
		}
		if utf8.Valid(b) {
			m.Content = types.StringValue(string(b))
		} else {
			m.ContentBase64 = types.StringValue(base64.StdEncoding.EncodeToString(b))
		}
	}
	return true, etag, bodySum, nil
}

func (r *objectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.write(ctx, &plan, resp.Private, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (r *objectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.write(ctx, &plan, resp.Private, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// write uploads the planned object and reads back what the server stored into
// plan. etag stays the body's MD5; the server's ETag, when it differs, goes to
// private state for Read to compare with.
func (r *objectResource) write(ctx context.Context, plan *objectModel, private privateData, diags *diag.Diagnostics) {
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	if err := r.put(ctx, plan); err != nil {
		s3Error(diags, "PutObject", bucket, key, err)
		return
	}
	sum, err := plan.bodyMD5()
	if err != nil {
		diags.AddError("Cannot read the object body", err.Error())
		return
	}
	plan.ETag = types.StringValue(sum)
	found, etag, err := r.read(ctx, plan, false, "")
	if err == nil && !found {
		err = fmt.Errorf("the object is not visible after it was written")
	}
	if err != nil {
		s3Error(diags, "reading back the object", bucket, key, err)
		return
	}
	recorded := ""
	if etag != sum {
		recorded = etag
	}
	plan.ETag = types.StringValue(sum)
	setPrivateString(ctx, private, privateServerETag, recorded, diags)
}

// bodyMD5 is the hex MD5 of the configured body.
func (m *objectModel) bodyMD5() (string, error) {
	rc, _, _, err := m.body()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := md5.New() //nolint:gosec
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (r *objectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state objectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	imported := state.Content.IsNull() && state.ContentBase64.IsNull() && state.Source.IsNull() && state.ETag.IsNull()
	recorded := privateString(ctx, req.Private, privateServerETag)
	found, etag, err := r.read(ctx, &state, imported, recorded)
	if err != nil {
		s3Error(&resp.Diagnostics, "HeadObject", state.Bucket.ValueString(), state.Key.ValueString(), err)
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	if imported && state.ETag.ValueString() != etag {
		// The body was read and its MD5 is the etag: remember the server's.
		setPrivateString(ctx, resp.Private, privateServerETag, etag, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete removes every version and delete marker of the key (in a bucket that was
// never versioned that is just the object).
func (r *objectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state objectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket, key := state.Bucket.ValueString(), state.Key.ValueString()
	if err := deleteKeyVersions(ctx, r.client, bucket, key); err != nil {
		s3Error(&resp.Diagnostics, "deleting object", bucket, key, err)
	}
}

// deleteKeyVersions deletes every version and delete marker of exactly key.
func deleteKeyVersions(ctx context.Context, c *Client, bucket, key string) error {
	var ids []s3types.ObjectIdentifier
	pages := s3.NewListObjectVersionsPaginator(c.S3, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		out, err := c.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: ids[:n], Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("version %s: %s: %s", aws.ToString(e.VersionId), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		ids = ids[n:]
	}
	return nil
}

func (r *objectResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	bucket, key, ok := strings.Cut(req.ID, "/")
	if !ok || key == "" || bucketNameProblem(bucket) != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID of an object is BUCKET/KEY, e.g. photos/2024/cat.jpg; got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("bucket"), bucket)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("key"), key)...)
}
