package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/layout"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// testCluster is an object layer over n local temp-dir drives, each wrapped by m.
type testCluster struct {
	m      *Metrics
	layer  *objects.Layer
	roots  []string
	lay    layout.Layout
	drives []drive.Drive // wrapped, in order
}

func newTestCluster(t *testing.T, n int, opts Options) *testCluster {
	t.Helper()
	lay, err := layout.Plan(n, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := New(opts)
	t.Cleanup(m.Close)
	tc := &testCluster{m: m, lay: lay}
	g := drive.NewSyncGroup()
	sets := make([][]drive.Drive, lay.SetCount)
	for i := range n {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("d%d", i+1))
		ld := openLocal(t, root, g)
		set, _ := layout.SetOf(i, lay)
		d := m.WrapDrive(ld, 0, set, "")
		sets[set] = append(sets[set], d)
		tc.roots = append(tc.roots, root)
		tc.drives = append(tc.drives, d)
	}
	tc.layer, err = objects.New(objects.Config{Sets: sets, Parity: lay.ParityShards, DeploymentID: "metrics-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.layer.Close() })
	m.Watch(tc.layer)
	return tc
}

func openLocal(t *testing.T, root string, g *drive.SyncGroup) *drive.Local {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	ld, err := drive.OpenLocal(root, g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ld.Close() })
	return ld
}

func (tc *testCluster) put(t *testing.T, bucket, key string, size int) {
	t.Helper()
	ctx := context.Background()
	if _, err := tc.layer.HeadBucket(ctx, bucket); err != nil {
		if err := tc.layer.MakeBucket(ctx, bucket, objects.BucketConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tc.layer.PutObject(ctx, bucket, key, bytes.NewReader(make([]byte, size)), objects.PutOptions{Size: int64(size)}); err != nil {
		t.Fatal(err)
	}
}

// gather returns the registry's families by name.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the one series of family name whose labels include
// want ("k=v" pairs); it fails unless exactly one matches.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	var found []float64
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Gauge != nil:
			found = append(found, m.Gauge.GetValue())
		case m.Counter != nil:
			found = append(found, m.Counter.GetValue())
		case m.Histogram != nil:
			found = append(found, float64(m.Histogram.GetSampleCount()))
		default:
			found = append(found, m.Untyped.GetValue())
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series match, want 1", name, want, len(found))
	}
	return found[0]
}

func hasLabels(m *dto.Metric, want []string) bool {
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		ok := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// scrape GETs /metrics from h with the given Authorization header ("" for none).
func scrape(t *testing.T, h http.Handler, auth string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, Path, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

// eventually retries f until it returns nil or d passes.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
