package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-io/cairn/server/internal/s3api"
)

// S3Observer records S3 requests; it implements s3api.Observer. The children of
// each label combination are looked up once and cached, so a request costs a few
// atomic adds.
type S3Observer struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ttfb     *prometheus.HistogramVec
	in, out  *prometheus.CounterVec
	inFlight prometheus.Gauge

	apis  sync.Map // api name → *apiMetrics
	codes sync.Map // apiCode → prometheus.Counter
}

var _ s3api.Observer = (*S3Observer)(nil)

type apiMetrics struct {
	duration, ttfb prometheus.Observer
	in, out        prometheus.Counter
}

type apiCode struct {
	api    string
	status int
}

func newS3Observer(reg prometheus.Registerer) *S3Observer {
	o := &S3Observer{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "requests_total",
			Help: "Node-local. S3 requests answered, by API and HTTP status code.",
		}, []string{"api", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "request_errors_total",
			Help: "Node-local. S3 requests answered with an error document, by API and S3 error code.",
		}, []string{"api", "error_code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "request_duration_seconds",
			Help:    "Node-local. Time from a request's arrival to the end of its response, by API.",
			Buckets: requestBuckets,
		}, []string{"api"}),
		ttfb: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "time_to_first_byte_seconds",
			Help:    "Node-local. Time from a request's arrival to its response header, by API.",
			Buckets: requestBuckets,
		}, []string{"api"}),
		in: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "received_bytes_total",
			Help: "Node-local. Request body bytes received, by API (ingress).",
		}, []string{"api"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "sent_bytes_total",
			Help: "Node-local. Response body bytes sent, by API (egress).",
		}, []string{"api"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "s3", Name: "requests_in_flight",
			Help: "Node-local. S3 requests being served now.",
		}),
	}
	reg.MustRegister(o.requests, o.errors, o.duration, o.ttfb, o.in, o.out, o.inFlight)
	return o
}

// Begin counts a request in flight.
func (o *S3Observer) Begin() { o.inFlight.Inc() }

// End records a finished request.
func (o *S3Observer) End(st s3api.RequestStats) {
	o.inFlight.Dec()
	api := st.API
	if api == "" {
		api = "Unknown"
	}
	a := o.api(api)
	a.duration.Observe(st.Duration.Seconds())
	if st.TTFB > 0 {
		a.ttfb.Observe(st.TTFB.Seconds())
	}
	if st.BytesIn > 0 {
		a.in.Add(float64(st.BytesIn))
	}
	if st.BytesOut > 0 {
		a.out.Add(float64(st.BytesOut))
	}
	key := apiCode{api, st.Status}
	c, ok := o.codes.Load(key)
	if !ok {
		c, _ = o.codes.LoadOrStore(key, o.requests.WithLabelValues(api, strconv.Itoa(st.Status)))
	}
	c.(prometheus.Counter).Inc()
	if st.ErrorCode != "" {
		o.errors.WithLabelValues(api, st.ErrorCode).Inc()
	}
}

func (o *S3Observer) api(name string) *apiMetrics {
	if a, ok := o.apis.Load(name); ok {
		return a.(*apiMetrics)
	}
	a := &apiMetrics{
		duration: o.duration.WithLabelValues(name),
		ttfb:     o.ttfb.WithLabelValues(name),
		in:       o.in.WithLabelValues(name),
		out:      o.out.WithLabelValues(name),
	}
	got, _ := o.apis.LoadOrStore(name, a)
	return got.(*apiMetrics)
}
