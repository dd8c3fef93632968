package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
)

// PolicyType is a string attribute type holding an IAM policy document. Its values
// compare by IAM meaning (iampolicy.Equivalent), so Terraform keeps the configured
// text when the server returns a reformatted or reordered document, and a config
// rewritten without changing its meaning plans no change.
type PolicyType struct{ basetypes.StringType }

var _ basetypes.StringTypable = PolicyType{}

func (t PolicyType) String() string { return "provider.PolicyType" }

func (t PolicyType) ValueType(context.Context) attr.Value { return PolicyValue{} }

func (t PolicyType) Equal(o attr.Type) bool {
	_, ok := o.(PolicyType)
	return ok
}

func (t PolicyType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return PolicyValue{StringValue: in}, nil
}

func (t PolicyType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	sv, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return PolicyValue{StringValue: sv}, nil
}

// PolicyValue is a value of PolicyType.
type PolicyValue struct{ basetypes.StringValue }

var (
	_ basetypes.StringValuableWithSemanticEquals = PolicyValue{}
	_ xattr.ValidateableAttribute                = PolicyValue{}
)

// NewPolicyValue returns a known PolicyValue.
func NewPolicyValue(s string) PolicyValue {
	return PolicyValue{StringValue: basetypes.NewStringValue(s)}
}

func (v PolicyValue) Type(context.Context) attr.Type { return PolicyType{} }

func (v PolicyValue) Equal(o attr.Value) bool {
	other, ok := o.(PolicyValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals reports IAM equivalence. A document that does not parse is
// equal only to the identical text (validation reports it separately).
func (v PolicyValue) StringSemanticEquals(_ context.Context, nv basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := nv.(PolicyValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("expected PolicyValue, got %T; this is a bug in the provider", nv))
		return false, diags
	}
	eq, err := iampolicy.Equivalent([]byte(v.ValueString()), []byte(other.ValueString()))
	if err != nil {
		return v.ValueString() == other.ValueString(), diags
	}
	return eq, diags
}

// ValidateAttribute rejects a document that is not valid JSON or not a valid IAM
// policy, saying which statement and key are wrong.
func (v PolicyValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if err := iampolicy.Validate([]byte(v.ValueString())); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid policy document",
			"The value is not a valid IAM policy document: "+policyProblem(err))
	}
}

// keepEquivalentPolicy is the plan modifier that makes a reformatted or reordered
// policy in the configuration plan no change: when the configured document is
// equivalent to the one in state, it plans the state's text. Terraform accepts a
// planned value equal to the prior one as the provider saying "these are the same".
// (Semantic equality on PolicyValue covers what the server returns; this covers
// what the user writes.)
type keepEquivalentPolicy struct{}

var _ planmodifier.String = keepEquivalentPolicy{}

func (keepEquivalentPolicy) Description(context.Context) string {
	return "Keeps the policy in state when the configured one is equivalent to it."
}

func (m keepEquivalentPolicy) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (keepEquivalentPolicy) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	if eq, err := iampolicy.Equivalent([]byte(req.StateValue.ValueString()), []byte(req.PlanValue.ValueString())); err == nil && eq {
		resp.PlanValue = req.StateValue
	}
}

// policyProblem is err from iampolicy without its package prefixes.
func policyProblem(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, iampolicy.ErrInvalid.Error()+": ")
	return strings.TrimPrefix(s, "iampolicy: ")
}
