// Command gen writes Cairn's Grafana dashboards (grafana/dashboards/*.json) and
// grafana/README.md from the definitions in this package, so that panels, queries
// and the documentation come from one source. Run it from the module root:
//
//	go run ./grafana/gen
//
// `go test ./grafana/gen` fails when the checked-in files differ from its output,
// when a query names a metric the server does not export (grafana/METRICS.md), and
// when the alert rules fail `promtool check rules` or `promtool test rules`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	dir := flag.String("dir", "grafana", "the grafana directory to write into")
	flag.Parse()
	files, err := generate(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(*dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", p)
	}
}

// generate returns every generated file by its path under the grafana directory.
// It reads the alert rules from dir to document them.
func generate(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	bs := boards()
	for _, b := range bs {
		js, err := b.build()
		if err != nil {
			return nil, err
		}
		files[filepath.Join("dashboards", b.file)] = js
	}
	rules, err := os.ReadFile(filepath.Join(dir, "alerts", "cairn.rules.yml"))
	if err != nil {
		return nil, err
	}
	readme, err := renderReadme(bs, rules)
	if err != nil {
		return nil, err
	}
	files["README.md"] = readme
	return files, nil
}
