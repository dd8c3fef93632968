package bench

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubS3 is an in-memory S3 just big enough for the generator: HEAD and PUT
// bucket, PUT, GET, HEAD and DELETE object, and multi-object delete. It is a
// test double for the client side; the real server is tested elsewhere.
type stubS3 struct {
	delay      time.Duration            // slept before answering every request
	fail       func(*http.Request) bool // answer 500 InternalError when true (object requests only)
	noMultiDel bool                     // answer 501 to DeleteObjects

	mu       sync.Mutex
	buckets  map[string]map[string][]byte
	sha256s  map[string]int // x-amz-content-sha256 kinds seen on object PUTs
	problems []string       // protocol violations seen
}

// newStub starts s on an httptest server closed at the end of the test and
// returns options that point Run at it.
func newStub(t *testing.T, s *stubS3) Options {
	t.Helper()
	s.buckets = map[string]map[string][]byte{}
	s.sha256s = map[string]int{}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return Options{
		Endpoint:    srv.URL,
		AccessKey:   "bench-access",
		SecretKey:   "bench-secret",
		Bucket:      "bench",
		ObjectSize:  16 << 10,
		Concurrency: 4,
		Duration:    time.Second,
	}
}

func (s *stubS3) createBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets[name] = map[string][]byte{}
}

// objects returns the number of objects in bucket.
func (s *stubS3) objects(bucket string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buckets[bucket])
}

func (s *stubS3) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// check fails t if the stub saw protocol violations.
func (s *stubS3) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.problems {
		if i == 5 {
			t.Errorf("stub: and %d more", len(s.problems)-i)
			break
		}
		t.Errorf("stub: %s", p)
	}
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s from stub</Message></Error>`, code, code)
	}
}

func (s *stubS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=bench-access/") {
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied")
		return
	}
	if r.Header.Get("X-Amz-Trailer") != "" || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		s.problem("%s %s: checksum trailer or aws-chunked body; want checksums only when required", r.Method, r.URL.Path)
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if key != "" && s.fail != nil && s.fail(r) {
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError")
		return
	}
	s.mu.Lock()
	objs, ok := s.buckets[bucket]
	s.mu.Unlock()
	switch {
	case key == "" && r.Method == http.MethodPut:
		s.createBucket(bucket)
		return
	case !ok:
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket")
		return
	case key == "" && r.Method == http.MethodHead:
		return
	case key == "" && r.Method == http.MethodPost && r.URL.Query().Has("delete"):
		s.multiDelete(w, r, objs)
		return
	case key == "":
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented")
		return
	}
	switch r.Method {
	case http.MethodPut:
		sum := r.Header.Get("X-Amz-Content-Sha256")
		if len(sum) == 64 {
			sum = "signed"
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeS3Error(w, r, http.StatusBadRequest, "IncompleteBody")
			return
		}
		if int64(len(body)) != r.ContentLength {
			s.problem("PUT %s: %d bytes, Content-Length %d", key, len(body), r.ContentLength)
		}
		s.mu.Lock()
		objs[key] = body
		s.sha256s[sum]++
		s.mu.Unlock()
		w.Header().Set("ETag", `"stub"`)
	case http.MethodGet, http.MethodHead:
		s.mu.Lock()
		body, ok := objs[key]
		s.mu.Unlock()
		if !ok {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("ETag", `"stub"`)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	case http.MethodDelete:
		s.mu.Lock()
		delete(objs, key)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented")
	}
}

func (s *stubS3) multiDelete(w http.ResponseWriter, r *http.Request, objs map[string][]byte) {
	if s.noMultiDel {
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented")
		return
	}
	var req struct {
		Objects []struct {
			Key string `xml:"Key"`
		} `xml:"Object"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML")
		return
	}
	s.mu.Lock()
	for _, o := range req.Objects {
		delete(objs, o.Key)
	}
	s.mu.Unlock()
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`)
}
