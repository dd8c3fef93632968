package provider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/admin"
)

func TestAccDataSourceCluster(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	extra := t.TempDir()
	if _, err := e.Admin.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(extra, "d{1...4}")}}); err != nil {
		t.Fatal(err)
	}
	info, err := e.Admin.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const c = "data.cairn_cluster.c"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{
				Config: e.config(`data "cairn_cluster" "c" {}`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(c, tfjsonpath.New("deployment_id"), knownvalue.StringExact(info.DeploymentID)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("drives_online"), knownvalue.Int64Exact(10)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("drives_offline"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(0).AtMapKey("parity"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(0).AtMapKey("drive_count"), knownvalue.Int64Exact(6)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(1).AtMapKey("index"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(1).AtMapKey("state"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(1).AtMapKey("drives").AtSliceIndex(3).AtMapKey("path"),
						knownvalue.StringExact(filepath.Join(extra, "d4"))),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("heal").AtMapKey("backlog"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("total_bytes"), knownvalue.NotNull()),
				},
			},
			{ // a drive gone: offline, and counted
				PreConfig: func() { must(t, os.RemoveAll(e.Server.Drives[0])) },
				Config:    e.config(`data "cairn_cluster" "c" {}`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(c, tfjsonpath.New("drives_offline"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("drives_online"), knownvalue.Int64Exact(9)),
					statecheck.ExpectKnownValue(c, tfjsonpath.New("pools").AtSliceIndex(0).AtMapKey("drives").AtSliceIndex(0).AtMapKey("state"), knownvalue.StringExact("offline")),
				},
			},
		},
	})
}
