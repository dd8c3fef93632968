package provider

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-io/cairn/server/admin"
)

// Client is what Configure hands to every resource and data source. It is safe for
// concurrent use (Terraform calls resources in parallel).
type Client struct {
	// S3 serves buckets, objects and bucket policies.
	S3 *s3.Client
	// Admin serves users, groups, policies and access keys (the admin API under
	// /cairn/admin/v1). It signs with the same credentials, over the same TLS
	// settings, and retries like S3 does (see retryTransport).
	Admin    *admin.Client
	Endpoint string
	Region   string
}

// ClientConfig is the resolved provider configuration.
type ClientConfig struct {
	Endpoint  string // http(s)://host:port, no path
	Region    string
	AccessKey string
	SecretKey string
	Insecure  bool   // skip TLS certificate verification
	CACert    []byte // PEM bundle trusted in addition to the system roots
	// MaxRetries is how many times a retryable failure (503 SlowDown, 500, 502,
	// 504, connection reset) is retried, with exponential backoff and jitter.
	MaxRetries int
	// MaxBackoff caps the wait between two attempts (default 20s).
	MaxBackoff time.Duration
}

// NewClient validates cfg and builds the S3 client.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q must be an absolute http:// or https:// URL such as https://s3.example.com:9000", cfg.Endpoint)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("endpoint %q must not have a path", cfg.Endpoint)
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("access_key and secret_key are required (or CAIRN_ACCESS_KEY and CAIRN_SECRET_KEY)")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 20 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // opt-in, documented
	if len(cfg.CACert) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CACert) {
			return nil, errors.New("ca_cert holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	retryer := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = cfg.MaxRetries + 1
		o.MaxBackoff = cfg.MaxBackoff
		// Terraform applies are bursts of calls; the SDK's retry quota would turn a
		// server that is briefly busy into failed applies.
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{503: {}}})
	})
	s3c := s3.New(s3.Options{
		BaseEndpoint: aws.String(strings.TrimSuffix(cfg.Endpoint, "/")),
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		UsePathStyle: true,
		HTTPClient:   &http.Client{Transport: tr},
		Retryer:      retryer,
	})
	// The admin client gets its own copy of the transport: a stuck server must not
	// hold an apply forever, and the S3 client's pool is not shared with it.
	atr := tr.Clone()
	atr.ResponseHeaderTimeout = time.Minute
	adm, err := admin.New(strings.TrimSuffix(cfg.Endpoint, "/"), admin.Options{
		AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Region: cfg.Region,
		HTTPClient: &http.Client{Transport: &retryTransport{next: atr, maxRetries: cfg.MaxRetries, maxBackoff: cfg.MaxBackoff}},
	})
	if err != nil {
		return nil, err
	}
	return &Client{S3: s3c, Admin: adm, Endpoint: cfg.Endpoint, Region: cfg.Region}, nil
}

// retryTransport retries admin API requests the way the S3 client's retryer does:
// a 503 (the server did not act on the request) is retried for every method; 500,
// 502, 504 and connection errors only for the idempotent GET, HEAD, PUT and
// DELETE, since a POST that failed half-way may have created something. Waits
// grow exponentially from 100 ms, with full jitter, up to maxBackoff.
//
// The admin client signs each request once; a resent copy carries the same
// signature, which the server accepts for minutes, far longer than the retries.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	maxBackoff time.Duration
}

var _ http.RoundTripper = (*retryTransport)(nil)

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if attempt >= t.maxRetries || !retryable(req.Method, resp, err) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		wait := min(t.maxBackoff, 100*time.Millisecond<<min(attempt, 20))
		wait = time.Duration(rand.Int64N(int64(wait)) + 1)
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
	}
}

// retryable reports whether a request that got resp (or err) may be sent again.
func retryable(method string, resp *http.Response, err error) bool {
	idempotent := method == http.MethodGet || method == http.MethodHead || method == http.MethodPut || method == http.MethodDelete
	if err != nil {
		return idempotent
	}
	switch resp.StatusCode {
	case http.StatusServiceUnavailable:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// readCACert accepts PEM content or the path of a PEM file.
func readCACert(v string) ([]byte, error) {
	if strings.Contains(v, "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("ca_cert is neither PEM content nor a readable file: %w", err)
	}
	return b, nil
}

// errorCode is the S3 error code of err ("NoSuchBucket", …), "NotFound" for a bare
// 404 (HEAD responses have no body), or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() != "" {
		return ae.ErrorCode()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return "NotFound"
	}
	return ""
}

// isNotFound reports whether err says the bucket (or the key) does not exist.
func isNotFound(err error, codes ...string) bool {
	c := errorCode(err)
	switch c {
	case "NoSuchBucket", "NotFound":
		return true
	}
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}
