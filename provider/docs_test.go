package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// tfplugindocs is the documentation generator `make docs` runs.
const tfplugindocs = "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v0.24.0"

// updateDocsEnv, set to 1, makes TestDocsCurrent write the generated pages into
// provider/docs instead of failing on a difference.
const updateDocsEnv = "CAIRN_UPDATE_DOCS"

// TestDocsCurrent regenerates the provider documentation into a temporary
// directory, exactly as `make docs` does (tfplugindocs, from the schema and
// provider/examples), and fails if provider/docs differs: a schema description
// or an example changed without `make docs`.
//
// The schema comes from this package's provider served in-process to the real
// terraform (`terraform providers schema -json` over TF_REATTACH_PROVIDERS), so
// the check needs neither the cairn binary nor a registry. tfplugindocs runs
// with `go run`, from the module cache (or the Go proxy the first time).
func TestDocsCurrent(t *testing.T) {
	tf := needTerraform(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	t.Parallel()
	tmp := t.TempDir()
	schema := filepath.Join(tmp, "schema.json")
	must(t, os.WriteFile(schema, providerSchemaJSON(t, tf), 0o644))
	site := filepath.Join(tmp, "site")
	must(t, os.CopyFS(filepath.Join(site, "provider", "examples"), os.DirFS("examples")))
	if _, err := os.Stat("templates"); err == nil {
		must(t, os.CopyFS(filepath.Join(site, "provider", "templates"), os.DirFS("templates")))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "run", tfplugindocs, "generate",
		"--provider-dir", site, "--provider-name", "cairn", "--providers-schema", schema,
		"--examples-dir", "provider/examples", "--website-source-dir", "provider/templates",
		"--rendered-website-dir", "provider/docs", "--website-temp-dir", filepath.Join(tmp, "work"))
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CHECKPOINT_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfplugindocs generate: %v\n%s", err, out)
	}
	generated := filepath.Join(site, "provider", "docs")

	if os.Getenv(updateDocsEnv) == "1" {
		must(t, os.RemoveAll("docs"))
		must(t, os.CopyFS("docs", os.DirFS(generated)))
		t.Logf("wrote provider/docs")
		return
	}
	if diffs := diffTrees(t, "docs", generated); len(diffs) > 0 {
		t.Errorf("provider/docs is not current; run `make docs` (or %s=1 go test -run TestDocsCurrent ./provider):\n  %s",
			updateDocsEnv, strings.Join(diffs, "\n  "))
	}
}

// diffTrees lists the files that differ between two directory trees.
func diffTrees(t *testing.T, have, want string) []string {
	t.Helper()
	read := func(root string) map[string][]byte {
		files := map[string][]byte{}
		must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = b
			return err
		}))
		return files
	}
	h, w := read(have), read(want)
	var diffs []string
	for name, b := range w {
		switch hb, ok := h[name]; {
		case !ok:
			diffs = append(diffs, name+": missing")
		case !bytes.Equal(hb, b):
			diffs = append(diffs, name+": "+firstDifference(hb, b))
		}
	}
	for name := range h {
		if _, ok := w[name]; !ok {
			diffs = append(diffs, name+": not generated any more (delete it)")
		}
	}
	slices.Sort(diffs)
	return diffs
}

// firstDifference describes the first line where have and want differ.
func firstDifference(have, want []byte) string {
	hl, wl := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(hl), len(wl)) {
		var h, w string
		if i < len(hl) {
			h = hl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if h != w {
			return fmt.Sprintf("line %d is\n      %q\n    want\n      %q", i+1, h, w)
		}
	}
	return "differs"
}

// providerSchemaJSON serves the provider in-process and returns what
// `terraform providers schema -json` says about it, under the address
// tfplugindocs looks for (registry.terraform.io/hashicorp/cairn).
func providerSchemaJSON(t *testing.T, tf string) []byte {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattachCh := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- tf6server.Serve(Address, providerserver.NewProtocol6(New("docs")()),
			tf6server.WithDebug(ctx, reattachCh, closed), tf6server.WithLoggingSink(t),
			tf6server.WithGoPluginLogger(hclog.New(&hclog.LoggerOptions{Output: io.Discard})))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Errorf("the in-process provider did not stop")
		}
	})
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattachCh:
	case err := <-served:
		t.Fatalf("serving the provider: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the in-process provider")
	}
	reattach, err := json.Marshal(map[string]any{Address: map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": rc.Test,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	must(t, err)

	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(`
terraform {
  required_providers {
    cairn = { source = "cairn/cairn" }
  }
}
`), 0o644))
	cli := filepath.Join(dir, "terraformrc")
	must(t, os.WriteFile(cli, nil, 0o644))
	run := func(args ...string) []byte {
		cmd := exec.Command(tf, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(reattach), "TF_CLI_CONFIG_FILE="+cli,
			"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
		}
		return out
	}
	run("init", "-backend=false")
	var schemas struct {
		FormatVersion string                     `json:"format_version"`
		Schemas       map[string]json.RawMessage `json:"provider_schemas"`
	}
	must(t, json.Unmarshal(run("providers", "schema", "-json"), &schemas))
	s, ok := schemas.Schemas[Address]
	if !ok {
		t.Fatalf("terraform reports no schema for %s", Address)
	}
	out, err := json.Marshal(map[string]any{
		"format_version":   schemas.FormatVersion,
		"provider_schemas": map[string]json.RawMessage{"registry.terraform.io/hashicorp/cairn": s},
	})
	must(t, err)
	return out
}
