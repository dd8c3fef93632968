// Command gen extracts Terraform provider schemas from the jsii assembly (.jsii)
// of a CDK for Terraform provider package (@cdktf/provider-aws, -azurerm,
// -google, -kubernetes on npm) and writes the parts the deployment modules use
// as JSON, in the shape of `terraform providers schema -json`. The stand-in
// provider (tests/deploy/standin) serves that JSON, so `terraform validate` and
// `terraform test` with mock_provider blocks run without the registry.
//
// How the assembly carries a schema: each resource or data source is a class
// whose doc summary reads "Represents a {@link …/docs/resources/NAME tf_name}";
// its arguments are the properties of the interface <Class>Config, each with a
// doc link ending in "#arg_name"; properties typed with a struct (or a list of
// them) and documented as "X block." are nested blocks; getters of the class
// that are not arguments are computed attributes. Set and list blocks look the
// same there, so every block is a list (NestingList).
//
// Usage (scripts/standin-schemas runs it for the four providers):
//
//	go run ./tests/deploy/standin/gen -jsii package/.jsii -prefix aws_ \
//	  -tf modules/aws,examples/aws -out tests/deploy/standin/schemas/aws.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

type jsiiType struct {
	Kind       string     `json:"kind"`
	FQN        string     `json:"fqn"`
	Datatype   bool       `json:"datatype"`
	Docs       jsiiDocs   `json:"docs"`
	Properties []jsiiProp `json:"properties"`
}

type jsiiDocs struct {
	Summary string `json:"summary"`
	Remarks string `json:"remarks"`
}

type jsiiProp struct {
	Name     string          `json:"name"`
	Optional bool            `json:"optional"`
	Static   bool            `json:"static"`
	Docs     jsiiDocs        `json:"docs"`
	Type     json.RawMessage `json:"type"`
}

type typeRef struct {
	Primitive  string `json:"primitive"`
	FQN        string `json:"fqn"`
	Collection *struct {
		Kind        string  `json:"kind"`
		ElementType typeRef `json:"elementtype"`
	} `json:"collection"`
	Union *struct {
		Types []typeRef `json:"types"`
	} `json:"union"`
}

// Output: the shape of `terraform providers schema -json`.
type block struct {
	Attributes map[string]*attribute `json:"attributes,omitempty"`
	BlockTypes map[string]*nested    `json:"block_types,omitempty"`
}

type attribute struct {
	Type     any  `json:"type"`
	Required bool `json:"required,omitempty"`
	Optional bool `json:"optional,omitempty"`
	Computed bool `json:"computed,omitempty"`
}

type nested struct {
	NestingMode string `json:"nesting_mode"`
	MinItems    int    `json:"min_items,omitempty"`
	MaxItems    int    `json:"max_items,omitempty"`
	Block       *block `json:"block"`
}

type schema struct {
	Source      string            `json:"source"`
	Version     string            `json:"version"`
	From        string            `json:"from"`
	Provider    *block            `json:"provider"`
	Resources   map[string]*block `json:"resource_schemas"`
	DataSources map[string]*block `json:"data_source_schemas"`
}

var (
	representsRE = regexp.MustCompile(`Represents a \{@link https://registry\.terraform\.io/providers/([^/]+)/([^/]+)/([^/]+)/docs(?:/(resources|data-sources)/\S+)? ([a-z0-9_]+)\}`)
	argRE        = regexp.MustCompile(`\{@link https://registry\.terraform\.io/\S+#([a-z0-9_]+) `)
	usesRE       = regexp.MustCompile(`(?m)^\s*(resource|data)\s+"([a-z0-9_]+)"`)
)

type gen struct {
	types map[string]jsiiType
}

func main() {
	jsiiPath := flag.String("jsii", "", ".jsii file of a @cdktf/provider-* package")
	prefix := flag.String("prefix", "", "resource type prefix of the provider (aws_, azurerm_, google_, kubernetes_)")
	tfDirs := flag.String("tf", "", "comma-separated directories whose .tf/.tftest.hcl files name the resources and data sources to keep")
	extra := flag.String("extra", "", "comma-separated further resource (r:NAME) or data source (d:NAME) types to keep")
	out := flag.String("out", "", "output JSON file")
	flag.Parse()
	if *jsiiPath == "" || *prefix == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}

	raw, err := os.ReadFile(*jsiiPath)
	if err != nil {
		log.Fatal(err)
	}
	var asm struct {
		Name    string              `json:"name"`
		Version string              `json:"version"`
		Types   map[string]jsiiType `json:"types"`
	}
	if err := json.Unmarshal(raw, &asm); err != nil {
		log.Fatal(err)
	}
	g := &gen{types: asm.Types}

	wantR, wantD := map[string]bool{}, map[string]bool{}
	for _, dir := range strings.Split(*tfDirs, ",") {
		if dir == "" {
			continue
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tftest.hcl")) {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range usesRE.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasPrefix(m[2], *prefix) {
					continue
				}
				if m[1] == "resource" {
					wantR[m[2]] = true
				} else {
					wantD[m[2]] = true
				}
			}
			return nil
		})
	}
	for _, e := range strings.Split(*extra, ",") {
		switch {
		case strings.HasPrefix(e, "r:"):
			wantR[e[2:]] = true
		case strings.HasPrefix(e, "d:"):
			wantD[e[2:]] = true
		}
	}

	s := schema{From: asm.Name + "@" + asm.Version, Resources: map[string]*block{}, DataSources: map[string]*block{}}
	fqns := make([]string, 0, len(asm.Types))
	for f := range asm.Types {
		fqns = append(fqns, f)
	}
	sort.Strings(fqns)
	for _, f := range fqns {
		t := asm.Types[f]
		if t.Kind != "class" {
			continue
		}
		m := representsRE.FindStringSubmatch(t.Docs.Summary)
		if m == nil {
			continue
		}
		cfg := f + "Config"
		if _, ok := asm.Types[cfg]; !ok {
			continue
		}
		switch {
		case m[4] == "":
			s.Source = "registry.terraform.io/" + m[1] + "/" + m[2]
			s.Version = m[3]
			s.Provider = g.block(cfg, "", 0)
			delete(s.Provider.Attributes, "alias") // a meta-argument of every provider block
		case m[4] == "resources" && wantR[m[5]]:
			s.Resources[m[5]] = g.resource(cfg, f)
			delete(wantR, m[5])
		case m[4] == "data-sources" && wantD[m[5]]:
			s.DataSources[m[5]] = g.resource(cfg, f)
			delete(wantD, m[5])
		}
	}
	if len(wantR)+len(wantD) > 0 {
		log.Fatalf("not in %s: resources %v, data sources %v", asm.Name, keys(wantR), keys(wantD))
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s %s (%s): %d resources, %d data sources\n", *out, s.Source, s.Version, s.From, len(s.Resources), len(s.DataSources))
}

// resource is a resource's or data source's block; every one has a computed id.
func (g *gen) resource(cfg, class string) *block {
	b := g.block(cfg, class, 0)
	if a, ok := b.Attributes["id"]; ok {
		a.Computed, a.Required = true, false
		a.Optional = true
	} else {
		b.Attributes["id"] = &attribute{Type: "string", Computed: true}
	}
	return b
}

// block builds the block of a config struct; ref is the class (or output
// reference class) whose getters name the computed attributes.
func (g *gen) block(structFQN, ref string, depth int) *block {
	b := &block{Attributes: map[string]*attribute{}, BlockTypes: map[string]*nested{}}
	st := g.types[structFQN]
	args := map[string]bool{}
	for _, p := range st.Properties {
		name := tfName(p)
		args[snake(p.Name)] = true
		var tr typeRef
		json.Unmarshal(p.Type, &tr)
		if sf, list := g.structOf(tr); sf != "" && depth < 12 {
			n := &nested{NestingMode: "list", Block: g.block(sf, sf+"OutputReference", depth+1)}
			if !list {
				n.MaxItems = 1
			}
			if !p.Optional {
				n.MinItems = 1
			}
			b.BlockTypes[name] = n
			continue
		}
		b.Attributes[name] = &attribute{Type: g.ctyType(tr, depth), Required: !p.Optional, Optional: p.Optional}
		if p.Optional && ref != "" {
			b.Attributes[name].Computed = g.hasGetter(ref, p.Name)
		}
	}
	if ref == "" {
		return b
	}
	for _, p := range g.types[ref].Properties {
		if p.Static || strings.HasSuffix(p.Name, "Input") || args[snake(p.Name)] || internal[p.Name] {
			continue
		}
		var tr typeRef
		json.Unmarshal(p.Type, &tr)
		t := g.computedType(tr, depth)
		if t == nil {
			continue
		}
		b.Attributes[snake(p.Name)] = &attribute{Type: t, Computed: true}
	}
	return b
}

// internal getters of cdktf's base classes that are no attributes.
var internal = map[string]bool{"fqn": true, "internalValue": true, "creationStack": true, "terraformAttribute": true, "terraformResource": true}

func (g *gen) hasGetter(class, name string) bool {
	for _, p := range g.types[class].Properties {
		if p.Name == name && !p.Static {
			return true
		}
	}
	return false
}

// structOf returns the struct of a block-typed property and whether it is a list.
func (g *gen) structOf(t typeRef) (string, bool) {
	switch {
	case t.FQN != "" && g.types[t.FQN].Kind == "interface" && g.types[t.FQN].Datatype:
		return t.FQN, false
	case t.Union != nil:
		for _, u := range t.Union.Types {
			if u.Collection != nil && u.Collection.Kind == "array" {
				if s, _ := g.structOf(u.Collection.ElementType); s != "" {
					return s, true
				}
			}
		}
	}
	return "", false
}

// ctyType maps an argument's jsii type to a cty type (JSON form).
func (g *gen) ctyType(t typeRef, depth int) any {
	switch {
	case t.Primitive == "string" || t.Primitive == "date":
		return "string"
	case t.Primitive == "number":
		return "number"
	case t.Primitive == "boolean":
		return "bool"
	case t.Primitive != "":
		return "dynamic"
	case t.Collection != nil:
		kind := "list"
		if t.Collection.Kind == "map" {
			kind = "map"
			// A map of anything ({[key: string]: any}) is a dynamic value
			// (kubernetes_manifest's manifest, for one), not a map.
			if p := t.Collection.ElementType.Primitive; p == "any" || p == "json" {
				return "dynamic"
			}
		}
		if s, _ := g.structOf(t.Collection.ElementType); s != "" {
			return []any{kind, g.objectType(s, depth)}
		}
		return []any{kind, g.ctyType(t.Collection.ElementType, depth)}
	case t.Union != nil:
		for _, u := range t.Union.Types {
			if u.FQN != "cdktf.IResolvable" {
				return g.ctyType(u, depth)
			}
		}
	}
	return "dynamic"
}

// objectType is the object type of a struct (an attribute of object elements).
func (g *gen) objectType(s string, depth int) any {
	attrs := map[string]any{}
	for _, p := range g.types[s].Properties {
		var tr typeRef
		json.Unmarshal(p.Type, &tr)
		attrs[tfName(p)] = g.ctyType(tr, depth+1)
	}
	return []any{"object", attrs}
}

// computedType maps a getter's type; nil for getters that are no attribute.
func (g *gen) computedType(t typeRef, depth int) any {
	switch {
	case t.Primitive != "" || t.Collection != nil:
		return g.ctyType(t, depth)
	case t.FQN == "cdktf.IResolvable":
		return "bool"
	case t.FQN == "cdktf.StringMap":
		return []any{"map", "string"}
	case t.FQN == "cdktf.NumberMap":
		return []any{"map", "number"}
	case t.FQN == "cdktf.BooleanMap":
		return []any{"map", "bool"}
	case t.FQN == "cdktf.AnyMap":
		return []any{"map", "dynamic"}
	case depth >= 6 || g.types[t.FQN].Kind != "class":
		return nil
	case strings.HasSuffix(t.FQN, "List"):
		return g.refObject(strings.TrimSuffix(t.FQN, "List")+"OutputReference", "list", depth)
	case strings.HasSuffix(t.FQN, "Map"):
		return g.refObject(strings.TrimSuffix(t.FQN, "Map")+"OutputReference", "map", depth)
	case strings.HasSuffix(t.FQN, "OutputReference"):
		return g.refObject(t.FQN, "list", depth)
	}
	return nil
}

func (g *gen) refObject(ref, kind string, depth int) any {
	if _, ok := g.types[ref]; !ok {
		return nil
	}
	attrs := map[string]any{}
	for _, p := range g.types[ref].Properties {
		if p.Static || strings.HasSuffix(p.Name, "Input") || internal[p.Name] {
			continue
		}
		var tr typeRef
		json.Unmarshal(p.Type, &tr)
		if t := g.computedType(tr, depth+1); t != nil {
			attrs[snake(p.Name)] = t
		}
	}
	return []any{kind, []any{"object", attrs}}
}

// tfName is an argument's Terraform name: from its registry doc link, else
// its camelCase name in snake_case.
func tfName(p jsiiProp) string {
	for _, d := range []string{p.Docs.Summary, p.Docs.Remarks} {
		if m := argRE.FindStringSubmatch(d); m != nil {
			return m[1]
		}
	}
	return snake(p.Name)
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
