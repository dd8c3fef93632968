package provider

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// front puts handler-wrapped access to srv behind a new test server; tls selects
// an HTTPS front with a self-signed certificate.
func front(t *testing.T, srv *servertest.Server, tlsOn bool, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	target, _ := url.Parse(srv.URL)
	var h http.Handler = httputil.NewSingleHostReverseProxy(target)
	if wrap != nil {
		h = wrap(h)
	}
	var ts *httptest.Server
	if tlsOn {
		ts = httptest.NewTLSServer(h)
	} else {
		ts = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

func testClient(t *testing.T, cfg ClientConfig) *Client {
	t.Helper()
	cfg.AccessKey, cfg.SecretKey = servertest.AccessKey, servertest.SecretKey
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientRetries503(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	var refuse, seen atomic.Int32 // refuse the next `refuse` requests with 503 SlowDown
	ts := front(t, srv, false, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			if refuse.Add(-1) >= 0 {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	c := testClient(t, ClientConfig{Endpoint: ts.URL, MaxRetries: 3, MaxBackoff: 20 * time.Millisecond})

	refuse.Store(3)
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("retried")}); err != nil {
		t.Fatalf("CreateBucket through three 503s with 3 retries: %v", err)
	}
	if n := seen.Load(); n != 4 {
		t.Fatalf("server saw %d requests, want 3 refused + 1 served", n)
	}

	refuse.Store(4)
	_, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("retried")})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("HeadBucket through four 503s with 3 retries: err = %v, want the 503 after the last attempt", err)
	}
}

// TestAdminClientRetries: the admin client retries a 503 for any method, and a 500
// only for idempotent methods (a POST that failed half-way may have created
// something, so it is not sent twice).
func TestAdminClientRetries(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	var refuse, status, seen atomic.Int32
	ts := front(t, srv, false, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Add(1)
			if refuse.Add(-1) >= 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(int(status.Load()))
				w.Write([]byte(`{"code":"ServiceUnavailable","message":"busy"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	c := testClient(t, ClientConfig{Endpoint: ts.URL, MaxRetries: 3, MaxBackoff: 20 * time.Millisecond})
	try := func(n, code int32, call func() error) (int32, error) {
		t.Helper()
		seen.Store(0)
		refuse.Store(n)
		status.Store(code)
		err := call()
		return seen.Load(), err
	}

	n, err := try(3, 503, func() error {
		_, err := c.Admin.CreateUser(ctx, admin.CreateUserRequest{Name: "retried"})
		return err
	})
	if err != nil || n != 4 {
		t.Fatalf("CreateUser through three 503s: %d requests, err %v; want 4 and success", n, err)
	}
	n, err = try(2, 500, func() error {
		_, err := c.Admin.GetUser(ctx, "retried")
		return err
	})
	if err != nil || n != 3 {
		t.Fatalf("GetUser through two 500s: %d requests, err %v; want 3 and success", n, err)
	}
	n, err = try(1, 500, func() error {
		_, err := c.Admin.CreateGroup(ctx, admin.CreateGroupRequest{Name: "once"})
		return err
	})
	if err == nil || n != 1 {
		t.Fatalf("CreateGroup answered 500: %d requests, err %v; want 1 and the error", n, err)
	}
	n, err = try(4, 503, func() error {
		_, err := c.Admin.GetUser(ctx, "retried")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "503") || n != 4 {
		t.Fatalf("GetUser through four 503s with 3 retries: %d requests, err %v; want 4 and the 503", n, err)
	}
}

func TestClientTLS(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	ts := front(t, srv, true, nil)
	ctx := context.Background()
	list := func(c *Client) error {
		_, err := c.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	}
	if err := list(testClient(t, ClientConfig{Endpoint: ts.URL})); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed server without ca_cert: err = %v, want a certificate error", err)
	}
	if err := list(testClient(t, ClientConfig{Endpoint: ts.URL, Insecure: true})); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := list(testClient(t, ClientConfig{Endpoint: ts.URL, CACert: caPEM})); err != nil {
		t.Fatalf("ca_cert: %v", err)
	}
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
		want string
	}{
		{"no scheme", ClientConfig{Endpoint: "localhost:9000", AccessKey: "a", SecretKey: "b"}, "absolute http:// or https:// URL"},
		{"path", ClientConfig{Endpoint: "http://localhost:9000/s3", AccessKey: "a", SecretKey: "b"}, "must not have a path"},
		{"no keys", ClientConfig{Endpoint: "http://localhost:9000"}, "access_key and secret_key are required"},
		{"bad ca", ClientConfig{Endpoint: "https://localhost:9000", AccessKey: "a", SecretKey: "b", CACert: []byte("junk")}, "ca_cert holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewClient = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestBucketNameProblem(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"photos":                "",
		"my.bucket-1":           "",
		"ab":                    "must be 3 to 63 characters long",
		strings.Repeat("a", 64): "must be 3 to 63 characters long",
		"-abc":                  "must begin and end",
		"abc-":                  "must begin and end",
		"Photos":                "must begin and end",
		"pho_tos":               `may contain only lower-case letters, digits, hyphens and periods (found '_' at position 4)`,
		"a..b":                  "two adjacent periods",
		"10.0.0.1":              "IP address",
		"xn--abc":               "must not begin with xn--",
		"abc-s3alias":           "must not end with -s3alias",
	} {
		got := bucketNameProblem(name)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("bucketNameProblem(%q) = %q, want %q", name, got, want)
		}
	}
	if p := bucketPrefixProblem(strings.Repeat("a", 38)); !strings.Contains(p, "at most 37 characters") {
		t.Errorf("38-character prefix: %q", p)
	}
	if p := bucketPrefixProblem("logs-"); p != "" {
		t.Errorf("prefix logs-: %q", p)
	}
	if s := uniqueSuffix(); len(s) != bucketSuffixLen || bucketNameProblem("x"+s) != "" {
		t.Errorf("uniqueSuffix() = %q", s)
	}
}

func TestIAMNameProblems(t *testing.T) {
	t.Parallel()
	user := iamNameProblem(maxUserName)
	for name, want := range map[string]string{
		"alice":                 "",
		"svc+ci=1,a.b@c_d-e":    "",
		"":                      "must not be empty",
		"..":                    "is not a valid name",
		"a/b":                   `may contain only letters, digits and +=,.@_- (found '/' at position 2)`,
		strings.Repeat("a", 65): "must be at most 64 characters long (it is 65)",
	} {
		if got := user(name); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("user name %q: %q, want %q", name, got, want)
		}
	}
	for id, want := range map[string]string{
		"CKABC123":  "",
		"key.1_a-b": "",
		"ab":        "must be 3 to 128 characters long",
		"-abc":      "found '-' at position 1",
		"ab/c":      "found '/' at position 3",
	} {
		if got := accessKeyIDProblem(id); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("access key id %q: %q, want %q", id, got, want)
		}
	}
	for s, want := range map[string]string{
		"2030-01-31T00:00:00Z":      "",
		"2030-01-31T02:00:00+02:00": "",
		"2030-01-31":                "is not an RFC 3339 timestamp",
	} {
		if got := rfc3339Problem(s); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("expiration %q: %q, want %q", s, got, want)
		}
	}
}
