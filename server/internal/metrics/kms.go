package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descKMSUp = prometheus.NewDesc("cairn_kms_up",
		"Node-local. 1 if the last health check of the node's KMS succeeded (a data key generated and decrypted), 0 if it failed; absent without a KMS.", nil, nil)
	descKMSChecks = prometheus.NewDesc("cairn_kms_checks_total",
		"Node-local. KMS health checks by result (ok, error).", []string{"result"}, nil)
)

// kmsProber checks the KMS every interval and reports the result.
type kmsProber struct {
	mu         sync.Mutex
	up         bool
	checked    bool
	ok, failed int64
	stop       chan struct{}
	done       chan struct{}
	once       sync.Once
}

// WatchKMS starts checking the KMS with check every interval (0: 30 s) until
// Close, and exports cairn_kms_up / cairn_kms_checks_total for the
// KMS-unreachable alert.
func (m *Metrics) WatchKMS(check func(context.Context) error, interval time.Duration) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	p := &kmsProber{stop: make(chan struct{}), done: make(chan struct{})}
	m.mu.Lock()
	m.kms = p
	m.mu.Unlock()
	m.reg.MustRegister(p)
	probe := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := check(ctx)
		cancel()
		p.mu.Lock()
		p.up, p.checked = err == nil, true
		if err == nil {
			p.ok++
		} else {
			p.failed++
		}
		p.mu.Unlock()
	}
	go func() {
		defer close(p.done)
		probe()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				probe()
			}
		}
	}()
}

func (p *kmsProber) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *kmsProber) Describe(ch chan<- *prometheus.Desc) {
	ch <- descKMSUp
	ch <- descKMSChecks
}

func (p *kmsProber) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checked {
		return
	}
	up := 0.0
	if p.up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descKMSUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descKMSChecks, prometheus.CounterValue, float64(p.ok), "ok")
	ch <- prometheus.MustNewConstMetric(descKMSChecks, prometheus.CounterValue, float64(p.failed), "error")
}
