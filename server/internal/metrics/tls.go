package metrics

import (
	"crypto/x509"

	"github.com/prometheus/client_golang/prometheus"
)

var descCertExpiry = prometheus.NewDesc("cairn_tls_certificate_expiration_timestamp_seconds",
	"Node-local. Unix time at which the node's default TLS certificate expires (only with TLS; follows reloads).", nil, nil)

// certCollector reports the expiry of the certificate cert returns on each scrape,
// so a reloaded certificate shows at once. Nothing is reported while cert
// returns nil.
type certCollector struct{ cert func() *x509.Certificate }

func (c certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descCertExpiry }

func (c certCollector) Collect(ch chan<- prometheus.Metric) {
	if leaf := c.cert(); leaf != nil {
		ch <- prometheus.MustNewConstMetric(descCertExpiry, prometheus.GaugeValue, float64(leaf.NotAfter.Unix()))
	}
}
