package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestDockerfile checks the repository's Dockerfile without a Docker engine:
//
//  1. its go build line is the Makefile's `make static` command (the same
//     environment and flags; GOOS/GOARCH come from the build platform there);
//  2. the build stage's Go is the go.mod's, the final stage is distroless (or
//     scratch), runs as a non-root user and its entrypoint is the copied binary;
//  3. with CGO_ENABLED=0 every package of the binary resolves (nothing needs cgo);
//  4. the static binary `make static` built (make cross, before the tests in
//     `make test`) is a static ELF without an interpreter or shared libraries,
//     and it runs.
func TestDockerfile(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	df, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	must(t, err)
	mk, err := os.ReadFile(filepath.Join(repo, "Makefile"))
	must(t, err)

	// Instructions, with continuation lines joined.
	var instr []string
	for _, l := range strings.Split(strings.ReplaceAll(string(df), "\\\n", " "), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			instr = append(instr, l)
		}
	}
	var froms, runs, copies []string
	var user, entrypoint string
	for _, l := range instr {
		op, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(op) {
		case "FROM":
			froms = append(froms, rest)
		case "RUN":
			runs = append(runs, rest)
		case "COPY":
			copies = append(copies, rest)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		}
	}

	// 1. The build line against the Makefile.
	var dockerBuild []string
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			dockerBuild = words(t, r)
		}
	}
	if dockerBuild == nil {
		t.Fatal("Dockerfile: no RUN … go build")
	}
	vars := map[string]string{"GO": "go"}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)\s*[:?]?=\s*(.*)$`).FindAllStringSubmatch(string(mk), -1) {
		if m[1] != "GO" {
			vars[m[1]] = strings.TrimSpace(m[2])
		}
	}
	recipe := regexp.MustCompile(`(?m)^static:.*\n\t(.*)$`).FindStringSubmatch(string(mk))
	if recipe == nil {
		t.Fatal("Makefile: no static target")
	}
	expanded := recipe[1]
	for i := 0; i < 3; i++ { // nested $(VAR)s
		for k, v := range vars {
			expanded = strings.ReplaceAll(expanded, "$("+k+")", v)
		}
	}
	makeBuild := words(t, expanded)
	if a, b := normalizeBuild(dockerBuild), normalizeBuild(makeBuild); !slices.Equal(a, b) {
		t.Errorf("the Dockerfile builds with\n  %q\nthe Makefile's static target with\n  %q", a, b)
	}
	if !slices.Contains(dockerBuild, "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile's build is not static (no CGO_ENABLED=0): %q", dockerBuild)
	}

	// 2. Stages.
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	must(t, err)
	gover := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if len(froms) != 2 {
		t.Fatalf("want two stages (build, final), got FROM %q", froms)
	}
	if gover == nil || !strings.Contains(froms[0], "golang:"+string(gover[1])) || !strings.HasSuffix(froms[0], " AS build") {
		t.Errorf("build stage %q: want golang:%s … AS build", froms[0], gover[1])
	}
	if !strings.HasPrefix(froms[1], "gcr.io/distroless/static") && froms[1] != "scratch" {
		t.Errorf("final stage %q: want distroless static or scratch", froms[1])
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("final stage runs as %q, want a non-root user", user)
	}
	var binPath string
	for _, c := range copies {
		if f := strings.Fields(c); len(f) == 3 && f[0] == "--from=build" && f[1] == "/out/cairn" {
			binPath = f[2]
		}
	}
	if binPath == "" || !slices.Contains(dockerBuild, "/out/cairn") || entrypoint != `["`+binPath+`"]` {
		t.Errorf("the built /out/cairn must be copied to the entrypoint: COPY %q, ENTRYPOINT %s", copies, entrypoint)
	}

	// 3. Nothing needs cgo.
	cmd := exec.Command("go", "list", "-e", "-deps", "-f", "{{if or .Error .DepsErrors}}{{.ImportPath}}: {{.Error}} {{.DepsErrors}}{{end}}", "github.com/cairn-io/cairn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("CGO_ENABLED=0 go list -deps: %v\n%s", err, out)
	}

	// 4. The binary of `make static`.
	bin := filepath.Join(repo, "bin", "cairn-static")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: make test runs make cross (and so make static) before the tests", bin)
		}
		t.Skipf("%s missing: run `make static` to check the binary too", bin)
	}
	f, err := elf.Open(bin)
	must(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it is dynamically linked", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", bin, libs)
	}
	if runtime.GOOS == "linux" {
		out, err := exec.Command(bin, "server", "--help").CombinedOutput()
		if !strings.Contains(string(out), "usage: cairn server") {
			t.Errorf("%s server --help: %v\n%s", bin, err, out)
		}
	}
}

// normalizeBuild keeps what decides the binary: the environment (but GOOS and
// GOARCH, set from the build platform in the Dockerfile), the go command and
// its flags, without the output path.
func normalizeBuild(w []string) []string {
	var env, cmd []string
	for i := 0; i < len(w); i++ {
		switch {
		case len(cmd) == 0 && strings.Contains(w[i], "="):
			if !strings.HasPrefix(w[i], "GOOS=") && !strings.HasPrefix(w[i], "GOARCH=") {
				env = append(env, w[i])
			}
		case w[i] == "-o":
			i++
		default:
			cmd = append(cmd, w[i])
		}
	}
	slices.Sort(env)
	return append(env, cmd...)
}

// words splits a shell command line: blanks separate words, quotes group them.
func words(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
