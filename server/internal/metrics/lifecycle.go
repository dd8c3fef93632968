package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// Lifecycle is what WatchLifecycle observes: the lifecycle worker's counters
// (a *lifecycle.Worker's Stats) and the transition data path's (an
// *objects.Layer's TierStats).
type Lifecycle struct {
	Worker func() lifecycle.Stats
	Tiers  func() objects.TierStats
}

var (
	actionLabels = []string{"action"}

	descLCObjects = prometheus.NewDesc("cairn_lifecycle_objects_evaluated_total",
		"Node-local. Objects whose bucket's lifecycle rules this node's scanner evaluated.", nil, nil)
	descLCActions = prometheus.NewDesc("cairn_lifecycle_actions_total",
		"Node-local. Lifecycle actions applied, by action (transition_current and transition_noncurrent: versions moved to a tier).", actionLabels, nil)
	descLCFailures = prometheus.NewDesc("cairn_lifecycle_action_failures_total",
		"Node-local. Lifecycle actions that failed and are retried by the next scanner cycle, by action (transitions: mostly an unreachable tier).", actionLabels, nil)
	descTierReads = prometheus.NewDesc("cairn_tier_remote_reads_total",
		"Node-local. Reads of transitioned objects served from their tier.", nil, nil)
	descTierRestores = prometheus.NewDesc("cairn_tier_restores_total",
		"Node-local. Restored copies of transitioned objects made (RestoreObject).", nil, nil)
	descTierRestoresExpired = prometheus.NewDesc("cairn_tier_restores_expired_total",
		"Node-local. Restored copies dropped by the scanner after their expiry.", nil, nil)
	descTierDeletes = prometheus.NewDesc("cairn_tier_remote_deletes_total",
		"Node-local. Remote copies deleted from tiers (transitioned versions deleted or overwritten).", nil, nil)
	descTierDeletesQueued = prometheus.NewDesc("cairn_tier_remote_deletes_queued_total",
		"Node-local. Remote deletes that failed and went to the persisted retry queue (the scanner retries them).", nil, nil)
)

// WatchLifecycle exports the lifecycle worker's and the tiers' counters.
// Call it once.
func (m *Metrics) WatchLifecycle(src Lifecycle) {
	m.reg.MustRegister(&lifecycleCollector{src: src})
}

type lifecycleCollector struct{ src Lifecycle }

func (c *lifecycleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLCObjects, descLCActions, descLCFailures, descTierReads,
		descTierRestores, descTierRestoresExpired, descTierDeletes, descTierDeletesQueued} {
		ch <- d
	}
}

func (c *lifecycleCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if c.src.Worker != nil {
		st := c.src.Worker()
		counter(descLCObjects, st.Objects)
		for _, a := range lifecycle.ActionTypes {
			counter(descLCActions, st.Actions[a], a.String())
			counter(descLCFailures, st.Failed[a], a.String())
		}
	}
	if c.src.Tiers != nil {
		ts := c.src.Tiers()
		counter(descTierReads, ts.RemoteReads)
		counter(descTierRestores, ts.Restored)
		counter(descTierRestoresExpired, ts.RestoresExpired)
		counter(descTierDeletes, ts.RemoteDeletes)
		counter(descTierDeletesQueued, ts.RemoteDeletesQueued)
	}
}
