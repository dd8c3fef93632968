package provider

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/admin"
)

func TestAccPool(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	dirA, dirB := t.TempDir(), t.TempDir()
	cfg := func(drives, extra string) string {
		return e.config(fmt.Sprintf(`
resource "cairn_pool" "p" {
  drives = [%s]
  %s
}
`, drives, extra))
	}
	quoted := func(dir string, n int) string {
		var q []string
		for i := 1; i <= n; i++ {
			q = append(q, fmt.Sprintf("%q", filepath.Join(dir, fmt.Sprintf("d%d", i))))
		}
		return strings.Join(q, ", ")
	}
	poolsAre := func(want ...int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			pools, err := e.Admin.Pools(ctx)
			if err != nil {
				return err
			}
			var got []int
			for _, p := range pools {
				got = append(got, p.Index)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("server's pools are %v, want %v", got, want)
			}
			return nil
		}
	}
	objects := map[string]string{}
	const p = "cairn_pool.p"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		CheckDestroy:             poolsAre(0),
		Steps: []resource.TestStep{
			{
				Config: cfg(quoted(dirA, 4), "parity = 1"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(p, tfjsonpath.New("id"), knownvalue.StringExact("1")),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("index"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("sets"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("drive_count"), knownvalue.Int64Exact(4)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("drive_paths").AtSliceIndex(3), knownvalue.StringExact(filepath.Join(dirA, "d4"))),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("draining"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("timeouts"), knownvalue.Null()),
				},
				Check: poolsAre(0, 1),
			},
			// free space moves between two reads.
			{ResourceName: p, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"free_bytes", "total_bytes"}},
			{ResourceName: p, ImportState: true, ImportStateKind: resource.ImportBlockWithID},
			{
				Config: cfg(quoted(dirA, 4), "parity = 1\n  timeouts = { delete = \"10m\" }"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionUpdate),
				}},
				Check: poolsAre(0, 1),
			},
			{ // other drives: the pool is drained (its objects move to pool 0) and a new one added
				PreConfig: func() {
					c := e.S3
					if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acc-pool-data")}); err != nil {
						t.Fatal(err)
					}
					for i := range 20 {
						k, v := fmt.Sprintf("k%02d", i), strings.Repeat(fmt.Sprint(i), 1000+i)
						objects[k] = v
						_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acc-pool-data"), Key: aws.String(k), Body: strings.NewReader(v)})
						must(t, err)
					}
				},
				Config: cfg(quoted(dirB, 3), "timeouts = { delete = \"10m\" }"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(p, tfjsonpath.New("index"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("drive_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(p, tfjsonpath.New("parity"), knownvalue.Int64Exact(1)), // 3 drives: 2+1
				},
				Check: resource.ComposeTestCheckFunc(poolsAre(0, 2), func(*terraform.State) error {
					for k, want := range objects {
						out, err := e.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acc-pool-data"), Key: aws.String(k)})
						if err != nil {
							return fmt.Errorf("%s after its pool was drained: %v", k, err)
						}
						b, err := io.ReadAll(out.Body)
						out.Body.Close()
						if err != nil || string(b) != want {
							return fmt.Errorf("%s after its pool was drained: %d bytes, %v", k, len(b), err)
						}
					}
					return nil
				}),
			},
			{ // drained outside Terraform: the next plan adds the pool again
				PreConfig: func() {
					_, err := e.Admin.DecommissionPool(ctx, 2)
					must(t, err)
					e.waitPoolGone(t, 2)
				},
				Config:             cfg(quoted(dirB, 3), "timeouts = { delete = \"10m\" }"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(p, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

// waitPoolGone waits until the server has removed a draining pool.
func (e *accEnv) waitPoolGone(t *testing.T, idx int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if _, err := e.Admin.Pool(context.Background(), idx); admin.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pool %d still there 2 minutes after its decommission began", idx)
		}
	}
}

// The last pool cannot be drained: destroy says so (instead of waiting for a
// decommission that never starts), and works once another pool exists.
func TestAccPoolLast(t *testing.T) {
	e := newAcc(t)
	ctx := context.Background()
	dirA, dirB := t.TempDir(), t.TempDir()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{Config: e.config(fmt.Sprintf(`resource "cairn_pool" "p" { drives = [%q] }`, filepath.Join(dirA, "d{1...4}")))},
			{
				PreConfig: func() {
					_, err := e.Admin.DecommissionPool(ctx, 0)
					must(t, err)
					e.waitPoolGone(t, 0)
				},
				Config:      e.config(""),
				ExpectError: errorLike("DecommissionPool on pool 1: cairn admin: PoolConflict (409)"),
			},
			{
				PreConfig: func() {
					_, err := e.Admin.AddPool(ctx, admin.AddPoolRequest{Drives: []string{filepath.Join(dirB, "d{1...4}")}})
					must(t, err)
				},
				Config: e.config(""),
				Check: func(*terraform.State) error {
					pools, err := e.Admin.Pools(ctx)
					if err != nil {
						return err
					}
					if len(pools) != 1 || pools[0].Index != 2 {
						return fmt.Errorf("pools after destroy: %+v, want only pool 2", pools)
					}
					return nil
				},
			},
		},
	})
}

// Drives the server already uses are refused, with the server's reason.
func TestAccPoolDrivesInUse(t *testing.T) {
	e := newAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config:      e.config(fmt.Sprintf(`resource "cairn_pool" "p" { drives = [%q] }`, e.Server.Drives[0])),
			ExpectError: errorLike("AddPool on drives [" + e.Server.Drives[0] + "]: cairn admin: PoolConflict (409)"),
		}},
	})
}

func TestAccPoolInvalid(t *testing.T) {
	e := newAcc(t)
	for _, c := range []struct{ name, body, want string }{
		{"no drives", `drives = []`, "list must contain at least 1 elements"},
		{"timeout", "drives = [\"/x\"]\n  timeouts = { delete = \"soon\" }", `"soon" must be a string containing a sequence of decimal numbers`},
		{"negative timeout", "drives = [\"/x\"]\n  timeouts = { delete = \"-1h\" }", `"-1h" is not a positive duration`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: factories(),
				Steps: []resource.TestStep{{
					Config:      e.config("resource \"cairn_pool\" \"p\" {\n  " + c.body + "\n}\n"),
					PlanOnly:    true,
					ExpectError: errorLike(c.want),
				}},
			})
		})
	}
}
