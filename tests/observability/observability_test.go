//go:build linux

package observability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

// grafanaDir holds the dashboards and alert rules under test.
var grafanaDir = filepath.Join("..", "..", "grafana")

// Substitutions for Grafana's built-in variables. With a 1 s scrape interval,
// Grafana's $__rate_interval would be 4 s; 10 s leaves room for a late scrape.
var builtins = map[string]string{
	"$__rate_interval": "10s",
	"$__interval":      "2s",
	"$__range":         "5m",
}

// tools returns the paths of prometheus and promtool, skipping with -short.
func tools(t *testing.T) (prom, promtool string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the cairn binary and Prometheus; skipped with -short")
	}
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: apt-get install prometheus (.ci/run does)")
	}
	promtool, err = exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not installed: apt-get install prometheus (.ci/run does)")
	}
	return prom, promtool
}

// serverArgs: per-bucket usage for the Buckets dashboard, and usage scans as often
// as the test scrapes.
var serverArgs = []string{"--metrics-bucket-usage", "--metrics-usage-interval", "1s"}

// scrapeAll starts Prometheus scraping every node of nodes with the token and the
// real alert rules, drives traffic through the first node, and waits until
// Prometheus holds enough samples of every kind for the dashboards' queries.
func scrapeAll(t *testing.T, promBin string, nodes []*servertest.Process) *promServer {
	t.Helper()
	token := server.MetricsToken(nodes[0].AccessKey, nodes[0].SecretKey)
	tr := startTraffic(t, nodes[0])
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs(filepath.Join(grafanaDir, "alerts", "cairn.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := promConfig{tokenFile: tokenFile, rules: []string{rules}}
	for _, n := range nodes {
		cfg.targets = append(cfg.targets, n.Addr)
	}
	ps := startPrometheus(t, promBin, cfg)
	waitFor(t, 30*time.Second, "targets up", func() error {
		ts, err := ps.targets()
		if err != nil {
			return err
		}
		if len(ts) != len(nodes) {
			return fmt.Errorf("targets %+v", ts)
		}
		for _, tg := range ts {
			if tg.Health != "up" {
				return fmt.Errorf("targets %+v", ts)
			}
		}
		return nil
	})
	// Enough scrapes for rates over $__rate_interval, traffic of every kind, and a
	// usage scan that saw the objects.
	waitFor(t, 60*time.Second, "scrapes with traffic", func() error {
		for _, expr := range []string{
			`count_over_time(up{job="cairn"}[1m]) >= 8`,
			`cairn_usage_objects{job="cairn"} > 0`,
			`cairn_bucket_usage_objects{job="cairn"} > 0`,
			`cairn_s3_request_errors_total{job="cairn", error_code="NoSuchKey"} > 0`,
		} {
			if r, err := ps.query(expr); err != nil || len(r) == 0 {
				return fmt.Errorf("%s: %v %v", expr, r, err)
			}
		}
		return nil
	})
	if n := tr.ops(); n == 0 {
		t.Fatal("no S3 traffic went through")
	}
	return ps
}

// checkDashboards runs promtool check metrics on a scrape of p, checks that the
// dashboards name only metrics Prometheus ingested, and runs every panel query.
func checkDashboards(t *testing.T, ps *promServer, promtool string, p *servertest.Process) {
	t.Run("promtool check metrics", func(t *testing.T) {
		body := scrape(t, p, server.MetricsToken(p.AccessKey, p.SecretKey))
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	})
	dashboards := loadDashboards(t)
	t.Run("dashboards reference exported metrics only", func(t *testing.T) {
		exported := map[string]bool{}
		names, err := ps.labelValues("__name__", `{job="cairn"}`)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			exported[n] = true
		}
		exported["up"] = true // Prometheus's own, per target
		for _, d := range dashboards {
			for _, m := range d.metrics() {
				if !exported[m] {
					t.Errorf("%s references %s, which the server does not export", d.Title, m)
				}
			}
		}
	})
	t.Run("every panel query returns series", func(t *testing.T) {
		for _, d := range dashboards {
			vars := resolveVariables(t, ps, d)
			t.Logf("%s: %d queries, variables %v", d.Title, len(d.queries()), vars)
			for _, pq := range d.queries() {
				expr := substitute(pq.expr, vars)
				r, err := ps.query(expr)
				switch {
				case err != nil:
					t.Errorf("%s / %s: %s: %v", d.Title, pq.panel, expr, err)
				case len(r) == 0:
					t.Errorf("%s / %s: %s: no series", d.Title, pq.panel, expr)
				}
			}
		}
	})
}

// waitAlert waits until alert name is pending or firing with the given labels.
func waitAlert(t *testing.T, ps *promServer, name string, labels map[string]string) {
	t.Helper()
	waitFor(t, 60*time.Second, name+" pending or firing", func() error {
		as, err := ps.alerts()
		if err != nil {
			return err
		}
	next:
		for _, a := range as {
			if a.Labels["alertname"] != name || (a.State != "pending" && a.State != "firing") {
				continue
			}
			for k, v := range labels {
				if a.Labels[k] != v {
					continue next
				}
			}
			t.Logf("%s %s %v", name, a.State, labels)
			return nil
		}
		return fmt.Errorf("alerts: %+v", as)
	})
}

// value runs expr and returns its single result as a string.
func value(t *testing.T, ps *promServer, expr string) string {
	t.Helper()
	r, err := ps.query(expr)
	if err != nil || len(r) != 1 {
		t.Fatalf("%s: %+v %v", expr, r, err)
	}
	s, _ := r[0].Value[1].(string)
	return s
}

func TestSingleNode(t *testing.T) {
	promBin, promtool := tools(t)
	p := servertest.StartProcess(t, servertest.ProcOptions{Args: serverArgs})
	checkAuth(t, p, server.MetricsToken(p.AccessKey, p.SecretKey))
	ps := scrapeAll(t, promBin, []*servertest.Process{p})
	checkDashboards(t, ps, promtool, p)

	t.Run("drive offline alert", func(t *testing.T) {
		gone := p.Drives[len(p.Drives)-1]
		// Traffic keeps writing into the drive while it is removed: retry until the
		// directory itself is gone.
		waitFor(t, 10*time.Second, "removing "+gone, func() error { return os.RemoveAll(gone) })
		waitAlert(t, ps, "CairnDriveOffline", map[string]string{"drive": gone})
		// The erasure set reports one drive fewer: one less write-quorum margin.
		if v := value(t, ps, `cairn_erasure_set_drives_online{job="cairn"} - cairn_erasure_set_write_quorum{job="cairn"}`); v != "1" {
			t.Errorf("write-quorum margin after losing a drive: %s, want 1", v)
		}
	})
}

// TestCluster: three nodes with two drives each (one 4+2 set), all scraped. Every
// node reports every drive; the dashboards' aggregations count each drive once.
// Killing a node makes CairnNodeDown and CairnDriveOffline (for its drives, as the
// other nodes see them) go pending.
func TestCluster(t *testing.T) {
	promBin, promtool := tools(t)
	const n, perNode = 3, 2
	dir := t.TempDir()
	addrs := make([]string, n)
	var patterns []string
	for i := range addrs {
		addrs[i] = servertest.FreeAddr(t)
		patterns = append(patterns, fmt.Sprintf("http://%s%s/d{1...%d}", addrs[i], filepath.Join(dir, fmt.Sprintf("n%d", i+1)), perNode))
	}
	pool := strings.Join(patterns, ",")
	nodes := make([]*servertest.Process, n)
	// Start in reverse order: the others wait for the first node, which formats.
	for i := n - 1; i >= 0; i-- {
		nodes[i] = servertest.StartProcess(t, servertest.ProcOptions{DriveArgs: []string{pool}, Address: addrs[i], Args: serverArgs})
	}
	for _, p := range nodes {
		waitFor(t, 60*time.Second, p.Addr+" ready", func() error {
			resp, err := http.Get(p.URL + "/cairn/health/ready")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return errors.New(resp.Status)
			}
			return nil
		})
	}
	ps := scrapeAll(t, promBin, nodes)
	checkDashboards(t, ps, promtool, nodes[0])

	t.Run("cluster-wide series counted once", func(t *testing.T) {
		for _, c := range []struct{ expr, want string }{
			{`count(count by (instance) (cairn_build_info{job="cairn"}))`, "3"},
			// Every node reports all six drives: 18 series for six drives.
			{`count(cairn_drive_online{job="cairn"})`, "18"},
			{`count(count by (drive) (cairn_drive_capacity_bytes{job="cairn"}) == 3)`, "6"},
			// The dashboards' aggregations count each drive and set once.
			{`count(min by (pool, set, drive) (cairn_drive_online{job="cairn"}) == 1)`, "6"},
			{`count(max by (pool, set) (cairn_erasure_set_drives{job="cairn"}))`, "1"},
			{`max by (pool, set) (cairn_erasure_set_drives_online{job="cairn"})`, "6"},
			// The nodes agree on the cluster-wide values.
			{`count(stddev by (pool, set) (cairn_erasure_set_usable_capacity_bytes{job="cairn"}) > 0) or vector(0)`, "0"},
		} {
			if got := value(t, ps, c.expr); got != c.want {
				t.Errorf("%s = %s, want %s", c.expr, got, c.want)
			}
		}
	})

	t.Run("node down", func(t *testing.T) {
		down := nodes[n-1]
		down.Kill()
		waitAlert(t, ps, "CairnNodeDown", map[string]string{"instance": down.Addr})
		for _, d := range nodeDrives(pool, down.Addr, perNode) {
			waitAlert(t, ps, "CairnDriveOffline", map[string]string{"drive": d})
		}
	})
}

// nodeDrives returns the drive labels (endpoints) of the node at addr.
func nodeDrives(pool, addr string, perNode int) []string {
	for _, p := range strings.Split(pool, ",") {
		if base, ok := strings.CutPrefix(p, "http://"+addr); ok {
			base = strings.TrimSuffix(base, fmt.Sprintf("/d{1...%d}", perNode))
			var out []string
			for j := 1; j <= perNode; j++ {
				out = append(out, fmt.Sprintf("http://%s%s/d%d", addr, base, j))
			}
			return out
		}
	}
	return nil
}

// checkAuth: /metrics refuses scrapes without the token, and `cairn admin
// metrics-token` prints the token the server accepts.
func checkAuth(t *testing.T, p *servertest.Process, token string) {
	t.Helper()
	for _, auth := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || bytes.Contains(body, []byte("cairn_")) {
			t.Fatalf("scrape with Authorization %q: %s", auth, resp.Status)
		}
	}
	bin, err := servertest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "admin", "metrics-token")
	cmd.Env = append(os.Environ(), "CAIRN_ROOT_USER="+p.AccessKey, "CAIRN_ROOT_PASSWORD="+p.SecretKey)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cairn admin metrics-token: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != token {
		t.Fatalf("cairn admin metrics-token printed %q, want the server's token", got)
	}
	if len(scrape(t, p, token)) == 0 {
		t.Fatal("empty scrape")
	}
}

func scrape(t *testing.T, p *servertest.Process, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %v", resp.Status, err)
	}
	return body
}

// traffic runs S3 requests of many kinds until its context ends: writes of inline,
// erasure-coded and multipart objects, reads, heads, listings, deletes, and
// requests that fail with NoSuchKey and NoSuchBucket.
type traffic struct {
	wg sync.WaitGroup
	mu sync.Mutex
	n  int
}

func (tr *traffic) ops() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}

// startTraffic starts the requests; they stop when the test ends.
func startTraffic(t *testing.T, p *servertest.Process) *traffic {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := p.Client(func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
	for _, b := range []string{"photos", "logs"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	multipart(ctx, t, c, "photos", "big/multipart.bin")
	tr := &traffic{}
	t.Cleanup(func() { cancel(); tr.wg.Wait() })
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		sizes := []int{100, 200 << 10, 1<<20 + 17}
		for i := 0; ctx.Err() == nil; i++ {
			bucket := []string{"photos", "logs"}[i%2]
			key := fmt.Sprintf("k/%d", i%20)
			body := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
			ops := []func() error{
				func() error {
					_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
					return err
				},
				func() error {
					o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
					if err != nil {
						return err
					}
					defer o.Body.Close()
					_, err = io.Copy(io.Discard, o.Body)
					return err
				},
				func() error {
					_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
					return err
				},
				func() error {
					_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("k/")})
					return err
				},
				func() error {
					_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("missing")})
					var nsk *types.NoSuchKey
					if !errors.As(err, &nsk) {
						return fmt.Errorf("GET of a missing key: %v", err)
					}
					return nil
				},
				func() error {
					_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
					if err == nil {
						return errors.New("HEAD of a missing bucket succeeded")
					}
					return nil
				},
			}
			if i%10 == 9 {
				ops = append(ops, func() error {
					_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
					return err
				})
			}
			for _, op := range ops {
				if err := op(); err != nil && ctx.Err() == nil {
					t.Logf("traffic: %v", err)
				}
				tr.mu.Lock()
				tr.n++
				tr.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return tr
}

func multipart(ctx context.Context, t *testing.T, c *s3.Client, bucket, key string) {
	t.Helper()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		r, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(bytes.Repeat([]byte{byte(n)}, 5<<20)),
		})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: r.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
}

// dashboard is the part of a Grafana dashboard JSON the test reads.
type dashboard struct {
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

type dashPanel struct {
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"` // a collapsed row's panels
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

type panelQuery struct{ panel, expr string }

func loadDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(grafanaDir, "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s: %v", grafanaDir, err)
	}
	var out []dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(d.queries()) == 0 {
			t.Fatalf("%s: no queries", f)
		}
		out = append(out, d)
	}
	return out
}

func (d dashboard) queries() []panelQuery {
	var out []panelQuery
	var walk func(ps []dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, panelQuery{p.Title, tg.Expr})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Metric names in PromQL: an identifier followed by a selector or range, or the
// first argument of label_values. (The dashboards write every metric with a
// selector; grafana/gen's tests enforce it.)
var (
	selectorRef = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)
	labelValues = regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?,\s*([a-zA-Z_]+)\)$`)
)

func (d dashboard) metrics() []string {
	seen := map[string]bool{}
	for _, q := range d.queries() {
		for _, m := range selectorRef.FindAllStringSubmatch(q.expr, -1) {
			seen[m[1]] = true
		}
	}
	for _, v := range d.Templating.List {
		if s, ok := v.Query.(string); ok && v.Type == "query" {
			if m := labelValues.FindStringSubmatch(s); m != nil {
				seen[m[1]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// resolveVariables evaluates d's query variables in order, as Grafana does with
// "All" selected: each becomes a regex alternation of all its values.
func resolveVariables(t *testing.T, ps *promServer, d dashboard) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		m := labelValues.FindStringSubmatch(substitute(q, vars))
		if m == nil {
			t.Errorf("%s: variable %s: cannot evaluate %q", d.Title, v.Name, q)
			continue
		}
		values, err := ps.labelValues(m[3], m[1]+m[2])
		if err != nil || len(values) == 0 {
			t.Errorf("%s: variable %s (%s): values %v, %v", d.Title, v.Name, q, values, err)
			continue
		}
		for i, s := range values {
			// Grafana escapes regex metacharacters and then backslashes for PromQL strings.
			values[i] = strings.ReplaceAll(regexp.QuoteMeta(s), `\`, `\\`)
		}
		vars["$"+v.Name] = "(" + strings.Join(values, "|") + ")"
	}
	return vars
}

// substitute replaces Grafana variables, longest names first so that $node is not
// taken for a prefix of another.
func substitute(expr string, vars map[string]string) string {
	all := map[string]string{}
	for k, v := range builtins {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		expr = strings.ReplaceAll(expr, k, all[k])
	}
	return expr
}
