package metrics

import (
	"bytes"
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/s3api"
)

var update = flag.Bool("update", false, "rewrite grafana/METRICS.md from the registry")

// metricsDoc is grafana/METRICS.md, relative to this package.
var metricsDoc = filepath.Join("..", "..", "..", "grafana", "METRICS.md")

// exercised returns a registry in which every metric has at least one series: a
// cluster with per-bucket usage after a usage scan, S3 traffic with an error, and
// drive traffic.
func exercised(t *testing.T) *testCluster {
	t.Helper()
	cert := &x509.Certificate{NotAfter: time.Unix(2e9, 0)}
	tc := newTestCluster(t, 6, Options{
		BucketUsage: true, UsageInterval: time.Nanosecond, Version: "doc",
		Certificate: func() *x509.Certificate { return cert },
	})
	tc.put(t, "docs", "a", 10)
	tc.m.WatchKMS(func(context.Context) error { return nil }, time.Hour)
	tc.m.WatchLifecycle(Lifecycle{
		Worker: func() lifecycle.Stats {
			return lifecycle.Stats{Actions: map[lifecycle.ActionType]int64{}, Failed: map[lifecycle.ActionType]int64{}}
		},
		Tiers: func() objects.TierStats { return objects.TierStats{} },
	})
	o := tc.m.S3()
	o.Begin()
	o.End(s3api.RequestStats{API: "GetObject", Status: 404, ErrorCode: "NoSuchKey", Duration: time.Millisecond, TTFB: time.Millisecond})
	if err := tc.drives[0].Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		got := gather(t, tc.m.Registry())
		if _, ok := got["cairn_bucket_usage_objects"]; !ok {
			return fmt.Errorf("usage scan not done")
		}
		if _, ok := got["cairn_kms_up"]; !ok {
			return fmt.Errorf("KMS not checked yet")
		}
		return nil
	})
	return tc
}

// TestMetricsDoc keeps grafana/METRICS.md equal to what the registry exports
// (regenerate with -update).
func TestMetricsDoc(t *testing.T) {
	tc := exercised(t)
	mfs, err := tc.m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := renderDoc(mfs)
	if *update {
		if err := os.WriteFile(metricsDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./server/internal/metrics -run TestMetricsDoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("grafana/METRICS.md is stale; regenerate with: go test ./server/internal/metrics -run TestMetricsDoc -update\n--- generated:\n%s", got)
	}
}

// TestPromtoolCheckMetrics lints the exposition with Prometheus's own checker.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
	}
	tc := exercised(t)
	mfs, err := tc.m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &text
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func renderDoc(mfs []*dto.MetricFamily) []byte {
	var b bytes.Buffer
	b.WriteString(`# Cairn metrics

<!-- Generated from the server's registry by server/internal/metrics/doc_test.go. Do not edit:
     go test ./server/internal/metrics -run TestMetricsDoc -update -->

Every metric ` + "`cairn server`" + ` exports on ` + "`GET /metrics`" + ` (bearer token required unless
` + "`--metrics-public`" + `; see [README.md](README.md)). Names follow the Prometheus conventions:
units in the name, ` + "`_total`" + ` for counters, histograms for latencies.

**Scope.** *Node-local* series describe the node that serves them (the requests it
served, the calls it made to drives, its process): sum them across instances.
*Cluster-wide* series describe the whole cluster (every drive's state and capacity,
erasure sets, usage) and every node reports them: aggregate with ` + "`max`" + ` (` + "`min`" + ` for
` + "`cairn_drive_online`" + `) ` + "`by (pool, set, drive)`" + ` or ` + "`by (pool, set)`" + `, never ` + "`sum`" + ` across nodes.
The ` + "`drive`" + ` label is the endpoint as given on the command line, the same on every node.

**Labels** are bounded: ` + "`api`" + ` (S3 operation names), ` + "`code`" + ` (HTTP status),
` + "`error_code`" + ` (S3 error codes), ` + "`op`" + ` (drive operations), ` + "`kind`" + ` (drive error class),
` + "`drive`" + ` (path or endpoint), ` + "`pool`" + ` and ` + "`set`" + ` (indexes), ` + "`action`" + ` (lifecycle actions). Object keys never appear;
bucket names only in the ` + "`cairn_bucket_usage_*`" + ` series, exported with ` + "`--metrics-bucket-usage`" + `.

`)
	var cairn, std []*dto.MetricFamily
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			cairn = append(cairn, mf)
		} else {
			std = append(std, mf)
		}
	}
	b.WriteString("## Cairn\n\n| metric | type | labels | scope | meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, mf := range cairn {
		scope, help := splitScope(mf.GetHelp())
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", mf.GetName(), strings.ToLower(mf.GetType().String()),
			labelList(mf), scope, escapeCell(help))
	}
	b.WriteString("\n## Go runtime and process\n\nFrom client_golang's standard Go and process collectors; all node-local.\n\n| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n")
	for _, mf := range std {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", mf.GetName(), strings.ToLower(mf.GetType().String()),
			labelList(mf), escapeCell(mf.GetHelp()))
	}
	return b.Bytes()
}

// splitScope separates the "Node-local." / "Cluster-wide." prefix of a help text.
func splitScope(help string) (scope, rest string) {
	for _, s := range []string{"Node-local", "Cluster-wide"} {
		if r, ok := strings.CutPrefix(help, s+". "); ok {
			return strings.ToLower(s), r
		}
	}
	return "", help
}

func labelList(mf *dto.MetricFamily) string {
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			seen[lp.GetName()] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, "`"+n+"`")
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return strings.Join(slices.Compact(names), ", ")
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
