package server

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/cairn-io/cairn/server/internal/iam"
	"github.com/cairn-io/cairn/server/internal/metrics"
)

// MetricsConfig configures the Prometheus endpoint, GET /metrics on the S3 port.
// The metric names are listed in grafana/METRICS.md.
type MetricsConfig struct {
	// Public serves /metrics without a token. By default a scrape must send
	// "Authorization: Bearer <MetricsToken(root user, root password)>".
	Public bool
	// BucketUsage adds per-bucket usage series (a bucket label per bucket).
	BucketUsage bool
	// UsageInterval is the minimum time between usage scans, which list the whole
	// namespace to count objects and bytes (0: 5 minutes).
	UsageInterval time.Duration
	// Version is reported by cairn_build_info.
	Version string
	// Certificate, if set, returns the node's current TLS certificate (nil: none),
	// whose expiry is exported for the certificate-expiry alert.
	Certificate func() *x509.Certificate
}

// MetricsToken is the bearer token /metrics accepts for the given root
// credentials (an HMAC of the secret; `cairn admin metrics-token` prints it).
func MetricsToken(rootUser, rootPassword string) string {
	return metrics.Token(rootUser, rootPassword)
}

func newMetrics(cfg Config, keyToken func(string) (string, bool)) *metrics.Metrics {
	return metrics.New(metrics.Options{
		Public:        cfg.Metrics.Public,
		Token:         metrics.Token(cfg.RootUser, cfg.RootPassword),
		KeyToken:      keyToken,
		BucketUsage:   cfg.Metrics.BucketUsage,
		UsageInterval: cfg.Metrics.UsageInterval,
		Version:       cfg.Metrics.Version,
		Certificate:   cfg.Metrics.Certificate,
		Logger:        cfg.Logger,
		Now:           cfg.Now,
	})
}

// metricsKeyToken vouches for access-key metrics tokens: the key's secret, and
// whether its policies allow admin:ServerInfo (what scraping reveals).
func (s *Server) metricsKeyToken(accessKey string) (string, bool) {
	if s.iam == nil || s.authz == nil {
		return "", false
	}
	secret, ok := s.iam.SecretKey(accessKey)
	if !ok {
		return "", false
	}
	err := s.authz.Authorize(context.Background(), iam.Request{Action: iam.ActionAdminServerInfo, Resource: "*", AccessKey: accessKey})
	return secret, err == nil
}

// MetricsKeyToken is the /metrics bearer token of an access key (see
// `cairn admin metrics-token --access-key`).
func MetricsKeyToken(accessKey, secretKey string) string {
	return metrics.KeyToken(accessKey, secretKey)
}

// mintMetricsToken is the admin API's GET /metrics-token: root gets the root
// token, other callers their access key's token.
func (s *Server) mintMetricsToken(accessKey string) (string, error) {
	if accessKey == s.cfg.RootUser {
		return metrics.Token(s.cfg.RootUser, s.cfg.RootPassword), nil
	}
	secret, ok := s.iam.SecretKey(accessKey)
	if !ok {
		return "", iam.ErrNoSuchAccessKey
	}
	return metrics.KeyToken(accessKey, secret), nil
}
