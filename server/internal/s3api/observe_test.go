package s3api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is an Observer that keeps what it saw.
type recorder struct {
	mu     sync.Mutex
	begun  int
	ended  []RequestStats
	inside int // Begin minus End
}

func (r *recorder) Begin() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begun++
	r.inside++
}

func (r *recorder) End(st RequestStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inside--
	r.ended = append(r.ended, st)
}

func (r *recorder) last(t *testing.T) RequestStats {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inside != 0 || r.begun != len(r.ended) {
		t.Fatalf("Begin %d times, End %d times", r.begun, len(r.ended))
	}
	return r.ended[len(r.ended)-1]
}

func TestObserver(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	s := newServer(Config{Observer: rec, AllowAnonymous: func(b string) bool { return b != "private" }})
	for i := range s.routes {
		switch s.routes[i].op {
		case "PutObject": // reads the body, answers with a flushed header and a body
			s.routes[i].fn = func(w http.ResponseWriter, rq *request) error {
				if _, err := io.Copy(io.Discard, rq.body); err != nil {
					return err
				}
				w.WriteHeader(http.StatusOK)
				if err := http.NewResponseController(w).Flush(); err != nil {
					return err
				}
				_, err := w.Write([]byte("12345"))
				return err
			}
		case "GetObject":
			s.routes[i].fn = func(http.ResponseWriter, *request) error { panic("boom") }
		}
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	send := func(method, target, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	send(http.MethodPut, "/bkt/k", strings.Repeat("x", 1000))
	st := rec.last(t)
	if st.API != "PutObject" || st.Status != 200 || st.ErrorCode != "" || st.BytesIn != 1000 || st.BytesOut != 5 {
		t.Errorf("PUT: %+v", st)
	}
	if st.TTFB <= 0 || st.TTFB > st.Duration {
		t.Errorf("PUT: TTFB %v, duration %v", st.TTFB, st.Duration)
	}

	send(http.MethodPut, "/private/k", "abc")
	if st := rec.last(t); st.API != "PutObject" || st.Status != 403 || st.ErrorCode != "AccessDenied" || st.BytesOut == 0 {
		t.Errorf("denied PUT: %+v", st)
	}

	send(http.MethodGet, "/bkt/k", "")
	if st := rec.last(t); st.API != "GetObject" || st.Status != 500 || st.ErrorCode != "InternalError" {
		t.Errorf("panicking GET: %+v", st)
	}

	send("PATCH", "/bkt/k", "")
	if st := rec.last(t); st.API != "Unknown" || st.Status != 405 || st.ErrorCode != "MethodNotAllowed" {
		t.Errorf("PATCH: %+v", st)
	}

	send(http.MethodGet, "/cairn/health/live", "")
	if st := rec.last(t); st.API != "HealthCheck" || st.Status != 200 {
		t.Errorf("health: %+v", st)
	}
}
