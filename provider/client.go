package provider

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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
)

// Client is what Configure hands to every resource and data source. It is safe for
// concurrent use (Terraform calls resources in parallel).
type Client struct {
	S3       *s3.Client
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
	return &Client{S3: s3c, Endpoint: cfg.Endpoint, Region: cfg.Region}, nil
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
