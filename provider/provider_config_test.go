package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/cairn-io/cairn/server/servertest"
)

// TestAccProviderEnv configures the provider from CAIRN_* alone (not parallel: it
// sets the process environment the in-process provider reads).
func TestAccProviderEnv(t *testing.T) {
	e := newAcc(t)
	e.mkBucket(t, "from-env")
	t.Setenv("CAIRN_ENDPOINT", e.Endpoint)
	t.Setenv("CAIRN_ACCESS_KEY", servertest.AccessKey)
	t.Setenv("CAIRN_SECRET_KEY", servertest.SecretKey)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: `
provider "cairn" {}
data "cairn_buckets" "all" {}
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.cairn_buckets.all", tfjsonpath.New("names"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("from-env")})),
			},
		}},
	})
}

func TestAccProviderMissingEndpoint(t *testing.T) {
	needTerraform(t)
	t.Setenv("CAIRN_ENDPOINT", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: `
provider "cairn" {
  access_key = "a"
  secret_key = "b"
}
data "cairn_buckets" "all" {}
`,
			ExpectError: errorLike(`Set the provider's endpoint (or CAIRN_ENDPOINT)`),
		}},
	})
}

func TestAccProviderWrongCredentials(t *testing.T) {
	e := newAcc(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{{
			Config: `
provider "cairn" {
  endpoint    = "` + e.Endpoint + `"
  access_key  = "cairn-test-root"
  secret_key  = "not-the-secret"
  max_retries = 0
}
data "cairn_buckets" "all" {}
`,
			ExpectError: errorLike(`SignatureDoesNotMatch`),
		}},
	})
}
