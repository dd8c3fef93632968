package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cairn-io/cairn/server/admin"
)

// defaultDecommissionTimeout bounds the wait for a destroyed pool's data to
// move, unless timeouts.delete says otherwise.
const defaultDecommissionTimeout = 60 * time.Minute

type poolResource struct {
	resourceBase
	// pollEvery is how often destroy polls the draining pool (tests shorten it).
	pollEvery time.Duration
}

var (
	_ resource.ResourceWithConfigure   = (*poolResource)(nil)
	_ resource.ResourceWithImportState = (*poolResource)(nil)
)

func newPoolResource() resource.Resource { return &poolResource{pollEvery: 2 * time.Second} }

type poolModel struct {
	ID         types.String   `tfsdk:"id"`
	Index      types.Int64    `tfsdk:"index"`
	Drives     types.List     `tfsdk:"drives"`
	Parity     types.Int64    `tfsdk:"parity"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
	DrivePaths types.List     `tfsdk:"drive_paths"`
	Sets       types.Int64    `tfsdk:"sets"`
	DriveCount types.Int64    `tfsdk:"drive_count"`
	TotalBytes types.Int64    `tfsdk:"total_bytes"`
	FreeBytes  types.Int64    `tfsdk:"free_bytes"`
	Draining   types.Bool     `tfsdk:"draining"`
}

func (r *poolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pool"
}

func (r *poolResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A server pool added to a running Cairn server: a list of drives cut into erasure " +
			"sets, which takes new objects by free space. Destroying it **decommissions** the pool: the server " +
			"moves every object version to the other pools, then removes it; destroy waits for that (up to " +
			"`timeouts.delete`, default 60 minutes) and logs the progress (`TF_LOG=INFO`). Adding and draining pools works on " +
			"single-node servers; the command line's pool (index 0) is not managed here.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The pool index as a string, which is also the import ID.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"index": schema.Int64Attribute{
				MarkdownDescription: "The pool's index, chosen by the server (the next unused one).",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"drives": schema.ListAttribute{
				MarkdownDescription: "Drives of the pool, as the server's command line takes them: local paths on the " +
					"server, or patterns such as `/mnt/new/d{1...6}`. The server formats them. Changing them replaces " +
					"the pool (a new pool is added after the old one is drained).",
				Required:      true,
				ElementType:   types.StringType,
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()},
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)),
					listvalidator.UniqueValues(),
				},
			},
			"parity": schema.Int64Attribute{
				MarkdownDescription: "Parity shards per object in the pool's sets (default: by set size, as at start: " +
					"2–3 drives → 1, 4–7 → 2, 8–11 → 3, 12–16 → 4; computed when not set). Changing it replaces the pool.",
				Optional: true,
				Computed: true,
				PlanModifiers: []planmodifier.Int64{
					int64planmodifier.RequiresReplaceIfConfigured(),
					int64planmodifier.UseStateForUnknown(),
				},
				Validators: []validator.Int64{int64validator.Between(1, 8)},
			},
			"timeouts": poolTimeouts(),
			"drive_paths": schema.ListAttribute{
				MarkdownDescription: "The drives as the server opened them (patterns expanded, absolute paths).",
				Computed:            true,
				ElementType:         types.StringType,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"sets": schema.Int64Attribute{
				MarkdownDescription: "Number of erasure sets.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"drive_count": schema.Int64Attribute{
				MarkdownDescription: "Number of drives.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"total_bytes": schema.Int64Attribute{
				MarkdownDescription: "Raw capacity of the pool's online drives.",
				Computed:            true,
			},
			"free_bytes": schema.Int64Attribute{
				MarkdownDescription: "Raw free space of the pool's online drives.",
				Computed:            true,
			},
			"draining": schema.BoolAttribute{
				MarkdownDescription: "Whether the pool is being decommissioned (its objects are moving to other pools).",
				Computed:            true,
			},
		},
	}
}

// poolTimeouts is the timeouts attribute: delete bounds the wait for the drain.
func poolTimeouts() schema.Attribute {
	desc := "How long destroy waits for the pool to drain, as a Go duration (`90m`, `4h`); default `60m`. " +
		"When it runs out, destroy fails and the pool keeps draining on the server; run destroy again to keep " +
		"waiting. A changed value must be applied before the destroy that should use it."
	a := timeouts.Attributes(context.Background(), timeouts.Opts{Delete: true, DeleteDescription: desc}).(schema.SingleNestedAttribute)
	a.MarkdownDescription = "Timeouts: `delete` bounds the wait for the pool to drain when it is destroyed."
	d := a.Attributes["delete"].(schema.StringAttribute)
	d.MarkdownDescription = desc
	d.Validators = append(d.Validators, stringCheck{desc: "timeout", check: durationProblem}) // > 0
	a.Attributes["delete"] = d
	return a
}

func durationProblem(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "is not a positive duration such as 90m or 4h"
	}
	return ""
}

// read refreshes m from the server's description of pool m.Index; found=false
// when the pool does not exist (never added, or drained and removed).
func (r *poolResource) read(ctx context.Context, m *poolModel) (found bool, err error) {
	idx := int(m.Index.ValueInt64())
	p, err := r.client.Admin.Pool(ctx, idx)
	if admin.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	info, err := r.client.Admin.Info(ctx)
	if err != nil {
		return false, err
	}
	paths := []string{}
	for _, d := range info.Drives {
		if d.Pool == idx {
			paths = append(paths, d.Path)
		}
	}
	m.ID = types.StringValue(strconv.Itoa(idx))
	m.DrivePaths, _ = types.ListValueFrom(ctx, types.StringType, paths)
	m.Sets = types.Int64Value(int64(p.Sets))
	m.DriveCount = types.Int64Value(int64(p.Drives))
	m.Parity = types.Int64Value(int64(p.Parity))
	m.TotalBytes = types.Int64Value(int64(p.TotalBytes))
	m.FreeBytes = types.Int64Value(int64(p.FreeBytes))
	m.Draining = types.BoolValue(p.Draining)
	if m.Drives.IsNull() || m.Drives.IsUnknown() { // import: the drives as opened
		m.Drives = m.DrivePaths
	}
	return true, nil
}

func (r *poolResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan poolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var drives []string
	resp.Diagnostics.Append(plan.Drives.ElementsAs(ctx, &drives, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.Admin.AddPool(ctx, admin.AddPoolRequest{Drives: drives, Parity: int(plan.Parity.ValueInt64())})
	if err != nil {
		adminError(&resp.Diagnostics, "AddPool", fmt.Sprintf("drives %v", drives), err)
		return
	}
	tflog.Info(ctx, "added pool", map[string]any{"index": p.Index, "sets": p.Sets, "drives": p.Drives})
	plan.Index = types.Int64Value(int64(p.Index))
	found, err := r.read(ctx, &plan)
	if err == nil && !found {
		err = errors.New("the pool is not listed right after it was added")
	}
	if err != nil {
		adminError(&resp.Diagnostics, "Pool", fmt.Sprintf("pool %d", p.Index), err)
		// The pool exists: keep it in state so it is not added twice.
		plan.ID = types.StringValue(strconv.Itoa(p.Index))
		plan.DrivePaths = types.ListNull(types.StringType)
		plan.Sets, plan.DriveCount = types.Int64Value(int64(p.Sets)), types.Int64Value(int64(p.Drives))
		plan.Parity = types.Int64Value(int64(p.Parity))
		plan.TotalBytes, plan.FreeBytes = types.Int64Null(), types.Int64Null()
		plan.Draining = types.BoolNull()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *poolResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state poolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Index.IsNull() || state.Index.IsUnknown() { // import
		idx, _ := strconv.Atoi(state.ID.ValueString())
		state.Index = types.Int64Value(int64(idx))
	}
	found, err := r.read(ctx, &state)
	if err != nil {
		adminError(&resp.Diagnostics, "Pool", "pool "+state.ID.ValueString(), err)
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update changes only what lives in Terraform (timeouts):
// everything else replaces the pool.
func (r *poolResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state poolModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.Index = state.Index
	found, err := r.read(ctx, &plan)
	if err == nil && !found {
		err = errors.New("the pool no longer exists")
	}
	if err != nil {
		adminError(&resp.Diagnostics, "Pool", "pool "+state.ID.ValueString(), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete decommissions the pool and waits until the server has removed it.
func (r *poolResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state poolModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	idx := int(state.Index.ValueInt64())
	what := fmt.Sprintf("pool %d", idx)
	timeout, d := state.Timeouts.Delete(ctx, defaultDecommissionTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.client.Admin.DecommissionPool(ctx, idx)
	switch {
	case admin.IsNotFound(err):
		return
	case admin.IsConflict(err):
		// Already draining (an earlier destroy timed out, or someone else
		// started it): wait for it. Any other conflict (the last pool cannot
		// be drained) is the answer.
		p, perr := r.client.Admin.Pool(ctx, idx)
		if perr != nil || !p.Draining {
			adminError(&resp.Diagnostics, "DecommissionPool", what, err)
			return
		}
		tflog.Info(ctx, "pool is already draining; waiting for it", map[string]any{"pool": idx})
	case err != nil:
		adminError(&resp.Diagnostics, "DecommissionPool", what, err)
		return
	default:
		tflog.Info(ctx, "decommissioning pool", map[string]any{"pool": idx, "timeout": timeout.String()})
	}
	deadline := time.Now().Add(timeout)
	wait := r.pollEvery
	if wait <= 0 {
		wait = 2 * time.Second
	}
	for {
		p, err := r.client.Admin.Pool(ctx, idx)
		if admin.IsNotFound(err) {
			tflog.Info(ctx, "pool decommissioned and removed", map[string]any{"pool": idx})
			return
		}
		if err != nil {
			adminError(&resp.Diagnostics, "Pool", what, err)
			return
		}
		fields := map[string]any{"pool": idx, "draining": p.Draining}
		if d := p.Decommission; d != nil {
			fields["objects_moved"], fields["versions_moved"], fields["bytes_moved"], fields["failed"] = d.ObjectsMoved, d.VersionsMoved, d.BytesMoved, d.Failed
			if d.Bucket != "" {
				fields["at"] = d.Bucket + "/" + d.Key
			}
			if !d.Running && d.Error != "" {
				resp.Diagnostics.AddError("Decommission failed", fmt.Sprintf(
					"Draining pool %d stopped: %s (%d versions moved, %d failed). Fix the cause and run destroy again.",
					idx, d.Error, d.VersionsMoved, d.Failed))
				return
			}
		}
		tflog.Info(ctx, "pool draining", fields)
		if time.Now().After(deadline) {
			resp.Diagnostics.AddError("Decommission timed out", fmt.Sprintf(
				"Pool %d is still draining after %s (see the progress in the log). The server keeps moving its "+
					"objects; run destroy again to keep waiting, or raise timeouts.delete (and apply it first).", idx, timeout))
			return
		}
		select {
		case <-ctx.Done():
			resp.Diagnostics.AddError("Decommission interrupted", fmt.Sprintf("Waiting for pool %d to drain: %v. The server keeps draining it.", idx, ctx.Err()))
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

func (r *poolResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	idx, err := strconv.Atoi(req.ID)
	if err != nil || idx < 0 {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("The import ID of a pool is its index, such as 1; got %q.", req.ID))
		return
	}
	if idx == 0 {
		resp.Diagnostics.AddError("Invalid import ID", "Pool 0 is the server's command-line pool; only pools added later can be managed as cairn_pool.")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("index"), int64(idx))...)
}
