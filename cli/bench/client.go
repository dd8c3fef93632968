package bench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// newTransport returns the HTTP transport shared by all of a run's clients:
// enough idle connections for every worker, no proxy (bench measures the
// server, not a proxy), no transparent gzip (GET must count the bytes the
// server sent) and the TLS settings from opt.
func newTransport(opt Options) (*http.Transport, error) {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   2 * opt.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
	if opt.CACert == "" && !opt.Insecure {
		return tr, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opt.Insecure}
	if opt.CACert != "" {
		pem, err := os.ReadFile(opt.CACert)
		if err != nil {
			return nil, fmt.Errorf("bench: CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bench: CA bundle %s: no PEM certificates found", opt.CACert)
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

// newS3Client returns a path-style S3 client for opt over hc. With retry
// false, failed requests are reported as they are (the measured phase);
// with retry true the SDK's standard retryer applies (setup, prepare and
// cleanup).
func newS3Client(opt Options, hc *http.Client, retry bool) *s3.Client {
	o := s3.Options{
		Region:                     opt.Region,
		BaseEndpoint:               aws.String(opt.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(opt.AccessKey, opt.SecretKey, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if !retry {
		o.Retryer = aws.NopRetryer{}
	}
	if opt.UnsignedPayload {
		o.APIOptions = append(o.APIOptions, unsignedPayload)
	}
	return s3.New(o)
}

// unsignedPayload makes an operation sign UNSIGNED-PAYLOAD instead of the
// body's SHA-256, whatever the scheme.
func unsignedPayload(stack *middleware.Stack) error {
	// The middleware that hashes the payload; for PutObject the SDK has
	// already swapped in a scheme-dependent variant under the same id.
	if _, ok := stack.Finalize.Get((*v4.ComputePayloadSHA256)(nil).ID()); !ok {
		return nil
	}
	return v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware(stack)
}

// statusCode returns the HTTP status of a failed S3 call, or 0 if the call
// got no response.
func statusCode(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
