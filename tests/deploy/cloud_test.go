package deploy

import (
	"encoding/json"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// standin builds the schema-only stand-in provider (tests/deploy/standin) and
// installs it in a filesystem mirror as every provider that schemas/*.json
// describes (hashicorp/aws, azurerm, google, kubernetes, at the versions the
// schemas were extracted from). It returns the mirror directory.
func standin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "standin")
	out, err := exec.Command("go", "build", "-o", bin, "./standin").CombinedOutput()
	if err != nil {
		t.Fatalf("building the stand-in provider: %v\n%s", err, out)
	}
	schemas, err := filepath.Glob(filepath.Join("standin", "schemas", "*.json"))
	must(t, err)
	if len(schemas) == 0 {
		t.Fatal("no schemas in standin/schemas")
	}
	mirror := filepath.Join(dir, "mirror")
	for _, s := range schemas {
		b, err := os.ReadFile(s)
		must(t, err)
		var head struct{ Source, Version string }
		must(t, json.Unmarshal(b, &head))
		name := strings.TrimSuffix(filepath.Base(s), ".json")
		if !strings.HasSuffix(head.Source, "/"+name) || head.Version == "" {
			t.Fatalf("%s: source %q, version %q: want .../%s and a version", s, head.Source, head.Version, name)
		}
		pd := filepath.Join(mirror, head.Source, head.Version, runtime.GOOS+"_"+runtime.GOARCH)
		must(t, os.MkdirAll(pd, 0o755))
		copyFile(t, bin, filepath.Join(pd, "terraform-provider-"+name+"_v"+head.Version), 0o755)
	}
	return mirror
}

// repoCopy copies modules/, scripts/render and examples/ of the repository into
// a temporary directory, keeping the layout the relative module sources need.
func repoCopy(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	tmp := t.TempDir()
	for _, d := range []string{"modules", "examples", filepath.Join("scripts", "render")} {
		must(t, os.CopyFS(filepath.Join(tmp, d), os.DirFS(filepath.Join(repo, d))))
	}
	return tmp
}

// TestCloudModules runs, offline, every deployment module's `terraform test`
// suite (modules/*/tests, scripts/render/tests: node and drive counts, zone
// spreading, KMS keys and the identities allowed to use them, the cloud-init
// and server command line each node gets, validation errors for bad input)
// with the stand-in providers from a filesystem mirror, and `terraform
// validate` of every example. The mock_provider blocks of the tests make up
// the values a real apply would return; no cloud is reached and none is
// applied for real, here or in CI.
func TestCloudModules(t *testing.T) {
	tf := terraformPath(t)
	mirror := standin(t)
	tmp := repoCopy(t)
	mirrors := map[string]string{"registry.terraform.io/hashicorp/*": mirror}

	suites := []string{"scripts/render", "modules/onprem", "modules/aws", "modules/azure", "modules/gcp", "modules/kubernetes"}
	for _, dir := range suites {
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			r := newTerraform(t, tf, filepath.Join(tmp, dir), mirrors)
			r.run("init", "-no-color", "-backend=false")
			r.run("validate", "-no-color")
			out := r.run("test", "-no-color")
			t.Logf("%s", lastLines(out, 2))
			if !strings.Contains(out, " passed, 0 failed") || strings.Contains(out, "Success! 0 passed") {
				t.Errorf("terraform test in %s:\n%s", dir, out)
			}
		})
	}

	// Formatting, and READMEs that document every input and output.
	t.Run("fmt_and_readmes", func(t *testing.T) {
		r := newTerraform(t, tf, tmp, nil)
		if out, err := r.try("fmt", "-check", "-recursive", "-no-color", "modules", "examples", "scripts"); err != nil {
			t.Errorf("terraform fmt -check: %v; files to format:\n%s", err, out)
		}
		decl := regexp.MustCompile(`(?m)^(variable|output) "([^"]+)"`)
		for _, dir := range suites {
			readme, err := os.ReadFile(filepath.Join(tmp, dir, "README.md"))
			must(t, err)
			tfs, _ := filepath.Glob(filepath.Join(tmp, dir, "*.tf"))
			for _, f := range tfs {
				b, err := os.ReadFile(f)
				must(t, err)
				for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
					if !strings.Contains(string(readme), "| `"+m[2]+"` |") {
						t.Errorf("%s/README.md does not document %s %q", dir, m[1], m[2])
					}
				}
			}
		}
	})

	examples, err := filepath.Glob(filepath.Join(tmp, "examples", "*"))
	must(t, err)
	for _, ex := range examples {
		name := filepath.Base(ex)
		if name == "local" { // applied for real by TestLocalExample (needs cairn/cairn)
			continue
		}
		t.Run("examples_"+name, func(t *testing.T) {
			r := newTerraform(t, tf, ex, mirrors)
			r.run("init", "-no-color", "-backend=false")
			r.run("validate", "-no-color")
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
