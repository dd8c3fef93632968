package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccDataSourceBucket(t *testing.T) {
	e := newAcc(t)
	e.mkBucket(t, "made-elsewhere")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: factories(),
		Steps: []resource.TestStep{
			{
				Config: e.config(`data "cairn_bucket" "b" { bucket = "made-elsewhere" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.cairn_bucket.b", tfjsonpath.New("arn"), knownvalue.StringExact("arn:aws:s3:::made-elsewhere")),
					statecheck.ExpectKnownValue("data.cairn_bucket.b", tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue("data.cairn_bucket.b", tfjsonpath.New("creation_date"), knownvalue.NotNull()),
				},
			},
			{
				Config:      e.config(`data "cairn_bucket" "b" { bucket = "no-such-bucket" }`),
				ExpectError: errorLike(`Bucket "no-such-bucket" does not exist`),
			},
		},
	})
}
