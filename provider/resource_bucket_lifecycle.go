package provider

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type bucketLifecycleResource struct{ resourceBase }

var (
	_ resource.ResourceWithConfigure      = (*bucketLifecycleResource)(nil)
	_ resource.ResourceWithImportState    = (*bucketLifecycleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*bucketLifecycleResource)(nil)
)

func newBucketLifecycleResource() resource.Resource { return &bucketLifecycleResource{} }

// The model mirrors the S3 LifecycleConfiguration. Optional nested objects are
// pointers (nil = null) and lists are slices (nil = null), so what the server
// returns maps back to exactly what a configuration can say (see fromS3).
type bucketLifecycleModel struct {
	ID     types.String    `tfsdk:"id"`
	Bucket types.String    `tfsdk:"bucket"`
	Rules  []lifecycleRule `tfsdk:"rule"`
}

type lifecycleRule struct {
	ID                             types.String                    `tfsdk:"id"`
	Status                         types.String                    `tfsdk:"status"`
	Filter                         *lifecycleFilter                `tfsdk:"filter"`
	Expiration                     *lifecycleExpiration            `tfsdk:"expiration"`
	NoncurrentVersionExpiration    *lifecycleNoncurrentExpiration  `tfsdk:"noncurrent_version_expiration"`
	AbortIncompleteMultipartUpload *lifecycleAbortUpload           `tfsdk:"abort_incomplete_multipart_upload"`
	Transitions                    []lifecycleTransition           `tfsdk:"transition"`
	NoncurrentVersionTransitions   []lifecycleNoncurrentTransition `tfsdk:"noncurrent_version_transition"`
}

type lifecycleFilter struct {
	Prefix                types.String `tfsdk:"prefix"`
	Tags                  types.Map    `tfsdk:"tags"`
	ObjectSizeGreaterThan types.Int64  `tfsdk:"object_size_greater_than"`
	ObjectSizeLessThan    types.Int64  `tfsdk:"object_size_less_than"`
}

type lifecycleExpiration struct {
	Days                      types.Int64  `tfsdk:"days"`
	Date                      types.String `tfsdk:"date"`
	ExpiredObjectDeleteMarker types.Bool   `tfsdk:"expired_object_delete_marker"`
}

type lifecycleNoncurrentExpiration struct {
	NoncurrentDays          types.Int64 `tfsdk:"noncurrent_days"`
	NewerNoncurrentVersions types.Int64 `tfsdk:"newer_noncurrent_versions"`
}

type lifecycleAbortUpload struct {
	DaysAfterInitiation types.Int64 `tfsdk:"days_after_initiation"`
}

type lifecycleTransition struct {
	Days         types.Int64  `tfsdk:"days"`
	Date         types.String `tfsdk:"date"`
	StorageClass types.String `tfsdk:"storage_class"`
}

type lifecycleNoncurrentTransition struct {
	NoncurrentDays          types.Int64  `tfsdk:"noncurrent_days"`
	NewerNoncurrentVersions types.Int64  `tfsdk:"newer_noncurrent_versions"`
	StorageClass            types.String `tfsdk:"storage_class"`
}

func (r *bucketLifecycleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_bucket_lifecycle"
}

func (r *bucketLifecycleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	days := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Optional: true, Validators: []validator.Int64{int64validator.AtLeast(1)}}
	}
	date := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{
			MarkdownDescription: desc + " An RFC 3339 timestamp at midnight UTC, such as `2030-01-31T00:00:00Z`.",
			Optional:            true,
			Validators:          []validator.String{stringCheck{desc: "lifecycle date", check: lifecycleDateProblem}},
		}
	}
	storageClass := schema.StringAttribute{
		MarkdownDescription: "Name of the remote tier the data moves to (configured on the server; upper-case letters, digits, `-` and `_`).",
		Required:            true,
		Validators:          []validator.String{validTierName()},
	}
	newer := schema.Int64Attribute{
		MarkdownDescription: "How many of the newest noncurrent versions are kept regardless of age.",
		Optional:            true,
		Validators:          []validator.Int64{int64validator.AtLeast(1)},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A bucket's lifecycle configuration: rules that expire objects, noncurrent versions, " +
			"delete markers and incomplete multipart uploads, and move data to remote tiers. The resource owns the " +
			"bucket's whole configuration; destroying it removes every rule. Rules are kept in the order given.",
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
			"rule": schema.ListNestedAttribute{
				MarkdownDescription: "The rules (1 to 1000).",
				Required:            true,
				Validators:          []validator.List{listvalidator.SizeBetween(1, 1000)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id": schema.StringAttribute{
						MarkdownDescription: "Unique name of the rule (at most 255 characters).",
						Required:            true,
						Validators:          []validator.String{stringvalidator.LengthBetween(1, 255)},
					},
					"status": schema.StringAttribute{
						MarkdownDescription: "`Enabled` (default) or `Disabled`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString("Enabled"),
						Validators:          []validator.String{stringvalidator.OneOf("Enabled", "Disabled")},
					},
					"filter": schema.SingleNestedAttribute{
						MarkdownDescription: "Which objects the rule applies to; all of the given conditions must hold. " +
							"Absent: every object in the bucket.",
						Optional: true,
						Attributes: map[string]schema.Attribute{
							"prefix": schema.StringAttribute{
								MarkdownDescription: "Key prefix.",
								Optional:            true,
								Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
							},
							"tags": schema.MapAttribute{
								MarkdownDescription: "Object tags the object must carry (key → value).",
								Optional:            true,
								ElementType:         types.StringType,
								Validators:          []validator.Map{mapvalidator.SizeAtLeast(1)},
							},
							"object_size_greater_than": schema.Int64Attribute{
								MarkdownDescription: "Only objects larger than this many bytes.",
								Optional:            true,
								Validators:          []validator.Int64{int64validator.AtLeast(0)},
							},
							"object_size_less_than": schema.Int64Attribute{
								MarkdownDescription: "Only objects smaller than this many bytes.",
								Optional:            true,
								Validators:          []validator.Int64{int64validator.AtLeast(1)},
							},
						},
					},
					"expiration": schema.SingleNestedAttribute{
						MarkdownDescription: "Expire current versions (with versioning: add a delete marker) after `days` or on `date`, " +
							"or remove delete markers that have no versions left behind them (`expired_object_delete_marker`). Set exactly one.",
						Optional: true,
						Attributes: map[string]schema.Attribute{
							"days": days("Days after an object's creation."),
							"date": date("The date from which objects expire."),
							"expired_object_delete_marker": schema.BoolAttribute{
								MarkdownDescription: "Remove expired object delete markers.",
								Optional:            true,
							},
						},
					},
					"noncurrent_version_expiration": schema.SingleNestedAttribute{
						MarkdownDescription: "Delete noncurrent versions `noncurrent_days` after they became noncurrent, keeping the newest `newer_noncurrent_versions`.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"noncurrent_days": schema.Int64Attribute{
								MarkdownDescription: "Days after a version became noncurrent.",
								Required:            true,
								Validators:          []validator.Int64{int64validator.AtLeast(1)},
							},
							"newer_noncurrent_versions": newer,
						},
					},
					"abort_incomplete_multipart_upload": schema.SingleNestedAttribute{
						MarkdownDescription: "Abort multipart uploads not completed in time.",
						Optional:            true,
						Attributes: map[string]schema.Attribute{
							"days_after_initiation": schema.Int64Attribute{
								MarkdownDescription: "Days after the upload began.",
								Required:            true,
								Validators:          []validator.Int64{int64validator.AtLeast(1)},
							},
						},
					},
					"transition": schema.ListNestedAttribute{
						MarkdownDescription: "Move current versions to a remote tier after `days` or on `date`.",
						Optional:            true,
						Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"days":          schema.Int64Attribute{MarkdownDescription: "Days after an object's creation (0: at once).", Optional: true, Validators: []validator.Int64{int64validator.AtLeast(0)}},
							"date":          date("The date from which objects move."),
							"storage_class": storageClass,
						}},
					},
					"noncurrent_version_transition": schema.ListNestedAttribute{
						MarkdownDescription: "Move noncurrent versions to a remote tier.",
						Optional:            true,
						Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"noncurrent_days":           schema.Int64Attribute{MarkdownDescription: "Days after a version became noncurrent (0: at once).", Required: true, Validators: []validator.Int64{int64validator.AtLeast(0)}},
							"newer_noncurrent_versions": newer,
							"storage_class":             storageClass,
						}},
					},
				}},
			},
		},
	}
}

// ValidateConfig catches, at plan time, rules the server would refuse at apply
// or that could not read back as written (an empty filter reads back as none).
func (r *bucketLifecycleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var rules []lifecycleRule
	if d := req.Config.GetAttribute(ctx, path.Root("rule"), &rules); d.HasError() {
		return // parts not known yet (values from other resources): checked at apply
	}
	seen := map[string]bool{}
	set := func(vs ...attrValue) int {
		n := 0
		for _, v := range vs {
			if !v.IsNull() {
				n++
			}
		}
		return n
	}
	for i, rule := range rules {
		at := path.Root("rule").AtListIndex(i)
		if id := rule.ID; !id.IsUnknown() && !id.IsNull() {
			if seen[id.ValueString()] {
				resp.Diagnostics.AddAttributeError(at.AtName("id"), "Duplicate rule id", fmt.Sprintf("Rule id %q is used by more than one rule; ids must be unique.", id.ValueString()))
			}
			seen[id.ValueString()] = true
		}
		if f := rule.Filter; f != nil && set(f.Prefix, f.Tags, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan) == 0 {
			resp.Diagnostics.AddAttributeError(at.AtName("filter"), "Empty filter",
				"A filter needs at least one of prefix, tags, object_size_greater_than or object_size_less_than; remove it to select every object.")
		}
		if e := rule.Expiration; e != nil && set(e.Days, e.Date, e.ExpiredObjectDeleteMarker) != 1 {
			resp.Diagnostics.AddAttributeError(at.AtName("expiration"), "Invalid expiration",
				"An expiration sets exactly one of days, date or expired_object_delete_marker.")
		}
		for j, t := range rule.Transitions {
			if set(t.Days, t.Date) != 1 {
				resp.Diagnostics.AddAttributeError(at.AtName("transition").AtListIndex(j), "Invalid transition",
					"A transition sets exactly one of days or date.")
			}
		}
		if rule.Expiration == nil && rule.NoncurrentVersionExpiration == nil && rule.AbortIncompleteMultipartUpload == nil &&
			len(rule.Transitions) == 0 && len(rule.NoncurrentVersionTransitions) == 0 {
			resp.Diagnostics.AddAttributeError(at, "Rule without action",
				"A rule needs at least one of expiration, noncurrent_version_expiration, abort_incomplete_multipart_upload, transition or noncurrent_version_transition.")
		}
	}
}

// attrValue is what ValidateConfig asks of an attribute value.
type attrValue interface{ IsNull() bool }

// lifecycleDateProblem explains why s is not a lifecycle date (S3 takes only
// midnight UTC), or returns "".
func lifecycleDateProblem(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "is not an RFC 3339 timestamp such as 2030-01-31T00:00:00Z"
	}
	if t.UTC().Truncate(24*time.Hour) != t.UTC() {
		return "is not midnight UTC (S3 lifecycle dates are whole days, such as 2030-01-31T00:00:00Z)"
	}
	return ""
}

func int32p(v types.Int64) *int32 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int32(v.ValueInt64())
	return &n
}

func int64p(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := v.ValueInt64()
	return &n
}

func datep(v types.String) *time.Time {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v.ValueString())
	if err != nil {
		return nil
	}
	return &t
}

func int64From32(p *int32) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(int64(*p))
}

func int64From64(p *int64) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*p)
}

// dateFrom is the server's date as RFC 3339, or the prior value when it names the
// same instant (2030-01-31T00:00:00Z and 2030-01-31T00:00:00+00:00 are one date).
func dateFrom(t *time.Time, prior types.String) types.String {
	if t == nil {
		return types.StringNull()
	}
	if p := datep(prior); p != nil && p.Equal(*t) {
		return prior
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// toS3 builds the configuration the model describes.
func (m *bucketLifecycleModel) toS3(ctx context.Context) (*s3types.BucketLifecycleConfiguration, error) {
	cfg := &s3types.BucketLifecycleConfiguration{}
	for _, r := range m.Rules {
		rule := s3types.LifecycleRule{ID: aws.String(r.ID.ValueString()), Status: s3types.ExpirationStatus(r.Status.ValueString())}
		if rule.Status == "" {
			rule.Status = s3types.ExpirationStatusEnabled
		}
		filter := &s3types.LifecycleRuleFilter{}
		if f := r.Filter; f != nil {
			var tags map[string]string
			if !f.Tags.IsNull() && !f.Tags.IsUnknown() {
				if d := f.Tags.ElementsAs(ctx, &tags, false); d.HasError() {
					return nil, fmt.Errorf("rule %s: filter tags: %v", r.ID.ValueString(), d)
				}
			}
			var s3tags []s3types.Tag
			for _, k := range sortedKeys(tags) {
				s3tags = append(s3tags, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
			}
			prefix := f.Prefix.ValueStringPointer()
			gt, lt := int64p(f.ObjectSizeGreaterThan), int64p(f.ObjectSizeLessThan)
			n := len(s3tags)
			for _, set := range []bool{prefix != nil, gt != nil, lt != nil} {
				if set {
					n++
				}
			}
			if n > 1 {
				filter.And = &s3types.LifecycleRuleAndOperator{Prefix: prefix, Tags: s3tags, ObjectSizeGreaterThan: gt, ObjectSizeLessThan: lt}
			} else {
				filter.Prefix, filter.ObjectSizeGreaterThan, filter.ObjectSizeLessThan = prefix, gt, lt
				if len(s3tags) == 1 {
					filter.Tag = &s3tags[0]
				}
			}
		}
		rule.Filter = filter
		if e := r.Expiration; e != nil {
			rule.Expiration = &s3types.LifecycleExpiration{Days: int32p(e.Days), Date: datep(e.Date), ExpiredObjectDeleteMarker: e.ExpiredObjectDeleteMarker.ValueBoolPointer()}
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			rule.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: int32p(e.NoncurrentDays), NewerNoncurrentVersions: int32p(e.NewerNoncurrentVersions)}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: int32p(a.DaysAfterInitiation)}
		}
		for _, t := range r.Transitions {
			rule.Transitions = append(rule.Transitions, s3types.Transition{Days: int32p(t.Days), Date: datep(t.Date), StorageClass: s3types.TransitionStorageClass(t.StorageClass.ValueString())})
		}
		for _, t := range r.NoncurrentVersionTransitions {
			rule.NoncurrentVersionTransitions = append(rule.NoncurrentVersionTransitions, s3types.NoncurrentVersionTransition{
				NoncurrentDays: int32p(t.NoncurrentDays), NewerNoncurrentVersions: int32p(t.NewerNoncurrentVersions),
				StorageClass: s3types.TransitionStorageClass(t.StorageClass.ValueString()),
			})
		}
		cfg.Rules = append(cfg.Rules, rule)
	}
	return cfg, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromS3 sets m.Rules from what the server returned, normalized so that a
// configuration read back equals the one written: the legacy top-level Prefix,
// a one-condition Filter and an And all become filter, an empty filter (or an
// empty prefix) is no filter, and dates keep the spelling prior used when they
// are the same day. prior is the state or plan the rules came from (may be nil).
func (m *bucketLifecycleModel) fromS3(ctx context.Context, rules []s3types.LifecycleRule, prior []lifecycleRule) error {
	priorByID := map[string]lifecycleRule{}
	for _, p := range prior {
		priorByID[p.ID.ValueString()] = p
	}
	m.Rules = nil
	for _, r := range rules {
		id := aws.ToString(r.ID)
		p := priorByID[id]
		out := lifecycleRule{ID: types.StringValue(id), Status: types.StringValue(string(r.Status))}

		var prefix *string
		tags := map[string]string{}
		var gt, lt *int64
		if r.Prefix != nil { //nolint:staticcheck // the legacy form, which other clients may have written
			prefix = r.Prefix //nolint:staticcheck
		}
		if f := r.Filter; f != nil {
			if f.Prefix != nil {
				prefix = f.Prefix
			}
			if f.Tag != nil {
				tags[aws.ToString(f.Tag.Key)] = aws.ToString(f.Tag.Value)
			}
			gt, lt = f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
			if a := f.And; a != nil {
				if a.Prefix != nil {
					prefix = a.Prefix
				}
				for _, t := range a.Tags {
					tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				if a.ObjectSizeGreaterThan != nil {
					gt = a.ObjectSizeGreaterThan
				}
				if a.ObjectSizeLessThan != nil {
					lt = a.ObjectSizeLessThan
				}
			}
		}
		if prefix != nil && *prefix == "" {
			prefix = nil
		}
		if prefix != nil || len(tags) > 0 || gt != nil || lt != nil {
			f := &lifecycleFilter{Prefix: types.StringPointerValue(prefix), Tags: types.MapNull(types.StringType),
				ObjectSizeGreaterThan: int64From64(gt), ObjectSizeLessThan: int64From64(lt)}
			if len(tags) > 0 {
				tv, d := types.MapValueFrom(ctx, types.StringType, tags)
				if d.HasError() {
					return fmt.Errorf("rule %s: filter tags: %v", id, d)
				}
				f.Tags = tv
			}
			out.Filter = f
		}
		if e := r.Expiration; e != nil && (e.Days != nil || e.Date != nil || e.ExpiredObjectDeleteMarker != nil) {
			var priorDate types.String
			if p.Expiration != nil {
				priorDate = p.Expiration.Date
			}
			out.Expiration = &lifecycleExpiration{Days: int64From32(e.Days), Date: dateFrom(e.Date, priorDate), ExpiredObjectDeleteMarker: types.BoolPointerValue(e.ExpiredObjectDeleteMarker)}
		}
		if e := r.NoncurrentVersionExpiration; e != nil {
			out.NoncurrentVersionExpiration = &lifecycleNoncurrentExpiration{NoncurrentDays: int64From32(e.NoncurrentDays), NewerNoncurrentVersions: int64From32(e.NewerNoncurrentVersions)}
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			out.AbortIncompleteMultipartUpload = &lifecycleAbortUpload{DaysAfterInitiation: int64From32(a.DaysAfterInitiation)}
		}
		for i, t := range r.Transitions {
			var priorDate types.String
			if i < len(p.Transitions) {
				priorDate = p.Transitions[i].Date
			}
			out.Transitions = append(out.Transitions, lifecycleTransition{Days: int64From32(t.Days), Date: dateFrom(t.Date, priorDate), StorageClass: types.StringValue(string(t.StorageClass))})
		}
		for _, t := range r.NoncurrentVersionTransitions {
			out.NoncurrentVersionTransitions = append(out.NoncurrentVersionTransitions, lifecycleNoncurrentTransition{
				NoncurrentDays: int64From32(t.NoncurrentDays), NewerNoncurrentVersions: int64From32(t.NewerNoncurrentVersions),
				StorageClass: types.StringValue(string(t.StorageClass)),
			})
		}
		m.Rules = append(m.Rules, out)
	}
	return nil
}

// read refreshes m from the server; found=false when the bucket or its
// lifecycle configuration does not exist.
func (r *bucketLifecycleResource) read(ctx context.Context, m *bucketLifecycleModel, diags *fwDiags) (found bool) {
	bucket := m.Bucket.ValueString()
	out, err := r.client.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if isNotFound(err, "NoSuchLifecycleConfiguration") {
		return false
	}
	if err != nil {
		s3Error(diags, "GetBucketLifecycleConfiguration", bucket, "", err)
		return false
	}
	if len(out.Rules) == 0 {
		return false
	}
	if err := m.fromS3(ctx, out.Rules, m.Rules); err != nil {
		diags.AddError("Unexpected lifecycle configuration", err.Error())
		return false
	}
	return true
}

func (r *bucketLifecycleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics)
}

func (r *bucketLifecycleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan.Get, &resp.State, &resp.Diagnostics)
}

func (r *bucketLifecycleResource) apply(ctx context.Context, get planGetter, state stateSetter, diags *fwDiags) {
	var plan bucketLifecycleModel
	diags.Append(get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	bucket := plan.Bucket.ValueString()
	cfg, err := plan.toS3(ctx)
	if err != nil {
		diags.AddError("Invalid lifecycle configuration", err.Error())
		return
	}
	if _, err := r.client.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket), LifecycleConfiguration: cfg,
	}); err != nil {
		s3Error(diags, "PutBucketLifecycleConfiguration", bucket, "", err)
		return
	}
	plan.ID = plan.Bucket
	if !r.read(ctx, &plan, diags) {
		if !diags.HasError() {
			diags.AddError("Lifecycle configuration not stored", fmt.Sprintf("Bucket %s has no lifecycle configuration right after PutBucketLifecycleConfiguration succeeded.", bucket))
		}
		return
	}
	diags.Append(state.Set(ctx, &plan)...)
}

func (r *bucketLifecycleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state bucketLifecycleModel
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

func (r *bucketLifecycleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state bucketLifecycleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	bucket := state.ID.ValueString()
	_, err := r.client.S3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
	if err != nil && !isNotFound(err, "NoSuchLifecycleConfiguration") {
		s3Error(&resp.Diagnostics, "DeleteBucketLifecycle", bucket, "", err)
	}
}

func (r *bucketLifecycleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if p := bucketNameProblem(req.ID); p != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID is the bucket name; %q %s.", req.ID, p))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
