// Command standin is a schema-only Terraform provider: it serves the schema of
// hashicorp/aws, azurerm, google or kubernetes — the resources and data sources
// the deployment modules use, extracted from the CDK for Terraform packages by
// ./gen into schemas/*.json — and nothing else. With it in a filesystem mirror,
// `terraform init`, `terraform validate` and `terraform test` with mock_provider
// blocks run offline against the real providers' argument names, types and
// nesting (tests/deploy TestCloudModules). It never talks to a cloud: validation
// accepts every configuration the schema allows, plan proposes the config with
// computed values unknown, and apply refuses (use mock_provider).
//
// Which provider it is comes from the executable's name, as Terraform installs
// it: terraform-provider-<name>_v<version>.
package main

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

//go:embed schemas/*.json
var schemas embed.FS

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "terraform-provider-")
	name, _, _ = strings.Cut(name, "_")
	s, err := load(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
	if err := tf6server.Serve(s.source, func() tfprotov6.ProviderServer { return s }); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
}

// jsonSchema is the file format: that of `terraform providers schema -json`.
type jsonSchema struct {
	Source      string                `json:"source"`
	Version     string                `json:"version"`
	Provider    *jsonBlock            `json:"provider"`
	Resources   map[string]*jsonBlock `json:"resource_schemas"`
	DataSources map[string]*jsonBlock `json:"data_source_schemas"`
}

type jsonBlock struct {
	Attributes map[string]struct {
		Type     json.RawMessage `json:"type"`
		Required bool            `json:"required"`
		Optional bool            `json:"optional"`
		Computed bool            `json:"computed"`
	} `json:"attributes"`
	BlockTypes map[string]struct {
		NestingMode string     `json:"nesting_mode"`
		MinItems    int64      `json:"min_items"`
		MaxItems    int64      `json:"max_items"`
		Block       *jsonBlock `json:"block"`
	} `json:"block_types"`
}

type server struct {
	tfprotov6.ProviderServer // nil: RPCs not overridden below are not offered
	source                   string
	provider                 *tfprotov6.Schema
	resources, dataSources   map[string]*tfprotov6.Schema
}

func load(name string) (*server, error) {
	b, err := schemas.ReadFile("schemas/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no schema for provider %q (executable %s)", name, os.Args[0])
	}
	var js jsonSchema
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, err
	}
	s := &server{source: js.Source, resources: map[string]*tfprotov6.Schema{}, dataSources: map[string]*tfprotov6.Schema{}}
	if s.provider, err = toSchema(js.Provider); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	for n, b := range js.Resources {
		if s.resources[n], err = toSchema(b); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	for n, b := range js.DataSources {
		if s.dataSources[n], err = toSchema(b); err != nil {
			return nil, fmt.Errorf("data %s: %w", n, err)
		}
	}
	return s, nil
}

func toSchema(b *jsonBlock) (*tfprotov6.Schema, error) {
	if b == nil {
		b = &jsonBlock{}
	}
	blk, err := toBlock(b)
	return &tfprotov6.Schema{Version: 0, Block: blk}, err
}

func toBlock(b *jsonBlock) (*tfprotov6.SchemaBlock, error) {
	out := &tfprotov6.SchemaBlock{}
	for n, a := range b.Attributes {
		t, err := tftypes.ParseJSONType(a.Type) //nolint:staticcheck // the cty JSON type form is exactly what the file holds
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", n, err)
		}
		out.Attributes = append(out.Attributes, &tfprotov6.SchemaAttribute{Name: n, Type: t, Required: a.Required, Optional: a.Optional, Computed: a.Computed})
	}
	for n, nb := range b.BlockTypes {
		inner, err := toBlock(nb.Block)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w", n, err)
		}
		mode := tfprotov6.SchemaNestedBlockNestingModeList
		if nb.NestingMode == "set" {
			mode = tfprotov6.SchemaNestedBlockNestingModeSet
		}
		out.BlockTypes = append(out.BlockTypes, &tfprotov6.SchemaNestedBlock{TypeName: n, Nesting: mode, MinItems: nb.MinItems, MaxItems: nb.MaxItems, Block: inner})
	}
	return out, nil
}

func (s *server) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	r := &tfprotov6.GetMetadataResponse{ServerCapabilities: &tfprotov6.ServerCapabilities{PlanDestroy: true}}
	for n := range s.resources {
		r.Resources = append(r.Resources, tfprotov6.ResourceMetadata{TypeName: n})
	}
	for n := range s.dataSources {
		r.DataSources = append(r.DataSources, tfprotov6.DataSourceMetadata{TypeName: n})
	}
	return r, nil
}

func (s *server) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return &tfprotov6.GetProviderSchemaResponse{
		ServerCapabilities: &tfprotov6.ServerCapabilities{PlanDestroy: true},
		Provider:           s.provider, ResourceSchemas: s.resources, DataSourceSchemas: s.dataSources,
		Functions: map[string]*tfprotov6.Function{}, EphemeralResourceSchemas: map[string]*tfprotov6.Schema{},
	}, nil
}

func (s *server) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{}, nil
}

func (s *server) ValidateProviderConfig(_ context.Context, r *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: r.Config}, nil
}

func (s *server) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (s *server) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func (s *server) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s *server) ValidateDataResourceConfig(context.Context, *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return &tfprotov6.ValidateDataResourceConfigResponse{}, nil
}

func (s *server) UpgradeResourceState(_ context.Context, r *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	sch, ok := s.resources[r.TypeName]
	if !ok || r.RawState == nil {
		return &tfprotov6.UpgradeResourceStateResponse{}, nil
	}
	typ := sch.ValueType()
	v, err := r.RawState.UnmarshalWithOpts(typ, tfprotov6.UnmarshalOpts{ValueFromJSONOpts: tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true}})
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &dv}, err
}

// PlanResourceChange proposes the configuration; the stand-in knows no computed values.
func (s *server) PlanResourceChange(_ context.Context, r *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: r.ProposedNewState}, nil
}

func (s *server) ApplyResourceChange(context.Context, *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: []*tfprotov6.Diagnostic{{
		Severity: tfprotov6.DiagnosticSeverityError, Summary: "stand-in provider",
		Detail: "this is a schema-only stand-in for tests (tests/deploy/standin); it cannot create anything. Use mock_provider in terraform test.",
	}}}, nil
}

func (s *server) ReadResource(_ context.Context, r *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: r.CurrentState, Private: r.Private}, nil
}

func (s *server) ReadDataSource(context.Context, *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return refuseRead("data sources")
}

func refuseRead(what string) (*tfprotov6.ReadDataSourceResponse, error) {
	return &tfprotov6.ReadDataSourceResponse{Diagnostics: []*tfprotov6.Diagnostic{{
		Severity: tfprotov6.DiagnosticSeverityError, Summary: "stand-in provider",
		Detail: "this is a schema-only stand-in for tests (tests/deploy/standin); it cannot read " + what + ". Use mock_provider in terraform test.",
	}}}, nil
}

func (s *server) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{Functions: map[string]*tfprotov6.Function{}}, nil
}
