package s3api

import (
	"io"
	"net/http"
	"time"
)

// Observer watches requests for metrics (Config.Observer). Implementations must be
// safe for concurrent use and cheap: both methods run on the request path.
//
// For every request ServeHTTP calls Begin when the request arrives (before
// authentication and routing) and End exactly once when its handler has returned
// and any error document has been written, panics included.
type Observer interface {
	Begin()
	End(RequestStats)
}

// RequestStats describe one finished request. API is a name from the route table
// ("GetObject", …) or one of "HealthCheck", "NotImplemented", "Unknown" and ""
// (a request that failed before routing), so it is safe as a metric label.
type RequestStats struct {
	API       string
	Status    int           // HTTP status sent (200 when the handler set none)
	ErrorCode string        // S3 error code of the error document sent, "" on success
	Duration  time.Duration // arrival to handler return
	// TTFB is arrival to the response header being written; 0 if none was.
	TTFB     time.Duration
	BytesIn  int64 // request body bytes read from the connection
	BytesOut int64 // response body bytes written
}

// observe starts observing rq and returns the function that ends it; ServeHTTP
// defers it before the panic recovery so End sees the final status.
func (s *server) observe(w *responseWriter, rq *request) func() {
	o := s.cfg.Observer
	start := time.Now()
	o.Begin()
	body := &countingBody{rc: rq.r.Body}
	if rq.r.Body != nil {
		rq.r.Body = body
	}
	tw := &firstByteWriter{ResponseWriter: w.ResponseWriter}
	w.ResponseWriter = tw
	return func() {
		st := RequestStats{
			API: rq.op, Status: w.status, ErrorCode: rq.errCode,
			Duration: time.Since(start), BytesIn: body.n, BytesOut: w.written,
		}
		if st.Status == 0 {
			st.Status = http.StatusOK
		}
		if !tw.at.IsZero() {
			st.TTFB = tw.at.Sub(start)
		}
		o.End(st)
	}
}

// countingBody counts the request body bytes read. Only the handler goroutine
// reads a request body, so n needs no synchronization.
type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.rc.Close() }

// firstByteWriter notes when the response header is written.
type firstByteWriter struct {
	http.ResponseWriter
	at time.Time
}

func (w *firstByteWriter) WriteHeader(status int) {
	if w.at.IsZero() {
		w.at = time.Now()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *firstByteWriter) Write(p []byte) (int, error) {
	if w.at.IsZero() {
		w.at = time.Now()
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *firstByteWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
