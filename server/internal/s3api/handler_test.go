package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// The tests in this file run the whole handler over HTTP: ids, auth, routing,
// request validation and the error writer. They stop before the object layer
// (Config.Objects is nil; a handler that reached it would panic, which one test
// uses on purpose). Handler tests against a real *objects.Layer belong beside
// these once the object layer is implemented.

const (
	testAccessKey = "AKIDCAIRNTEST"
	testSecret    = "cairn-test-secret-key"
	testRegion    = "us-east-1"
)

type staticCreds map[string]string

func (c staticCreds) SecretKey(ak string) (string, bool) { s, ok := c[ak]; return s, ok }

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestServer(t *testing.T, mutate func(*Config)) (*httptest.Server, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	cfg := Config{
		Auth:   &sigv4.Verifier{Creds: staticCreds{testAccessKey: testSecret}, Region: testRegion},
		Region: testRegion,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv := httptest.NewServer(NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv, logs
}

// testReq describes one request; sign=false sends it anonymously.
type testReq struct {
	method  string
	target  string
	body    string
	header  map[string]string
	sign    bool
	secret  string // overrides testSecret (wrong signatures)
	chunked bool   // send the body without a length (Transfer-Encoding: chunked)
}

func do(t *testing.T, srv *httptest.Server, tr testReq) *http.Response {
	t.Helper()
	var body io.Reader
	if tr.body != "" {
		body = strings.NewReader(tr.body)
	}
	if tr.chunked {
		body = io.NopCloser(strings.NewReader(tr.body)) // hides the length from net/http
	}
	r, err := http.NewRequest(tr.method, srv.URL+tr.target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range tr.header {
		r.Header.Set(k, v)
	}
	if tr.sign {
		secret := testSecret
		if tr.secret != "" {
			secret = tr.secret
		}
		if err := sigv4.SignRequest(r, testAccessKey, secret, testRegion, time.Now(), ""); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type errorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

var requestIDPattern = regexp.MustCompile(`^[0-9A-F]{16}$`)

func checkIDs(t *testing.T, resp *http.Response) {
	t.Helper()
	if id := resp.Header.Get("X-Amz-Request-Id"); !requestIDPattern.MatchString(id) {
		t.Errorf("x-amz-request-id = %q, want 16 hex characters", id)
	}
	if resp.Header.Get("X-Amz-Id-2") == "" {
		t.Error("missing x-amz-id-2")
	}
	if got := resp.Header.Get("Server"); got != "Cairn" {
		t.Errorf("Server = %q, want Cairn", got)
	}
}

func TestErrorsOverHTTP(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, func(c *Config) {
		c.AllowAnonymous = func(bucket string) bool { return bucket == "public" }
	})
	md5b64 := func(s string) string { sum := md5.Sum([]byte(s)); return base64.StdEncoding.EncodeToString(sum[:]) }
	deleteBody := `<Delete><Object><Key>a</Key></Object></Delete>`
	tests := []struct {
		name   string
		req    testReq
		code   string
		status int
	}{
		{"anonymous list buckets", testReq{method: "GET", target: "/"}, "AccessDenied", 403},
		{"anonymous private bucket", testReq{method: "GET", target: "/private/k"}, "AccessDenied", 403},
		{"anonymous private bucket listing", testReq{method: "GET", target: "/private?list-type=2"}, "AccessDenied", 403},
		{"wrong secret", testReq{method: "GET", target: "/", sign: true, secret: "wrong"}, "SignatureDoesNotMatch", 403},
		{"malformed authorization", testReq{method: "GET", target: "/", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 garbage"}}, "AuthorizationHeaderMalformed", 400},
		{"not implemented subresource", testReq{method: "GET", target: "/bkt?website", sign: true}, "NotImplemented", 501},
		{"method not allowed", testReq{method: "PATCH", target: "/bkt/k", sign: true}, "MethodNotAllowed", 405},
		{"invalid bucket name", testReq{method: "PUT", target: "/Invalid_Bucket", sign: true}, "InvalidBucketName", 400},
		{"key too long", testReq{method: "PUT", target: "/bkt/" + strings.Repeat("k", 1025), body: "x", sign: true}, "KeyTooLongError", 400},
		{"key not utf8", testReq{method: "GET", target: "/bkt/%ff", sign: true}, "InvalidArgument", 400},
		{"post object form", testReq{method: "POST", target: "/bkt", sign: true}, "NotImplemented", 501},
		// A browser form upload carries its credentials in the body: not AccessDenied.
		{"anonymous post object form", testReq{method: "POST", target: "/bkt", header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}, "NotImplemented", 501},
		{"object attributes without names", testReq{method: "GET", target: "/bkt/k?attributes", sign: true}, "InvalidArgument", 400},
		{"object attributes unknown name", testReq{method: "GET", target: "/bkt/k?attributes", sign: true, header: map[string]string{"X-Amz-Object-Attributes": "ETag,Color"}}, "InvalidArgument", 400},

		// PutObject validation, before the object layer.
		{"missing content length", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, chunked: true}, "MissingContentLength", 411},
		{"invalid content md5", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"Content-Md5": "not-base64!"}}, "InvalidDigest", 400},
		{"metadata too large", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Meta-Big": strings.Repeat("v", 2100)}}, "MetadataTooLarge", 400},
		{"invalid tag header", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Tagging": "a=1&a=2"}}, "InvalidTag", 400},
		{"sse not implemented", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}}, "NotImplemented", 501},
		{"invalid storage class", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Storage-Class": "GLACIER"}}, "InvalidStorageClass", 400},
		{"unknown checksum algorithm", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Checksum-Algorithm": "CRC16"}}, "InvalidRequest", 400},
		{"bad xxhash64 value", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Checksum-Xxhash64": "AAAAAA=="}}, "InvalidRequest", 400},
		{"two checksum headers", testReq{method: "PUT", target: "/bkt/k", body: "data", sign: true, header: map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA==", "X-Amz-Checksum-Crc32c": "AAAAAA=="}}, "InvalidRequest", 400},

		// GetObject validation.
		{"anonymous response override", testReq{method: "GET", target: "/public/k?response-content-type=text/html"}, "InvalidRequest", 400},
		{"range and part number", testReq{method: "GET", target: "/bkt/k?partNumber=1", sign: true, header: map[string]string{"Range": "bytes=0-1"}}, "InvalidRequest", 400},
		{"bad part number", testReq{method: "GET", target: "/bkt/k?partNumber=0", sign: true}, "InvalidArgument", 400},

		// XML bodies.
		{"delete objects without md5", testReq{method: "POST", target: "/bkt?delete", body: deleteBody, sign: true}, "InvalidRequest", 400},
		{"delete objects bad md5", testReq{method: "POST", target: "/bkt?delete", body: deleteBody, sign: true, header: map[string]string{"Content-Md5": md5b64("other")}}, "BadDigest", 400},
		{"delete objects bad crc", testReq{method: "POST", target: "/bkt?delete", body: deleteBody, sign: true, header: map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="}}, "BadDigest", 400},
		{"delete objects malformed", testReq{method: "POST", target: "/bkt?delete", body: "<Delete>", sign: true, header: map[string]string{"Content-Md5": md5b64("<Delete>")}}, "MalformedXML", 400},
		{"delete objects too large", testReq{method: "POST", target: "/bkt?delete", body: strings.Repeat(" ", 2<<20+1), sign: true, header: map[string]string{"Content-Md5": md5b64(strings.Repeat(" ", 2<<20+1))}}, "EntityTooLarge", 400},
		{"versioning bad status", testReq{method: "PUT", target: "/bkt?versioning", body: "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>", sign: true}, "MalformedXML", 400},
		{"object tagging too many", testReq{method: "PUT", target: "/bkt/k?tagging", body: "<Tagging><TagSet>" + strings.Repeat("<Tag><Key>k</Key><Value>v</Value></Tag>", 11) + "</TagSet></Tagging>", sign: true}, "InvalidTag", 400},
		{"bucket tagging malformed", testReq{method: "PUT", target: "/bkt?tagging", body: "<Tagging>", sign: true}, "MalformedXML", 400},
		{"complete out of order", testReq{method: "POST", target: "/bkt/k?uploadId=u", body: "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>", sign: true}, "InvalidPartOrder", 400},
		{"create bucket other region", testReq{method: "PUT", target: "/bkt", body: "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>", sign: true}, "IllegalLocationConstraintException", 400},
		{"create bucket malformed", testReq{method: "PUT", target: "/bkt", body: "<CreateBucketConfiguration>", sign: true}, "MalformedXML", 400},
		{"create bucket bad object lock", testReq{method: "PUT", target: "/bkt", sign: true, header: map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "yes"}}, "InvalidArgument", 400},

		// Copy.
		{"copy source without key", testReq{method: "PUT", target: "/bkt/k", sign: true, header: map[string]string{"X-Amz-Copy-Source": "/src"}}, "InvalidArgument", 400},
		{"copy source bad bucket", testReq{method: "PUT", target: "/bkt/k", sign: true, header: map[string]string{"X-Amz-Copy-Source": "/S_rc/k"}}, "InvalidBucketName", 400},
		{"copy bad directive", testReq{method: "PUT", target: "/bkt/k", sign: true, header: map[string]string{"X-Amz-Copy-Source": "/src/k", "X-Amz-Metadata-Directive": "MERGE"}}, "InvalidArgument", 400},
		{"copy empty version id", testReq{method: "PUT", target: "/bkt/k", sign: true, header: map[string]string{"X-Amz-Copy-Source": "/src/k?versionId="}}, "InvalidArgument", 400},
		{"anonymous copy from private bucket", testReq{method: "PUT", target: "/public/k", header: map[string]string{"X-Amz-Copy-Source": "/private/k"}}, "AccessDenied", 403},

		// Listing parameters.
		{"bad max-keys", testReq{method: "GET", target: "/bkt?list-type=2&max-keys=-1", sign: true}, "InvalidArgument", 400},
		{"bad encoding type", testReq{method: "GET", target: "/bkt?encoding-type=base64", sign: true}, "InvalidArgument", 400},
		{"bad continuation token", testReq{method: "GET", target: "/bkt?list-type=2&continuation-token=%21%21", sign: true}, "InvalidArgument", 400},
		{"version marker without key marker", testReq{method: "GET", target: "/bkt?versions&version-id-marker=v", sign: true}, "InvalidArgument", 400},
		{"bad part number marker", testReq{method: "GET", target: "/bkt/k?uploadId=u&part-number-marker=x", sign: true}, "InvalidArgument", 400},
		{"bad max uploads", testReq{method: "GET", target: "/bkt?uploads&max-uploads=x", sign: true}, "InvalidArgument", 400},

		// Multipart.
		{"upload part bad number", testReq{method: "PUT", target: "/bkt/k?partNumber=10001&uploadId=u", body: "x", sign: true}, "InvalidArgument", 400},
		{"create upload bad checksum algorithm", testReq{method: "POST", target: "/bkt/k?uploads", sign: true, header: map[string]string{"X-Amz-Checksum-Algorithm": "CRC16"}}, "InvalidRequest", 400},
		{"create upload sha256 full object", testReq{method: "POST", target: "/bkt/k?uploads", sign: true, header: map[string]string{"X-Amz-Checksum-Algorithm": "SHA256", "X-Amz-Checksum-Type": "FULL_OBJECT"}}, "InvalidRequest", 400},
		{"create upload md5 full object", testReq{method: "POST", target: "/bkt/k?uploads", sign: true, header: map[string]string{"X-Amz-Checksum-Algorithm": "MD5", "X-Amz-Checksum-Type": "FULL_OBJECT"}}, "InvalidRequest", 400},
		{"create upload crc64nvme composite", testReq{method: "POST", target: "/bkt/k?uploads", sign: true, header: map[string]string{"X-Amz-Checksum-Algorithm": "CRC64NVME", "X-Amz-Checksum-Type": "COMPOSITE"}}, "InvalidRequest", 400},
		{"create upload bad storage class", testReq{method: "POST", target: "/bkt/k?uploads", sign: true, header: map[string]string{"X-Amz-Storage-Class": "DEEP_ARCHIVE"}}, "InvalidStorageClass", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, tc.req)
			checkIDs(t, resp)
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			b, _ := io.ReadAll(resp.Body)
			if !bytes.HasPrefix(b, []byte(xml.Header)) {
				t.Errorf("error body does not start with the XML declaration: %q", b)
			}
			var e errorBody
			if err := xml.Unmarshal(b, &e); err != nil {
				t.Fatalf("error body %q: %v", b, err)
			}
			if e.Code != tc.code {
				t.Errorf("code = %s (%s), want %s", e.Code, e.Message, tc.code)
			}
			if e.RequestID != resp.Header.Get("X-Amz-Request-Id") {
				t.Errorf("RequestId %q differs from header %q", e.RequestID, resp.Header.Get("X-Amz-Request-Id"))
			}
			if e.Message == "" || e.Resource == "" {
				t.Errorf("error document lacks Message or Resource: %s", b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestHeadErrorHasNoBody(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	resp := do(t, srv, testReq{method: "HEAD", target: "/bkt/k"})
	checkIDs(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if b, _ := io.ReadAll(resp.Body); len(b) != 0 {
		t.Fatalf("HEAD error has a body: %q", b)
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	seen := map[string]bool{}
	for range 50 {
		resp := do(t, srv, testReq{method: "GET", target: "/"})
		id := resp.Header.Get("X-Amz-Request-Id")
		if seen[id] {
			t.Fatalf("duplicate request id %s", id)
		}
		seen[id] = true
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	var ready error
	var mu sync.Mutex
	srv, _ := newTestServer(t, func(c *Config) {
		c.Ready = func(context.Context) error { mu.Lock(); defer mu.Unlock(); return ready }
	})
	for _, path := range []string{"/cairn/health/live", "/cairn/health/ready"} {
		resp := do(t, srv, testReq{method: "GET", target: path})
		checkIDs(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200 without auth", path, resp.StatusCode)
		}
	}
	mu.Lock()
	ready = errors.New("drives offline")
	mu.Unlock()
	if resp := do(t, srv, testReq{method: "GET", target: "/cairn/health/ready"}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("not ready: status %d, want 503", resp.StatusCode)
	}
	if resp := do(t, srv, testReq{method: "GET", target: "/cairn/health/live"}); resp.StatusCode != http.StatusOK {
		t.Errorf("live while not ready: status %d, want 200", resp.StatusCode)
	}
	// Any other key in a bucket named cairn is an ordinary (authenticated) object.
	if resp := do(t, srv, testReq{method: "GET", target: "/cairn/health/other"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /cairn/health/other anonymously = %d, want 403", resp.StatusCode)
	}
}

// A panic in a handler becomes a 500 InternalError with a generic message; the
// log names the operation and never carries a stack.
func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	// With no object layer configured, the GetObject handler panics (nil
	// interface) as soon as it reaches storage.
	srv, logs := newTestServer(t, func(c *Config) {
		c.AllowAnonymous = func(string) bool { return true }
	})
	resp := do(t, srv, testReq{method: "GET", target: "/bkt/k"})
	checkIDs(t, resp)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", resp.StatusCode)
	}
	var e errorBody
	b, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(b, &e); err != nil || e.Code != "InternalError" {
		t.Fatalf("body %q (%v), want InternalError", b, err)
	}
	if strings.Contains(string(b), "nil pointer") || strings.Contains(string(b), "goroutine") {
		t.Fatalf("panic detail leaked to the client: %s", b)
	}
	out := logs.String()
	if !strings.Contains(out, "handler panic") || !strings.Contains(out, "op=GetObject") {
		t.Errorf("panic not logged with the operation:\n%s", out)
	}
	if strings.Contains(out, "goroutine ") || strings.Contains(out, ".go:") {
		t.Errorf("log carries a stack:\n%s", out)
	}
	// The server keeps serving.
	if resp := do(t, srv, testReq{method: "GET", target: "/cairn/health/live"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("after panic: status %d", resp.StatusCode)
	}
}

// Without a verifier every request is anonymous.
func TestNilAuthIsAnonymous(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, func(c *Config) { c.Auth = nil })
	resp := do(t, srv, testReq{method: "GET", target: "/bkt/k", sign: true})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", resp.StatusCode)
	}
}

// A failure after the status line was sent cannot become an error document: the
// connection is cut, so the client sees a truncated response, never a "complete"
// wrong one. The same holds for a panic mid-stream.
func TestFailureAfterHeadersAbortsConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   handlerFunc
	}{
		{"error", func(w http.ResponseWriter, rq *request) error {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			_ = http.NewResponseController(w).Flush() // the client has the status line
			return errors.New("read quorum lost mid-stream")
		}},
		{"panic", func(w http.ResponseWriter, rq *request) error {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			_ = http.NewResponseController(w).Flush()
			panic("boom")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(Config{AllowAnonymous: func(string) bool { return true }})
			for i := range s.routes {
				if s.routes[i].op == "GetObject" {
					s.routes[i].fn = tc.fn
				}
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL + "/bkt/k")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", resp.StatusCode)
			}
			b, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Fatalf("body read completed (%q); want a truncated response", b)
			}
			if string(b) != "partial" {
				t.Fatalf("body = %q", b)
			}
		})
	}
}
