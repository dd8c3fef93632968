package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccDataSourceBuckets(t *testing.T) {
	e := newAcc(t)
	for _, b := range []string{"team-a-logs", "team-a-data", "team-b-data"} {
		e.mkBucket(t, b)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: e.config(`
data "cairn_buckets" "a" { prefix = "team-a-" }
data "cairn_buckets" "all" {}
`),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.cairn_buckets.a", tfjsonpath.New("names"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("team-a-data"), knownvalue.StringExact("team-a-logs"),
				})),
				statecheck.ExpectKnownValue("data.cairn_buckets.a", tfjsonpath.New("buckets").AtSliceIndex(0).AtMapKey("arn"), knownvalue.StringExact("arn:aws:s3:::team-a-data")),
				statecheck.ExpectKnownValue("data.cairn_buckets.all", tfjsonpath.New("names"), knownvalue.ListSizeExact(3)),
			},
		}},
	})
}
