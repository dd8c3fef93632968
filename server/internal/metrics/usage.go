package metrics

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// Lister is the part of the object layer the usage scan reads.
type Lister interface {
	ListBuckets(ctx context.Context) ([]objects.BucketInfo, error)
	ListObjects(ctx context.Context, bucket string, opts objects.ListOptions) (objects.ListResult, error)
}

var (
	descUsageBuckets = prometheus.NewDesc("cairn_usage_buckets",
		"Cluster-wide. Buckets, as of the last usage scan.", nil, nil)
	descUsageObjects = prometheus.NewDesc("cairn_usage_objects",
		"Cluster-wide. Objects (latest versions, delete markers excluded), as of the last usage scan.", nil, nil)
	descUsageBytes = prometheus.NewDesc("cairn_usage_logical_bytes",
		"Cluster-wide. Sum of the sizes of the objects counted by cairn_usage_objects (before erasure coding).", nil, nil)
	descBucketObjects = prometheus.NewDesc("cairn_bucket_usage_objects",
		"Cluster-wide. Objects in the bucket, as of the last usage scan. Only with --metrics-bucket-usage.", []string{"bucket"}, nil)
	descBucketBytes = prometheus.NewDesc("cairn_bucket_usage_logical_bytes",
		"Cluster-wide. Sum of the object sizes in the bucket, as of the last usage scan. Only with --metrics-bucket-usage.", []string{"bucket"}, nil)
	descUsageScanDuration = prometheus.NewDesc("cairn_usage_scan_last_duration_seconds",
		"Node-local. Duration of the last complete usage scan.", nil, nil)
	descUsageScanTime = prometheus.NewDesc("cairn_usage_scan_last_timestamp_seconds",
		"Node-local. Unix time at which the last complete usage scan ended.", nil, nil)
)

// usageScanner lists the namespace in the background to count buckets, objects and
// bytes. A scan starts from a scrape (collect) when the previous one started more
// than the interval ago, so a server nobody scrapes never scans; the scrape itself
// never waits for it and reports the last complete result (nothing before the first).
type usageScanner struct {
	lister    Lister
	interval  time.Duration
	now       func() time.Time
	perBucket bool
	log       *slog.Logger

	scans prometheus.Counter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running bool
	started time.Time    // start of the last scan
	last    *usageResult // last complete scan, nil before the first
}

type usageResult struct {
	buckets         int
	objects, bytes  int64
	perBucket       map[string]bucketUsage
	end             time.Time
	durationSeconds float64
}

type bucketUsage struct{ objects, bytes int64 }

func newUsageScanner(l Lister, opts Options, reg prometheus.Registerer) *usageScanner {
	ctx, cancel := context.WithCancel(context.Background())
	u := &usageScanner{
		lister: l, interval: opts.UsageInterval, now: opts.Now, perBucket: opts.BucketUsage,
		log: opts.Logger, ctx: ctx, cancel: cancel,
		scans: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "usage", Name: "scans_total",
			Help: "Node-local. Usage scans completed.",
		}),
	}
	reg.MustRegister(u.scans)
	return u
}

func (u *usageScanner) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsageBuckets, descUsageObjects, descUsageBytes, descUsageScanDuration, descUsageScanTime} {
		ch <- d
	}
	if u.perBucket {
		ch <- descBucketObjects
		ch <- descBucketBytes
	}
}

// collect starts a scan if one is due and reports the last complete one.
func (u *usageScanner) collect(ch chan<- prometheus.Metric) {
	u.mu.Lock()
	if !u.running && u.ctx.Err() == nil && (u.started.IsZero() || u.now().Sub(u.started) >= u.interval) {
		u.running = true
		u.started = u.now()
		u.wg.Add(1)
		go u.scan()
	}
	r := u.last
	u.mu.Unlock()
	if r == nil {
		return
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	gauge(descUsageBuckets, float64(r.buckets))
	gauge(descUsageObjects, float64(r.objects))
	gauge(descUsageBytes, float64(r.bytes))
	gauge(descUsageScanDuration, r.durationSeconds)
	gauge(descUsageScanTime, float64(r.end.UnixMilli())/1e3)
	for b, bu := range r.perBucket {
		gauge(descBucketObjects, float64(bu.objects), b)
		gauge(descBucketBytes, float64(bu.bytes), b)
	}
}

func (u *usageScanner) scan() {
	defer u.wg.Done()
	start := u.now()
	r, err := u.count(u.ctx)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.running = false
	if err != nil {
		if u.ctx.Err() == nil {
			u.log.Warn("metrics: usage scan failed; keeping the previous result", "err", err)
		}
		return
	}
	r.end = u.now()
	r.durationSeconds = r.end.Sub(start).Seconds()
	u.last = r
	u.scans.Inc()
}

// count lists every bucket to the end. A bucket deleted during the scan is skipped.
func (u *usageScanner) count(ctx context.Context) (*usageResult, error) {
	buckets, err := u.lister.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	r := &usageResult{buckets: len(buckets)}
	if u.perBucket {
		r.perBucket = make(map[string]bucketUsage, len(buckets))
	}
	for _, b := range buckets {
		var bu bucketUsage
		opts := objects.ListOptions{MaxKeys: 1000}
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			page, err := u.lister.ListObjects(ctx, b.Name, opts)
			if errors.Is(err, objects.ErrBucketNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				bu.objects++
				bu.bytes += o.Size
			}
			if !page.IsTruncated || page.NextMarker == "" {
				break
			}
			opts.Marker = page.NextMarker
		}
		r.objects += bu.objects
		r.bytes += bu.bytes
		if u.perBucket {
			r.perBucket[b.Name] = bu
		}
	}
	return r, nil
}

// close stops a scan in progress and waits for it; no scan starts afterwards.
func (u *usageScanner) close() {
	u.mu.Lock()
	u.cancel()
	u.mu.Unlock()
	u.wg.Wait()
}
