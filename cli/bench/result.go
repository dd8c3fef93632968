package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// Result is what one operation kind did during the measured phase. Ops,
// Bytes and the latencies cover successful operations only; failed ones are
// counted in Errors.
type Result struct {
	Op         string        // "PUT", "GET", "STAT", "DELETE", or "TOTAL" for all of a mixed run
	Ops        int64         // successful operations
	Bytes      int64         // payload bytes sent (PUT) or received (GET)
	Errors     int64         // failed operations
	Elapsed    time.Duration // wall time of the measured phase, including the in-flight tail
	P50        time.Duration // latency percentiles (nearest rank) and maximum
	P90        time.Duration
	P99        time.Duration
	Max        time.Duration
	FirstError string // the earliest error, "" if none

	// Resource use over the whole measured phase, set only on the row that
	// covers the whole phase (the single row of put and get, TOTAL of mixed).
	ClientCPU     time.Duration // this process's user+system CPU
	ServerCPU     time.Duration // Options.ServerPID's user+system CPU; 0 if not sampled
	ServerPeakRSS int64         // VmHWM after the phase, bytes (peak since the server started)
	ServerRSS     int64         // VmRSS after the phase, bytes
}

// MiBPerSec returns the payload throughput in MiB (2^20 bytes) per second.
func (r Result) MiBPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Bytes) / (1 << 20) / r.Elapsed.Seconds()
}

// OpsPerSec returns successful operations per second.
func (r Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// MiBPerServerCPUSecond returns payload MiB per CPU-second the server spent,
// or 0 if the server was not sampled or used no measurable CPU.
func (r Result) MiBPerServerCPUSecond() float64 {
	if r.ServerCPU <= 0 {
		return 0
	}
	return float64(r.Bytes) / (1 << 20) / r.ServerCPU.Seconds()
}

// result turns merged stats into a Result; it sorts s.samples.
func (s *opStats) result(op string, elapsed time.Duration) Result {
	slices.Sort(s.samples)
	return Result{
		Op:         op,
		Ops:        s.ops,
		Bytes:      s.bytes,
		Errors:     s.errors,
		Elapsed:    elapsed,
		P50:        percentile(s.samples, 0.50),
		P90:        percentile(s.samples, 0.90),
		P99:        percentile(s.samples, 0.99),
		Max:        s.max,
		FirstError: s.firstErr,
	}
}

// percentile returns the nearest-rank p-quantile of sorted, 0 if empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// writeTable prints results as an aligned table followed by the resource
// figures and first errors.
func writeTable(out io.Writer, results []Result, serverPID int) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "OP\tOPS\tOPS/S\tMiB/S\tP50 ms\tP90 ms\tP99 ms\tMAX ms\tERRORS\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%d\t\n",
			r.Op, r.Ops, r.OpsPerSec(), r.MiBPerSec(), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors)
	}
	tw.Flush()
	for _, r := range results {
		if r.ClientCPU == 0 && r.ServerCPU == 0 && r.ServerPeakRSS == 0 {
			continue
		}
		fmt.Fprintf(out, "elapsed %.2f s, client CPU %.2f s\n", r.Elapsed.Seconds(), r.ClientCPU.Seconds())
		if serverPID > 0 {
			fmt.Fprintf(out, "server pid %d: CPU %.2f s, %.2f MiB per CPU-second, peak RSS (VmHWM) %s, RSS %s\n",
				serverPID, r.ServerCPU.Seconds(), r.MiBPerServerCPUSecond(), formatBytes(r.ServerPeakRSS), formatBytes(r.ServerRSS))
		}
	}
	for _, r := range results {
		if r.FirstError != "" && r.Op != "TOTAL" {
			fmt.Fprintf(out, "first %s error: %s\n", r.Op, r.FirstError)
		}
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// jsonResult is the --json form of a Result: plain units, and the run's
// parameters so that each line stands alone.
type jsonResult struct {
	Op                    string  `json:"op"`
	Run                   string  `json:"run"` // "put", "get" or "mixed"
	Endpoint              string  `json:"endpoint"`
	ObjectSize            int64   `json:"object_size"`
	Concurrency           int     `json:"concurrency"`
	Ops                   int64   `json:"ops"`
	Bytes                 int64   `json:"bytes"`
	Errors                int64   `json:"errors"`
	ElapsedSeconds        float64 `json:"elapsed_s"`
	MiBPerSec             float64 `json:"mib_per_s"`
	OpsPerSec             float64 `json:"ops_per_s"`
	P50ms                 float64 `json:"p50_ms"`
	P90ms                 float64 `json:"p90_ms"`
	P99ms                 float64 `json:"p99_ms"`
	MaxMs                 float64 `json:"max_ms"`
	FirstError            string  `json:"first_error,omitempty"`
	ClientCPUSeconds      float64 `json:"client_cpu_s,omitempty"`
	ServerCPUSeconds      float64 `json:"server_cpu_s,omitempty"`
	MiBPerServerCPUSecond float64 `json:"mib_per_server_cpu_s,omitempty"`
	ServerPeakRSS         int64   `json:"server_peak_rss_bytes,omitempty"`
	ServerRSS             int64   `json:"server_rss_bytes,omitempty"`
}

// writeJSON prints one JSON object per result, one per line.
func writeJSON(out io.Writer, opt Options, results []Result) error {
	enc := json.NewEncoder(out)
	toMs := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, r := range results {
		err := enc.Encode(jsonResult{
			Op:                    r.Op,
			Run:                   opt.Op,
			Endpoint:              opt.Endpoint,
			ObjectSize:            opt.ObjectSize,
			Concurrency:           opt.Concurrency,
			Ops:                   r.Ops,
			Bytes:                 r.Bytes,
			Errors:                r.Errors,
			ElapsedSeconds:        r.Elapsed.Seconds(),
			MiBPerSec:             r.MiBPerSec(),
			OpsPerSec:             r.OpsPerSec(),
			P50ms:                 toMs(r.P50),
			P90ms:                 toMs(r.P90),
			P99ms:                 toMs(r.P99),
			MaxMs:                 toMs(r.Max),
			FirstError:            r.FirstError,
			ClientCPUSeconds:      r.ClientCPU.Seconds(),
			ServerCPUSeconds:      r.ServerCPU.Seconds(),
			MiBPerServerCPUSecond: r.MiBPerServerCPUSecond(),
			ServerPeakRSS:         r.ServerPeakRSS,
			ServerRSS:             r.ServerRSS,
		})
		if err != nil {
			return fmt.Errorf("bench: writing JSON: %w", err)
		}
	}
	return nil
}
