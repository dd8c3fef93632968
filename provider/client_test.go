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
