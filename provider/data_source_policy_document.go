package provider

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
)

// policyDocumentDataSource renders AWS IAM policy JSON from HCL blocks, like the AWS
// provider's aws_iam_policy_document. It needs no server.
type policyDocumentDataSource struct{}

var _ datasource.DataSource = (*policyDocumentDataSource)(nil)

func newPolicyDocumentDataSource() datasource.DataSource { return &policyDocumentDataSource{} }

type policyDocumentModel struct {
	ID           types.String           `tfsdk:"id"`
	Version      types.String           `tfsdk:"version"`
	PolicyID     types.String           `tfsdk:"policy_id"`
	Statements   []policyStatementModel `tfsdk:"statement"`
	JSON         types.String           `tfsdk:"json"`
	MinifiedJSON types.String           `tfsdk:"minified_json"`
}

type policyStatementModel struct {
	Sid           types.String           `tfsdk:"sid"`
	Effect        types.String           `tfsdk:"effect"`
	Actions       []string               `tfsdk:"actions"`
	NotActions    []string               `tfsdk:"not_actions"`
	Resources     []string               `tfsdk:"resources"`
	NotResources  []string               `tfsdk:"not_resources"`
	Principals    []policyPrincipalModel `tfsdk:"principals"`
	NotPrincipals []policyPrincipalModel `tfsdk:"not_principals"`
	Conditions    []policyConditionModel `tfsdk:"condition"`
}

type policyPrincipalModel struct {
	Type        string   `tfsdk:"type"`
	Identifiers []string `tfsdk:"identifiers"`
}

type policyConditionModel struct {
	Test     string   `tfsdk:"test"`
	Variable string   `tfsdk:"variable"`
	Values   []string `tfsdk:"values"`
}

func (d *policyDocumentDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_policy_document"
}

func (d *policyDocumentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	principalBlock := func(what string) schema.SetNestedBlock {
		return schema.SetNestedBlock{
			MarkdownDescription: what,
			NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"type": schema.StringAttribute{
					MarkdownDescription: "`AWS` (users, roles, accounts, `*`), `Service`, `Federated`, `CanonicalUser`, or `*` (everyone).",
					Required:            true,
					Validators:          []validator.String{stringvalidator.OneOf("AWS", "Service", "Federated", "CanonicalUser", "*")},
				},
				"identifiers": schema.SetAttribute{
					MarkdownDescription: "Principal identifiers, e.g. user ARNs, or `[\"*\"]`.",
					Required:            true,
					ElementType:         types.StringType,
				},
			}},
		}
	}
	set := func(desc string) schema.SetAttribute {
		return schema.SetAttribute{MarkdownDescription: desc, Optional: true, ElementType: types.StringType}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Builds an AWS IAM policy document (JSON) from HCL, for `cairn_bucket_policy` and " +
			"later the IAM resources. The output is validated like `cairn_bucket_policy.policy`, so mistakes " +
			"show at plan time. Works offline: it does not call the server.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{MarkdownDescription: "The minified JSON (for compatibility).", Computed: true},
			"version": schema.StringAttribute{
				MarkdownDescription: "Policy language version: `2012-10-17` (default) or `2008-10-17`.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf("2012-10-17", "2008-10-17")},
			},
			"policy_id": schema.StringAttribute{MarkdownDescription: "The document's `Id`.", Optional: true},
			"json": schema.StringAttribute{
				MarkdownDescription: "The policy document, indented JSON.",
				Computed:            true,
			},
			"minified_json": schema.StringAttribute{
				MarkdownDescription: "The policy document, minified JSON.",
				Computed:            true,
			},
		},
		Blocks: map[string]schema.Block{
			"statement": schema.ListNestedBlock{
				MarkdownDescription: "A policy statement; repeat the block for several.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"sid": schema.StringAttribute{MarkdownDescription: "Statement id.", Optional: true},
						"effect": schema.StringAttribute{
							MarkdownDescription: "`Allow` (default) or `Deny`.",
							Optional:            true,
							Validators:          []validator.String{stringvalidator.OneOf("Allow", "Deny")},
						},
						"actions":       set("Actions this statement applies to, e.g. `s3:GetObject`, `s3:*`."),
						"not_actions":   set("Actions this statement does not apply to (every other action is covered)."),
						"resources":     set("Resource ARNs, e.g. `arn:aws:s3:::photos/*`."),
						"not_resources": set("Resource ARNs this statement does not apply to."),
					},
					Blocks: map[string]schema.Block{
						"principals":     principalBlock("Who the statement applies to (bucket policies)."),
						"not_principals": principalBlock("Who the statement does not apply to."),
						"condition": schema.SetNestedBlock{
							MarkdownDescription: "A condition; several blocks must all hold.",
							NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
								"test": schema.StringAttribute{
									MarkdownDescription: "Condition operator, e.g. `StringEquals`, `IpAddress`, `Bool`.",
									Required:            true,
								},
								"variable": schema.StringAttribute{
									MarkdownDescription: "Condition key, e.g. `aws:SourceIp`, `s3:prefix`.",
									Required:            true,
								},
								"values": schema.ListAttribute{
									MarkdownDescription: "Values; any one may match.",
									Required:            true,
									ElementType:         types.StringType,
								},
							}},
						},
					},
				},
			},
		},
	}
}

// jsonStatement is one statement in the rendered document, fields in AWS's order.
type jsonStatement struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       string                    `json:"Effect"`
	Action       any                       `json:"Action,omitempty"`
	NotAction    any                       `json:"NotAction,omitempty"`
	Resource     any                       `json:"Resource,omitempty"`
	NotResource  any                       `json:"NotResource,omitempty"`
	Principal    any                       `json:"Principal,omitempty"`
	NotPrincipal any                       `json:"NotPrincipal,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

type jsonDocument struct {
	Version   string          `json:"Version,omitempty"`
	ID        string          `json:"Id,omitempty"`
	Statement []jsonStatement `json:"Statement"`
}

func (d *policyDocumentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m policyDocumentModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	doc := jsonDocument{Version: m.Version.ValueString(), ID: m.PolicyID.ValueString(), Statement: []jsonStatement{}}
	if doc.Version == "" {
		doc.Version = "2012-10-17"
	}
	for _, s := range m.Statements {
		js := jsonStatement{
			Sid:          s.Sid.ValueString(),
			Effect:       s.Effect.ValueString(),
			Action:       oneOrMany(s.Actions),
			NotAction:    oneOrMany(s.NotActions),
			Resource:     oneOrMany(s.Resources),
			NotResource:  oneOrMany(s.NotResources),
			Principal:    principals(s.Principals),
			NotPrincipal: principals(s.NotPrincipals),
		}
		if js.Effect == "" {
			js.Effect = "Allow"
		}
		for _, c := range s.Conditions {
			if js.Condition == nil {
				js.Condition = map[string]map[string]any{}
			}
			if js.Condition[c.Test] == nil {
				js.Condition[c.Test] = map[string]any{}
			}
			js.Condition[c.Test][c.Variable] = oneOrMany(c.Values)
		}
		doc.Statement = append(doc.Statement, js)
	}
	pretty, err := json.MarshalIndent(doc, "", "  ")
	if err == nil {
		err = iampolicy.Validate(pretty)
	}
	if err != nil {
		resp.Diagnostics.AddError("Invalid policy document",
			"The statements do not make a valid IAM policy: "+policyProblem(err)+
				". Statement numbers count the statement blocks from 0.")
		return
	}
	minified, _ := json.Marshal(doc)
	m.JSON = types.StringValue(string(pretty))
	m.MinifiedJSON = types.StringValue(string(minified))
	m.ID = m.MinifiedJSON
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// oneOrMany renders a set as AWS does: nothing, a single string, or a sorted list.
func oneOrMany(l []string) any {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	l = slices.Clone(l)
	slices.Sort(l)
	return l
}

// principals renders principal blocks; a block of type "*" is the bare "*".
func principals(ps []policyPrincipalModel) any {
	if len(ps) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, p := range ps {
		if p.Type == "*" {
			return "*"
		}
		ids := p.Identifiers
		if prev, ok := out[p.Type]; ok {
			switch prev := prev.(type) {
			case string:
				ids = append(ids, prev)
			case []string:
				ids = append(ids, prev...)
			}
			slices.Sort(ids)
			ids = slices.Compact(ids)
		}
		out[p.Type] = oneOrMany(ids)
	}
	return out
}
