package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// checkResult checks the invariants every result row must satisfy.
func checkResult(t *testing.T, r Result, size int64) {
	t.Helper()
	if r.Ops <= 0 {
		t.Errorf("%s: Ops = %d, want > 0", r.Op, r.Ops)
	}
	switch r.Op {
	case "PUT", "GET":
		if r.Bytes != r.Ops*size {
			t.Errorf("%s: Bytes = %d, want Ops*size = %d", r.Op, r.Bytes, r.Ops*size)
		}
	case "STAT", "DELETE":
		if r.Bytes != 0 {
			t.Errorf("%s: Bytes = %d, want 0", r.Op, r.Bytes)
		}
	}
	if !(0 < r.P50 && r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.Max) {
		t.Errorf("%s: latencies not ordered: p50 %v p90 %v p99 %v max %v", r.Op, r.P50, r.P90, r.P99, r.Max)
	}
	if r.Elapsed < time.Second || r.Elapsed > 3*time.Second {
		t.Errorf("%s: Elapsed = %v, want about 1s", r.Op, r.Elapsed)
	}
	if r.MiBPerSec() < 0 || r.OpsPerSec() <= 0 {
		t.Errorf("%s: MiB/s %v ops/s %v", r.Op, r.MiBPerSec(), r.OpsPerSec())
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op  string
		ops []string
	}{
		{"put", []string{"PUT"}},
		{"get", []string{"GET"}},
		{"mixed", []string{"GET", "PUT", "STAT", "DELETE", "TOTAL"}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			stub := &stubS3{}
			opt := newStub(t, stub)
			opt.Op = tc.op
			var out bytes.Buffer
			results, err := Run(t.Context(), opt, &out)
			if err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			var got []string
			for _, r := range results {
				got = append(got, r.Op)
			}
			if strings.Join(got, " ") != strings.Join(tc.ops, " ") {
				t.Fatalf("result rows = %v, want %v", got, tc.ops)
			}
			var sumOps, sumBytes int64
			for _, r := range results {
				checkResult(t, r, opt.ObjectSize)
				if r.Errors != 0 || r.FirstError != "" {
					t.Errorf("%s: %d errors, first %q", r.Op, r.Errors, r.FirstError)
				}
				if r.Op != "TOTAL" {
					sumOps += r.Ops
					sumBytes += r.Bytes
				}
			}
			if tc.op == "mixed" {
				total := results[len(results)-1]
				if total.Ops != sumOps || total.Bytes != sumBytes {
					t.Errorf("TOTAL = %d ops %d bytes, want %d ops %d bytes", total.Ops, total.Bytes, sumOps, sumBytes)
				}
			}
			if whole := results[len(results)-1]; runtime.GOOS != "windows" && whole.ClientCPU <= 0 {
				t.Errorf("ClientCPU = %v, want > 0", whole.ClientCPU)
			}
			if n := stub.objects(opt.Bucket); n != 0 {
				t.Errorf("%d objects left after cleanup", n)
			}
			if !strings.Contains(out.String(), "MiB/S") || !strings.Contains(out.String(), "cleanup: deleted") {
				t.Errorf("output lacks the table or the cleanup line:\n%s", out.String())
			}
			stub.check(t)
		})
	}
}

func TestRunCountsErrors(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	stub := &stubS3{fail: func(r *http.Request) bool { return n.Add(1)%5 == 0 }}
	opt := newStub(t, stub)
	opt.Op = "put"
	var out bytes.Buffer
	results, err := Run(t.Context(), opt, &out)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	r := results[0]
	checkResult(t, r, opt.ObjectSize)
	if r.Errors == 0 {
		t.Errorf("Errors = 0, want the stub's 500s counted")
	}
	// Every 5th request fails and failures are not retried.
	if want := (r.Ops + r.Errors) / 5; r.Errors < want-int64(opt.Concurrency) || r.Errors > want+int64(opt.Concurrency) {
		t.Errorf("Errors = %d of %d requests, want about a fifth", r.Errors, r.Ops+r.Errors)
	}
	if !strings.Contains(r.FirstError, "InternalError") || !strings.Contains(r.FirstError, "500") {
		t.Errorf("FirstError = %q, want the stub's 500 InternalError", r.FirstError)
	}
	if !strings.Contains(out.String(), "first PUT error:") {
		t.Errorf("output lacks the first error:\n%s", out.String())
	}
	if n := stub.objects(opt.Bucket); n != 0 {
		t.Errorf("%d objects left after cleanup", n)
	}
}

func TestRunDurationBound(t *testing.T) {
	t.Parallel()
	stub := &stubS3{delay: 200 * time.Millisecond}
	opt := newStub(t, stub)
	stub.createBucket(opt.Bucket)
	opt.Op = "put"
	opt.Duration = 500 * time.Millisecond
	start := time.Now()
	results, err := Run(t.Context(), opt, &bytes.Buffer{})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// HEAD bucket, 500ms of PUTs plus at most one 200ms request in flight,
	// one DeleteObjects: about 1.1s.
	if took > 1500*time.Millisecond {
		t.Errorf("Run took %v, want at most 1.5s", took)
	}
	if r := results[0]; r.Ops == 0 || r.Elapsed > 800*time.Millisecond {
		t.Errorf("PUT: %d ops in %v, want some ops within 800ms", r.Ops, r.Elapsed)
	}
}

func TestRunCancel(t *testing.T) {
	t.Parallel()
	stub := &stubS3{delay: 50 * time.Millisecond}
	opt := newStub(t, stub)
	opt.Op = "mixed"
	opt.Objects = 8
	opt.Duration = time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	results, err := Run(ctx, opt, &bytes.Buffer{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v, want the context's", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %v after a 1s context, want prompt return", took)
	}
	if len(results) != 5 {
		t.Errorf("got %d results, want the partial mixed rows", len(results))
	}
	if n := stub.objects(opt.Bucket); n != 0 {
		t.Errorf("%d objects left after cleanup of an interrupted run", n)
	}
}

func TestRunKeepData(t *testing.T) {
	t.Parallel()
	stub := &stubS3{}
	opt := newStub(t, stub)
	opt.Duration = 200 * time.Millisecond
	opt.KeepData = true
	results, err := Run(t.Context(), opt, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(stub.objects(opt.Bucket)), results[0].Ops; got != want {
		t.Errorf("%d objects kept, want one per PUT (%d)", got, want)
	}
}

func TestRunCleanupWithoutMultiDelete(t *testing.T) {
	t.Parallel()
	stub := &stubS3{noMultiDel: true}
	opt := newStub(t, stub)
	opt.Duration = 200 * time.Millisecond
	var out bytes.Buffer
	if _, err := Run(t.Context(), opt, &out); err != nil {
		t.Fatal(err)
	}
	if n := stub.objects(opt.Bucket); n != 0 {
		t.Errorf("%d objects left after cleanup by single deletes:\n%s", n, out.String())
	}
}

func TestRunPayloadSigning(t *testing.T) {
	t.Parallel()
	for _, unsigned := range []bool{false, true} {
		want := map[bool]string{false: "signed", true: "UNSIGNED-PAYLOAD"}[unsigned]
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			stub := &stubS3{}
			opt := newStub(t, stub)
			opt.Duration = 200 * time.Millisecond
			opt.UnsignedPayload = unsigned
			if _, err := Run(t.Context(), opt, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			stub.mu.Lock()
			defer stub.mu.Unlock()
			if len(stub.sha256s) != 1 || stub.sha256s[want] == 0 {
				t.Errorf("x-amz-content-sha256 kinds on PUT = %v, want only %s", stub.sha256s, want)
			}
		})
	}
}

func TestRunServerPIDAndJSON(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	stub := &stubS3{}
	opt := newStub(t, stub)
	opt.Op = "get"
	opt.ServerPID = os.Getpid() // the stub runs in this process
	opt.JSON = true
	var out bytes.Buffer
	results, err := Run(t.Context(), opt, &out)
	if err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.ServerCPU <= 0 || r.ServerPeakRSS <= 0 || r.ServerRSS <= 0 || r.ServerRSS > r.ServerPeakRSS {
		t.Errorf("server CPU %v, peak RSS %d, RSS %d: want positive, RSS <= peak", r.ServerCPU, r.ServerPeakRSS, r.ServerRSS)
	}
	if r.MiBPerServerCPUSecond() <= 0 {
		t.Errorf("MiBPerServerCPUSecond = %v", r.MiBPerServerCPUSecond())
	}
	if !strings.Contains(out.String(), "MiB per CPU-second") {
		t.Errorf("output lacks the server line:\n%s", out.String())
	}
	var lines []jsonResult
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "{") {
			var j jsonResult
			if err := json.Unmarshal([]byte(line), &j); err != nil {
				t.Fatalf("bad JSON line %q: %v", line, err)
			}
			lines = append(lines, j)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d JSON lines, want 1:\n%s", len(lines), out.String())
	}
	if j := lines[0]; j.Op != "GET" || j.Run != "get" || j.Ops != r.Ops || j.ObjectSize != opt.ObjectSize || j.ServerCPUSeconds <= 0 {
		t.Errorf("JSON line = %+v, want it to match %+v", j, r)
	}
}

func TestRunServerPIDMissing(t *testing.T) {
	t.Parallel()
	opt := newStub(t, &stubS3{})
	opt.ServerPID = 1 << 30
	if _, err := Run(t.Context(), opt, &bytes.Buffer{}); err == nil {
		t.Error("Run with a nonexistent server pid succeeded")
	}
}

func TestRunInvalidOptions(t *testing.T) {
	t.Parallel()
	_, err := Run(t.Context(), Options{Endpoint: "http://127.0.0.1:1", Op: "list", AccessKey: "a", SecretKey: "b"}, &bytes.Buffer{})
	if !errors.Is(err, ErrUsage) {
		t.Errorf("err = %v, want ErrUsage", err)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{7}, 0.99, 7},
		{"p50 of 100", s, 0.50, 50},
		{"p90 of 100", s, 0.90, 90},
		{"p99 of 100", s, 0.99, 99},
		{"p100 of 100", s, 1, 100},
		{"p0", s, 0, 1},
	} {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("%s: percentile = %v, want %v", tc.name, got, tc.want)
		}
	}
}
