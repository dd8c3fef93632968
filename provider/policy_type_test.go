package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

const (
	policyA  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*"}]}`
	policyA2 = `{"Statement":[{"Resource":["arn:aws:s3:::b/*"],"Action":["s3:ListBucket","s3:GetObject"],"Principal":{"AWS":"*"},"Effect":"Allow"}],"Version":"2012-10-17"}`
	policyB  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
)

func TestPolicyValueSemanticEquals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"reordered", policyA, policyA2, true},
		{"different", policyA, policyB, false},
		{"invalid, same text", `{x`, `{x`, true},
		{"invalid, other text", `{x`, `{y`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq, diags := NewPolicyValue(tc.a).StringSemanticEquals(ctx, NewPolicyValue(tc.b))
			if diags.HasError() || eq != tc.want {
				t.Fatalf("StringSemanticEquals = %v, %v; want %v", eq, diags, tc.want)
			}
		})
	}
}

func TestPolicyValueValidate(t *testing.T) {
	var resp xattr.ValidateAttributeResponse
	NewPolicyValue(`{"Statement":[{"Effect":"Allow"}]}`).ValidateAttribute(context.Background(), xattr.ValidateAttributeRequest{Path: path.Root("policy")}, &resp)
	if !resp.Diagnostics.HasError() {
		t.Fatal("a statement without Action validated")
	}
	want := "The value is not a valid IAM policy document: Statement[0]: one of Action or NotAction is required"
	if got := resp.Diagnostics[0].Detail(); got != want {
		t.Fatalf("detail = %q, want %q", got, want)
	}
}

func TestKeepEquivalentPolicy(t *testing.T) {
	for _, tc := range []struct {
		name        string
		state, plan types.String
		want        types.String
	}{
		{"equivalent keeps state", types.StringValue(policyA), types.StringValue(policyA2), types.StringValue(policyA)},
		{"different plans config", types.StringValue(policyA), types.StringValue(policyB), types.StringValue(policyB)},
		{"create", types.StringNull(), types.StringValue(policyA2), types.StringValue(policyA2)},
		{"unknown", types.StringValue(policyA), types.StringUnknown(), types.StringUnknown()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := planmodifier.StringRequest{StateValue: tc.state, PlanValue: tc.plan, ConfigValue: tc.plan}
			resp := planmodifier.StringResponse{PlanValue: tc.plan}
			keepEquivalentPolicy{}.PlanModifyString(context.Background(), req, &resp)
			if !resp.PlanValue.Equal(tc.want) {
				t.Fatalf("planned %v, want %v", resp.PlanValue, tc.want)
			}
		})
	}
}
