package provider

import (
	"context"
	"math"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/server/admin"
)

type clusterDataSource struct{ dataSourceBase }

var _ datasource.DataSourceWithConfigure = (*clusterDataSource)(nil)

func newClusterDataSource() datasource.DataSource { return &clusterDataSource{} }

type clusterDataModel struct {
	ID               types.String       `tfsdk:"id"`
	DeploymentID     string             `tfsdk:"deployment_id"`
	Version          string             `tfsdk:"version"`
	Region           string             `tfsdk:"region"`
	TotalBytes       int64              `tfsdk:"total_bytes"`
	FreeBytes        int64              `tfsdk:"free_bytes"`
	UsableTotalBytes int64              `tfsdk:"usable_total_bytes"`
	UsableFreeBytes  int64              `tfsdk:"usable_free_bytes"`
	DrivesOnline     int64              `tfsdk:"drives_online"`
	DrivesOffline    int64              `tfsdk:"drives_offline"`
	Pools            []clusterPoolModel `tfsdk:"pools"`
	Heal             clusterHealModel   `tfsdk:"heal"`
}

type clusterPoolModel struct {
	Index      int64               `tfsdk:"index"`
	Sets       int64               `tfsdk:"sets"`
	DriveCount int64               `tfsdk:"drive_count"`
	Parity     int64               `tfsdk:"parity"`
	TotalBytes int64               `tfsdk:"total_bytes"`
	FreeBytes  int64               `tfsdk:"free_bytes"`
	State      string              `tfsdk:"state"`
	Drives     []clusterDriveModel `tfsdk:"drives"`
}

type clusterDriveModel struct {
	Path       string `tfsdk:"path"`
	Set        int64  `tfsdk:"set"`
	State      string `tfsdk:"state"`
	TotalBytes int64  `tfsdk:"total_bytes"`
	FreeBytes  int64  `tfsdk:"free_bytes"`
}

type clusterHealModel struct {
	Queued       int64 `tfsdk:"queued"`
	Backlog      int64 `tfsdk:"backlog"`
	Healed       int64 `tfsdk:"healed"`
	Failed       int64 `tfsdk:"failed"`
	ShardsHealed int64 `tfsdk:"shards_healed"`
	Scanned      int64 `tfsdk:"scanned"`
	ScanCycles   int64 `tfsdk:"scan_cycles"`
}

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	num := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The server's topology, capacity and health, from the admin API (`/info`, `/pools`, " +
			"`/heal`): pools with their drives and state, raw and usable capacity, drives online and offline, and " +
			"the healing backlog. Useful for outputs and for `check` blocks and preconditions (e.g. refuse an " +
			"apply while drives are offline). Needs `admin:ServerInfo` and `admin:ListPools`.",
		Attributes: map[string]schema.Attribute{
			"id":                 str("The deployment id."),
			"deployment_id":      str("The deployment id, shared by every drive of the deployment."),
			"version":            str("The server's version."),
			"region":             str("The server's region."),
			"total_bytes":        num("Raw capacity of the online drives."),
			"free_bytes":         num("Raw free space of the online drives."),
			"usable_total_bytes": num("Capacity for data: raw capacity less parity."),
			"usable_free_bytes":  num("Free space for data: raw free space less parity."),
			"drives_online":      num("Drives that answer."),
			"drives_offline":     num("Drives that do not answer."),
			"pools": schema.ListNestedAttribute{
				MarkdownDescription: "The pools, by index.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"index":       num("Pool index (0 is the command line's pool)."),
					"sets":        num("Erasure sets in the pool."),
					"drive_count": num("Drives in the pool."),
					"parity":      num("Parity shards per object in the pool's sets."),
					"total_bytes": num("Raw capacity of the pool's online drives."),
					"free_bytes":  num("Raw free space of the pool's online drives."),
					"state":       str("`active`, or `draining` while it is decommissioned."),
					"drives": schema.ListNestedAttribute{
						MarkdownDescription: "The pool's drives.",
						Computed:            true,
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"path":        str("Drive path or endpoint."),
							"set":         num("Erasure set of the drive in its pool."),
							"state":       str("`ok` or `offline`."),
							"total_bytes": num("Capacity (0 when offline)."),
							"free_bytes":  num("Free space (0 when offline)."),
						}},
					},
				}},
			},
			"heal": schema.SingleNestedAttribute{
				MarkdownDescription: "Background healing.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"queued":        num("Objects queued for healing now."),
					"backlog":       num("Objects known to need healing, queued or not."),
					"healed":        num("Objects healed since the server started."),
					"failed":        num("Heals that failed since the server started."),
					"shards_healed": num("Shards rewritten since the server started."),
					"scanned":       num("Objects the scanner has checked since the server started."),
					"scan_cycles":   num("Complete scanner passes since the server started."),
				},
			},
		},
	}
}

// i64 converts a byte count for Terraform's int64 numbers (saturating).
func i64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func (d *clusterDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	info, err := d.client.Admin.Info(ctx)
	if err != nil {
		adminError(&resp.Diagnostics, "Info", "the server", err)
		return
	}
	pools, err := d.client.Admin.Pools(ctx)
	if err != nil {
		adminError(&resp.Diagnostics, "Pools", "the server", err)
		return
	}
	heal, err := d.client.Admin.Heal(ctx)
	if err != nil {
		adminError(&resp.Diagnostics, "Heal", "the server", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, clusterModel(info, pools, heal))...)
}

// clusterModel builds the data source's value from the three admin answers.
func clusterModel(info *admin.ServerInfo, pools []admin.Pool, heal *admin.HealStatus) *clusterDataModel {
	m := &clusterDataModel{
		ID: types.StringValue(info.DeploymentID), DeploymentID: info.DeploymentID, Version: info.Version, Region: info.Region,
		TotalBytes: i64(info.TotalBytes), FreeBytes: i64(info.FreeBytes),
		UsableTotalBytes: i64(info.UsableTotalBytes), UsableFreeBytes: i64(info.UsableFreeBytes),
		Pools: []clusterPoolModel{},
		Heal: clusterHealModel{
			Queued: heal.Queued, Backlog: heal.Backlog, Healed: heal.Healed, Failed: heal.Failed,
			ShardsHealed: heal.ShardsHealed, Scanned: heal.Scanned, ScanCycles: heal.ScanCycles,
		},
	}
	for _, d := range info.Drives {
		if d.State == "ok" {
			m.DrivesOnline++
		} else {
			m.DrivesOffline++
		}
	}
	for _, p := range pools {
		pm := clusterPoolModel{
			Index: int64(p.Index), Sets: int64(p.Sets), DriveCount: int64(p.Drives), Parity: int64(p.Parity),
			TotalBytes: i64(p.TotalBytes), FreeBytes: i64(p.FreeBytes), State: "active", Drives: []clusterDriveModel{},
		}
		if p.Draining {
			pm.State = "draining"
		}
		for _, d := range info.Drives {
			if d.Pool == p.Index {
				pm.Drives = append(pm.Drives, clusterDriveModel{Path: d.Path, Set: int64(d.Set), State: d.State, TotalBytes: i64(d.TotalBytes), FreeBytes: i64(d.FreeBytes)})
			}
		}
		m.Pools = append(m.Pools, pm)
	}
	return m
}
