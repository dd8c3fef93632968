//go:build linux

package observability

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/servertest"
)

// promServer is a Prometheus process started for one test.
type promServer struct {
	url  string
	cmd  *exec.Cmd
	log  *servertest.LockedBuffer
	done chan struct{}
}

// promConfig is the scrape configuration of the test's Prometheus.
type promConfig struct {
	targets   []string // host:port of each cairn node
	tokenFile string
	rules     []string
}

func (c promConfig) yaml() string {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	if len(c.rules) > 0 {
		b.WriteString("rule_files:\n")
		for _, r := range c.rules {
			fmt.Fprintf(&b, "  - %q\n", r)
		}
	}
	fmt.Fprintf(&b, `scrape_configs:
  - job_name: cairn
    authorization:
      credentials_file: %q
    static_configs:
      - targets: [%s]
`, c.tokenFile, quoted(c.targets))
	return b.String()
}

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// startPrometheus starts bin with cfg on a free loopback port and waits until it is
// ready. The process is stopped when the test ends.
func startPrometheus(t *testing.T, bin string, cfg promConfig) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.yaml()), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := servertest.FreeAddr(t)
	ps := &promServer{url: "http://" + addr, log: &servertest.LockedBuffer{}, done: make(chan struct{})}
	ps.cmd = exec.Command(bin,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--storage.tsdb.retention.time=1h",
		"--log.level=warn",
	)
	ps.cmd.Dir = dir
	ps.cmd.Stdout, ps.cmd.Stderr = ps.log, ps.log
	ps.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := ps.cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	go func() { ps.cmd.Wait(); close(ps.done) }()
	t.Cleanup(func() {
		ps.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-ps.done:
		case <-time.After(10 * time.Second):
			ps.cmd.Process.Kill()
			<-ps.done
		}
		if t.Failed() {
			t.Logf("prometheus output:\n%s", ps.log.String())
		}
	})
	waitFor(t, 30*time.Second, "prometheus ready", func() error {
		select {
		case <-ps.done:
			t.Fatalf("prometheus exited: %s", ps.log.String())
		default:
		}
		resp, err := http.Get(ps.url + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
	return ps
}

// apiResponse is the envelope of Prometheus's HTTP API.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// get calls GET /api/v1/<path>?<params> and decodes data into out.
func (ps *promServer) get(path string, params url.Values, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ps.url+"/api/v1/"+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %s: %v", path, resp.Status, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s: %s", r.ErrorType, r.Error, body)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// sample is one series of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query at the current time. Scalars come back as one sample.
func (ps *promServer) query(expr string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := ps.get("query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var v []sample
		err := json.Unmarshal(data.Result, &v)
		return v, err
	case "scalar":
		var s [2]any
		err := json.Unmarshal(data.Result, &s)
		return []sample{{Value: s}}, err
	}
	return nil, fmt.Errorf("result type %s", data.ResultType)
}

// labelValues returns the values of label among the series matching selector.
func (ps *promServer) labelValues(label, selector string) ([]string, error) {
	var vs []string
	err := ps.get("label/"+label+"/values", url.Values{"match[]": {selector}}, &vs)
	return vs, err
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func (ps *promServer) alerts() ([]alert, error) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	err := ps.get("alerts", nil, &data)
	return data.Alerts, err
}

type target struct {
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	ScrapeURL string `json:"scrapeUrl"`
}

func (ps *promServer) targets() ([]target, error) {
	var data struct {
		Active []target `json:"activeTargets"`
	}
	err := ps.get("targets", nil, &data)
	return data.Active, err
}

// waitFor retries f until it returns nil, failing the test with f's last error
// after d.
func waitFor(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
