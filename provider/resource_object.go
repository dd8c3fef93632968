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
	_ resource.ResourceWithConfigure   = (*objectResource)(nil)
	_ resource.ResourceWithImportState = (*objectResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*objectResource)(nil)
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
}

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
				MarkdownDescription: "ETag of the object: the hex MD5 of its body.",
				Computed:            true,
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
	h := md5.New() //nolint:gosec
	_, err = io.Copy(h, rc)
	rc.Close()
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the object body", err.Error())
		return
	}
	plan.ETag = types.StringValue(hex.EncodeToString(h.Sum(nil)))
	rewrite := state == nil || !state.ETag.Equal(plan.ETag) || !state.Metadata.Equal(plan.Metadata) ||
		(!plan.ContentType.IsUnknown() && !state.ContentType.Equal(plan.ContentType))
	if rewrite {
		plan.VersionID = types.StringUnknown()
	} else {
		plan.VersionID = state.VersionID
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
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
	_, err = r.client.S3.PutObject(ctx, in)
	return err
}

// read refreshes m from HeadObject; withBody also copies a small body into
// content/content_base64 (import). found=false when the object is gone.
func (r *objectResource) read(ctx context.Context, m *objectModel, withBody bool) (found bool, err error) {
	bucket, key := m.Bucket.ValueString(), m.Key.ValueString()
	head, err := r.client.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if isNotFound(err, "NoSuchKey") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	m.ID = types.StringValue(bucket + "/" + key)
	m.ETag = types.StringValue(strings.Trim(aws.ToString(head.ETag), `"`))
	m.VersionID = types.StringValue(aws.ToString(head.VersionId))
	m.ContentType = types.StringValue(aws.ToString(head.ContentType))
	if len(head.Metadata) == 0 && m.Metadata.IsNull() {
		// Keep null: no metadata configured, none stored.
	} else {
		v, d := types.MapValueFrom(ctx, types.StringType, head.Metadata)
		if d.HasError() {
			return false, fmt.Errorf("metadata: %v", d)
		}
		m.Metadata = v
	}
	if withBody && aws.ToInt64(head.ContentLength) <= importContentMax {
		out, err := r.client.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return false, err
		}
		b, err := io.ReadAll(io.LimitReader(out.Body, importContentMax+1))
		out.Body.Close()
		if err != nil {
			return false, err
		}
		if utf8.Valid(b) {
			m.Content = types.StringValue(string(b))
		} else {
			m.ContentBase64 = types.StringValue(base64.StdEncoding.EncodeToString(b))
		}
	}
	return true, nil
}

func (r *objectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.write(ctx, &plan, &resp.Diagnostics)
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
	r.write(ctx, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// write uploads the planned object and reads back what the server stored into plan.
func (r *objectResource) write(ctx context.Context, plan *objectModel, diags *diag.Diagnostics) {
	bucket, key := plan.Bucket.ValueString(), plan.Key.ValueString()
	if err := r.put(ctx, plan); err != nil {
		s3Error(diags, "PutObject", bucket, key, err)
		return
	}
	found, err := r.read(ctx, plan, false)
	if err == nil && !found {
		err = fmt.Errorf("the object is not visible after it was written")
	}
	if err != nil {
		s3Error(diags, "reading back the object", bucket, key, err)
	}
}

func (r *objectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state objectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	imported := state.Content.IsNull() && state.ContentBase64.IsNull() && state.Source.IsNull() && state.ETag.IsNull()
	found, err := r.read(ctx, &state, imported)
	if err != nil {
		s3Error(&resp.Diagnostics, "HeadObject", state.Bucket.ValueString(), state.Key.ValueString(), err)
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
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
