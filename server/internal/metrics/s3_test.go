package metrics

import (
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/s3api"
)

func TestS3Observer(t *testing.T) {
	m := New(Options{})
	o := m.S3()
	o.Begin()
	o.Begin()
	f := gather(t, m.Registry())
	if got := value(t, f, "cairn_s3_requests_in_flight"); got != 2 {
		t.Fatalf("in flight %v, want 2", got)
	}
	o.End(s3api.RequestStats{API: "PutObject", Status: 200, Duration: 30 * time.Millisecond, TTFB: 29 * time.Millisecond, BytesIn: 1 << 20})
	o.End(s3api.RequestStats{API: "GetObject", Status: 404, ErrorCode: "NoSuchKey", Duration: time.Millisecond, TTFB: time.Millisecond, BytesOut: 300})
	o.Begin()
	o.End(s3api.RequestStats{API: "PutObject", Status: 200, Duration: 20 * time.Millisecond, TTFB: 19 * time.Millisecond, BytesIn: 1 << 20})
	o.Begin()
	o.End(s3api.RequestStats{Status: 400, ErrorCode: "InvalidBucketName"}) // failed before routing

	f = gather(t, m.Registry())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_s3_requests_in_flight", nil, 0},
		{"cairn_s3_requests_total", []string{"api=PutObject", "code=200"}, 2},
		{"cairn_s3_requests_total", []string{"api=GetObject", "code=404"}, 1},
		{"cairn_s3_requests_total", []string{"api=Unknown", "code=400"}, 1},
		{"cairn_s3_request_errors_total", []string{"api=GetObject", "error_code=NoSuchKey"}, 1},
		{"cairn_s3_request_errors_total", []string{"api=Unknown", "error_code=InvalidBucketName"}, 1},
		{"cairn_s3_request_duration_seconds", []string{"api=PutObject"}, 2},
		{"cairn_s3_time_to_first_byte_seconds", []string{"api=PutObject"}, 2},
		{"cairn_s3_time_to_first_byte_seconds", []string{"api=Unknown"}, 0},
		{"cairn_s3_received_bytes_total", []string{"api=PutObject"}, 2 << 20},
		{"cairn_s3_sent_bytes_total", []string{"api=GetObject"}, 300},
		{"cairn_s3_sent_bytes_total", []string{"api=PutObject"}, 0},
	} {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// The observer runs on every request: it must not allocate once its series exist.
func TestS3ObserverAllocs(t *testing.T) {
	o := New(Options{}).S3()
	st := s3api.RequestStats{API: "GetObject", Status: 200, Duration: time.Millisecond, TTFB: time.Millisecond, BytesOut: 10}
	o.Begin()
	o.End(st)
	if n := testing.AllocsPerRun(100, func() { o.Begin(); o.End(st) }); n > 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

func BenchmarkS3Observer(b *testing.B) {
	o := New(Options{}).S3()
	st := s3api.RequestStats{API: "PutObject", Status: 200, Duration: time.Millisecond, TTFB: time.Millisecond, BytesIn: 1 << 20}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o.Begin()
			o.End(st)
		}
	})
}
