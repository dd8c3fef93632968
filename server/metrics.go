package server

import (
	"crypto/x509"
	"time"

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

func newMetrics(cfg Config) *metrics.Metrics {
	return metrics.New(metrics.Options{
		Public:        cfg.Metrics.Public,
		Token:         metrics.Token(cfg.RootUser, cfg.RootPassword),
		BucketUsage:   cfg.Metrics.BucketUsage,
		UsageInterval: cfg.Metrics.UsageInterval,
		Version:       cfg.Metrics.Version,
		Certificate:   cfg.Metrics.Certificate,
		Logger:        cfg.Logger,
		Now:           cfg.Now,
	})
}
