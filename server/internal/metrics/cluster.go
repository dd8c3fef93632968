package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// Cluster is what Watch observes; an *objects.Layer is one.
type Cluster interface {
	// Sets describes every erasure set of every pool, drives in slot order.
	Sets() []objects.SetInfo
	// Stats returns the object layer's counters.
	Stats() objects.Stats
	// HealStats returns the heal queue's and the scanner's counters.
	HealStats() objects.HealStats
	Lister
}

var _ Cluster = (*objects.Layer)(nil)

// infoTimeout bounds one drive's Info call during a scrape: a hung drive shows as
// offline instead of stalling the scrape.
const infoTimeout = 2 * time.Second

// Watch registers the collectors that read c on every scrape: drive capacity and
// state, erasure-set health, the layer's counters and usage. lay is the layout c
// runs with (one pool, index 0, for now). Call it once.
func (m *Metrics) Watch(c Cluster) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.watched {
		panic("metrics: Watch called twice")
	}
	m.watched = true
	m.usage = newUsageScanner(c, m.opts, m.reg)
	m.reg.MustRegister(&clusterCollector{c: c, usage: m.usage})
}

var (
	driveLabels = []string{"pool", "set", "drive"}
	setLabels   = []string{"pool", "set"}

	descDriveOnline = prometheus.NewDesc("cairn_drive_online",
		"Cluster-wide. 1 if the drive answers this node and its directory exists, else 0 (aggregate with min by drive).", driveLabels, nil)
	descDriveCapacity = prometheus.NewDesc("cairn_drive_capacity_bytes",
		"Cluster-wide. Size of the drive's filesystem (drives online from this node only).", driveLabels, nil)
	descDriveFree = prometheus.NewDesc("cairn_drive_free_bytes",
		"Cluster-wide. Bytes available to Cairn on the drive's filesystem (drives online from this node only).", driveLabels, nil)
	descDriveUsed = prometheus.NewDesc("cairn_drive_used_bytes",
		"Cluster-wide. Bytes used on the drive's filesystem, by anyone (drives online from this node only).", driveLabels, nil)

	descSetDrives = prometheus.NewDesc("cairn_erasure_set_drives",
		"Cluster-wide. Drives in the erasure set.", setLabels, nil)
	descSetOnline = prometheus.NewDesc("cairn_erasure_set_drives_online",
		"Cluster-wide. Drives of the erasure set that are online.", setLabels, nil)
	descSetData = prometheus.NewDesc("cairn_erasure_set_data_shards",
		"Cluster-wide. Data shards per object written to the set now (k of k+m).", setLabels, nil)
	descSetParity = prometheus.NewDesc("cairn_erasure_set_parity_shards",
		"Cluster-wide. Parity shards per object written to the set now (m of k+m).", setLabels, nil)
	descSetReadQ = prometheus.NewDesc("cairn_erasure_set_read_quorum",
		"Cluster-wide. Drives of the set that must answer a read.", setLabels, nil)
	descSetWriteQ = prometheus.NewDesc("cairn_erasure_set_write_quorum",
		"Cluster-wide. Drives of the set on which a write must commit; writes fail when fewer are online.", setLabels, nil)
	descSetUsable = prometheus.NewDesc("cairn_erasure_set_usable_capacity_bytes",
		"Cluster-wide. Object bytes the set can hold: smallest online drive times data shards.", setLabels, nil)
	descSetUsableFree = prometheus.NewDesc("cairn_erasure_set_usable_free_bytes",
		"Cluster-wide. Object bytes the set can still take: smallest free space of its online drives times data shards.", setLabels, nil)

	descReconstructed = prometheus.NewDesc("cairn_erasure_shards_reconstructed_total",
		"Node-local. Shards that could not be read (missing, offline or corrupt) and were rebuilt from the others while serving a read.", nil, nil)
	descCorrupt = prometheus.NewDesc("cairn_bitrot_shards_corrupt_total",
		"Node-local. Shards whose bitrot hash did not match when read; counted in cairn_erasure_shards_reconstructed_total too.", nil, nil)

	descHealBacklog = prometheus.NewDesc("cairn_heal_backlog_objects",
		"Node-local. Objects in this node's heal queue now.", nil, nil)
	descHealQueued = prometheus.NewDesc("cairn_heal_queued_objects_total",
		"Node-local. Objects put in the heal queue (damage found by reads and partial writes).", nil, nil)
	descHealHealed = prometheus.NewDesc("cairn_heal_objects_healed_total",
		"Node-local. Heal operations completed (by the queue's workers and the scanner).", nil, nil)
	descHealFailed = prometheus.NewDesc("cairn_heal_objects_failed_total",
		"Node-local. Heal operations that failed (the scanner retries them).", nil, nil)
	descHealShards = prometheus.NewDesc("cairn_heal_shards_healed_total",
		"Node-local. Shards rebuilt by healing.", nil, nil)
	descHealBytes = prometheus.NewDesc("cairn_heal_written_bytes_total",
		"Node-local. Shard bytes written by healing.", nil, nil)
	descScanKeys = prometheus.NewDesc("cairn_scanner_objects_scanned_total",
		"Node-local. Keys the background scanner examined (its rate is the scanner's progress).", nil, nil)
	descScanCycles = prometheus.NewDesc("cairn_scanner_cycles_total",
		"Node-local. Complete background scanner cycles.", nil, nil)
	descScanLast = prometheus.NewDesc("cairn_scanner_last_cycle_duration_seconds",
		"Node-local. Duration of the last complete background scanner cycle (0 before the first).", nil, nil)
)

// clusterCollector reads drive and layer state on each scrape.
type clusterCollector struct {
	c     Cluster
	usage *usageScanner
}

func (cc *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descDriveOnline, descDriveCapacity, descDriveFree, descDriveUsed,
		descSetDrives, descSetOnline, descSetData, descSetParity, descSetReadQ, descSetWriteQ,
		descSetUsable, descSetUsableFree, descReconstructed, descCorrupt,
		descHealBacklog, descHealQueued, descHealHealed, descHealFailed, descHealShards, descHealBytes,
		descScanKeys, descScanCycles, descScanLast,
	} {
		ch <- d
	}
	cc.usage.describe(ch)
}

func (cc *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	cc.usage.collect(ch)
	st := cc.c.Stats()
	ch <- prometheus.MustNewConstMetric(descReconstructed, prometheus.CounterValue, float64(st.ShardsReconstructed))
	ch <- prometheus.MustNewConstMetric(descCorrupt, prometheus.CounterValue, float64(st.ShardsCorrupt))
	hs := cc.c.HealStats()
	counter := func(desc *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	ch <- prometheus.MustNewConstMetric(descHealBacklog, prometheus.GaugeValue, float64(hs.Backlog))
	counter(descHealQueued, hs.Queued)
	counter(descHealHealed, hs.Healed)
	counter(descHealFailed, hs.Failed)
	counter(descHealShards, hs.ShardsHealed)
	counter(descHealBytes, hs.BytesHealed)
	counter(descScanKeys, hs.Scanned)
	counter(descScanCycles, hs.ScanCycles)
	ch <- prometheus.MustNewConstMetric(descScanLast, prometheus.GaugeValue, hs.LastCycleTime.Seconds())

	sets := cc.c.Sets()
	infos := make([][]driveState, len(sets))
	var wg sync.WaitGroup
	for si, st := range sets {
		infos[si] = make([]driveState, len(st.Drives))
		for di, d := range st.Drives {
			wg.Go(func() { infos[si][di] = stateOf(d) })
		}
	}
	wg.Wait()

	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for si, st := range sets {
		ds := st.Drives
		pool, set := strconv.Itoa(st.Pool), strconv.Itoa(st.Index)
		online := 0
		var minTotal, minFree uint64
		for di, d := range ds {
			s := infos[si][di]
			name := driveName(d)
			if !s.online {
				gauge(descDriveOnline, 0, pool, set, name)
				continue
			}
			gauge(descDriveOnline, 1, pool, set, name)
			gauge(descDriveCapacity, float64(s.info.Total), pool, set, name)
			gauge(descDriveFree, float64(s.info.Free), pool, set, name)
			gauge(descDriveUsed, float64(s.info.Used), pool, set, name)
			if online == 0 || s.info.Total < minTotal {
				minTotal = s.info.Total
			}
			if online == 0 || s.info.Free < minFree {
				minFree = s.info.Free
			}
			online++
		}
		data := st.Data
		gauge(descSetDrives, float64(len(ds)), pool, set)
		gauge(descSetOnline, float64(online), pool, set)
		gauge(descSetData, float64(data), pool, set)
		gauge(descSetParity, float64(st.Parity), pool, set)
		gauge(descSetReadQ, float64(st.ReadQuorum), pool, set)
		gauge(descSetWriteQ, float64(st.WriteQuorum), pool, set)
		gauge(descSetUsable, float64(minTotal)*float64(data), pool, set)
		gauge(descSetUsableFree, float64(minFree)*float64(data), pool, set)
	}
}

// driveName is the drive label WrapDrive chose.
func driveName(d drive.Drive) string {
	if w, ok := d.(*instrumented); ok {
		return w.name
	}
	return d.String()
}

type driveState struct {
	online bool
	info   drive.Info
}

func stateOf(d drive.Drive) driveState {
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	info, err := d.Info(ctx)
	return driveState{online: err == nil && info.Online, info: info}
}
