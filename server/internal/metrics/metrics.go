package metrics

import (
	"crypto/x509"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every Cairn metric name.
const Namespace = "cairn"

// DefaultUsageInterval is how often, at most, usage is recomputed by listing the
// namespace when Options.UsageInterval is zero.
const DefaultUsageInterval = 5 * time.Minute

// Options configure a Metrics. The zero value serves nothing without a token.
type Options struct {
	// Public serves /metrics to anyone. By default a bearer token is required.
	Public bool
	// Token is the bearer token a scrape must present unless Public. An empty
	// Token with Public false refuses every scrape.
	Token string
	// KeyToken, when set, also admits access-key tokens ("<access key>:<hex>", see
	// KeyToken): it returns the access key's secret and whether the key may
	// scrape (an enabled key whose policies allow admin:ServerInfo).
	KeyToken func(accessKey string) (secret string, allowed bool)
	// BucketUsage adds per-bucket usage series (one pair per bucket).
	BucketUsage bool
	// UsageInterval is the minimum time between two usage scans (default
	// DefaultUsageInterval). A scan starts on a scrape that finds the last one older.
	UsageInterval time.Duration
	// Version is reported by cairn_build_info.
	Version string
	// Certificate, if set, returns the node's current TLS certificate (nil when
	// none) for cairn_tls_certificate_expiration_timestamp_seconds.
	Certificate func() *x509.Certificate
	// Logger receives scan and scrape failures (default: discard). The token is
	// never logged.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Metrics is one server's instrumentation. Create it with New, wrap drives with
// WrapDrive before the object layer uses them, call Watch once the object layer
// exists, and Close it when the server stops. Safe for concurrent use.
type Metrics struct {
	opts Options
	log  *slog.Logger
	reg  *prometheus.Registry
	s3   *S3Observer
	dm   *driveMetrics

	mu      sync.Mutex
	watched bool
	usage   *usageScanner // nil until Watch
	kms     *kmsProber    // set by WatchKMS
}

// New returns a Metrics with the Go, process and build-info collectors registered.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UsageInterval <= 0 {
		opts.UsageInterval = DefaultUsageInterval
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "build_info",
			Help: "Node-local. Always 1; the labels name the running build.",
			ConstLabels: prometheus.Labels{
				"version": opts.Version, "goversion": runtime.Version(),
			},
		}, func() float64 { return 1 }),
	)
	if opts.Certificate != nil {
		reg.MustRegister(certCollector{opts.Certificate})
	}
	m := &Metrics{opts: opts, log: opts.Logger, reg: reg}
	m.s3 = newS3Observer(reg)
	m.dm = newDriveMetrics(reg)
	return m
}

// Registry is the registry behind /metrics, for tests and for components that
// register their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// S3 is the observer to pass to the S3 handler (s3api.Config.Observer).
func (m *Metrics) S3() *S3Observer { return m.s3 }

// Close stops a usage scan in progress and waits for it. Metrics already
// registered keep answering.
func (m *Metrics) Close() {
	m.mu.Lock()
	u, k := m.usage, m.kms
	m.mu.Unlock()
	if u != nil {
		u.close()
	}
	if k != nil {
		k.close()
	}
}

// Latency buckets, in seconds. S3 requests span a millisecond (HEAD of an inline
// object) to minutes (a multi-GiB PUT); drive calls span 10µs to seconds.
var (
	requestBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	driveBuckets   = []float64{0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}
)
