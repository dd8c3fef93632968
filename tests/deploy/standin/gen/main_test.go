package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

// A hand-written miniature of a CDK for Terraform assembly: one resource with a
// required and an optional argument, a list block, a single (max 1) block with
// a computed attribute, a computed top-level attribute and a computed list of
// objects.
const asm = `{
 "fqn.Thing": {"kind": "class", "docs": {"summary": "Represents a {@link https://registry.terraform.io/providers/hashicorp/ex/1.2.3/docs/resources/thing ex_thing}."},
  "properties": [
   {"name": "tfResourceType", "static": true, "type": {"primitive": "string"}},
   {"name": "arn", "type": {"primitive": "string"}},
   {"name": "nameInput", "type": {"primitive": "string"}},
   {"name": "name", "type": {"primitive": "string"}},
   {"name": "sizeGb", "type": {"primitive": "number"}},
   {"name": "endpoints", "type": {"fqn": "fqn.ThingEndpointsList"}},
   {"name": "tags", "type": {"fqn": "cdktf.StringMap"}}
  ]},
 "fqn.ThingConfig": {"kind": "interface", "datatype": true, "properties": [
   {"name": "name", "docs": {"remarks": "Docs at Terraform Registry: {@link https://registry.terraform.io/providers/hashicorp/ex/1.2.3/docs/resources/thing#name Thing#name}"}, "type": {"primitive": "string"}},
   {"name": "sizeGb", "optional": true, "docs": {"remarks": "{@link https://registry.terraform.io/providers/hashicorp/ex/1.2.3/docs/resources/thing#size_gb Thing#size_gb}"}, "type": {"primitive": "number"}},
   {"name": "enabled", "optional": true, "type": {"union": {"types": [{"primitive": "boolean"}, {"fqn": "cdktf.IResolvable"}]}}},
   {"name": "labels", "optional": true, "type": {"collection": {"kind": "map", "elementtype": {"primitive": "string"}}}},
   {"name": "manifest", "type": {"collection": {"kind": "map", "elementtype": {"primitive": "any"}}}},
   {"name": "rule", "optional": true, "docs": {"summary": "rule block."}, "type": {"union": {"types": [{"fqn": "cdktf.IResolvable"}, {"collection": {"kind": "array", "elementtype": {"fqn": "fqn.ThingRule"}}}]}}},
   {"name": "disk", "docs": {"summary": "disk block."}, "type": {"fqn": "fqn.ThingDisk"}}
  ]},
 "fqn.ThingRule": {"kind": "interface", "datatype": true, "properties": [
   {"name": "fromPort", "type": {"primitive": "number"}},
   {"name": "cidrs", "optional": true, "type": {"collection": {"kind": "array", "elementtype": {"primitive": "string"}}}}
  ]},
 "fqn.ThingRuleOutputReference": {"kind": "class", "properties": [
   {"name": "fromPort", "type": {"primitive": "number"}}, {"name": "cidrs", "type": {"collection": {"kind": "array", "elementtype": {"primitive": "string"}}}}
  ]},
 "fqn.ThingDisk": {"kind": "interface", "datatype": true, "properties": [{"name": "size", "optional": true, "type": {"primitive": "number"}}]},
 "fqn.ThingDiskOutputReference": {"kind": "class", "properties": [
   {"name": "size", "type": {"primitive": "number"}}, {"name": "volumeId", "type": {"primitive": "string"}}, {"name": "internalValue", "type": {"primitive": "any"}}
  ]},
 "fqn.ThingEndpointsList": {"kind": "class", "properties": []},
 "fqn.ThingEndpointsOutputReference": {"kind": "class", "properties": [
   {"name": "address", "type": {"primitive": "string"}}, {"name": "port", "type": {"primitive": "number"}}
  ]}
}`

func TestBlockFromAssembly(t *testing.T) {
	var types map[string]jsiiType
	if err := json.Unmarshal([]byte(asm), &types); err != nil {
		t.Fatal(err)
	}
	g := &gen{types: types}
	if m := representsRE.FindStringSubmatch(types["fqn.Thing"].Docs.Summary); m == nil || m[3] != "1.2.3" || m[4] != "resources" || m[5] != "ex_thing" {
		t.Fatalf("class summary not recognised: %q", m)
	}
	b := g.resource("fqn.ThingConfig", "fqn.Thing")
	got, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"attributes":{` +
		`"arn":{"type":"string","computed":true},` +
		`"enabled":{"type":"bool","optional":true},` +
		`"endpoints":{"type":["list",["object",{"address":"string","port":"number"}]],"computed":true},` +
		`"id":{"type":"string","computed":true},` +
		`"labels":{"type":["map","string"],"optional":true},` +
		`"manifest":{"type":"dynamic","required":true},` +
		`"name":{"type":"string","required":true},` +
		`"size_gb":{"type":"number","optional":true,"computed":true},` +
		`"tags":{"type":["map","string"],"computed":true}},` +
		`"block_types":{` +
		`"disk":{"nesting_mode":"list","min_items":1,"max_items":1,"block":{"attributes":{"size":{"type":"number","optional":true,"computed":true},"volume_id":{"type":"string","computed":true}}}},` +
		`"rule":{"nesting_mode":"list","block":{"attributes":{"cidrs":{"type":["list","string"],"optional":true,"computed":true},"from_port":{"type":"number","required":true}}}}}}`
	var gotV, wantV any
	json.Unmarshal(got, &gotV)
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("block:\n got %s\nwant %s", got, want)
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"sizeGb": "size_gb", "ipv6CidrBlock": "ipv6_cidr_block", "id": "id", "dnsName": "dns_name"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
