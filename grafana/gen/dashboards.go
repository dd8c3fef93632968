package main

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// The dashboards. Metric scope (see grafana/METRICS.md): node-local series are
// summed across instances; cluster-wide series (drive state and capacity, erasure
// sets, usage) are reported by every node and aggregated with max (min for
// "online") by drive or set, so nothing is counted twice.

// Selectors. $job is the Prometheus job(s) scraping Cairn, $node the instance(s).
// Per-drive state and capacity, one series per drive whatever the node count.
const (
	driveOnline = `min by (pool, set, drive) (cairn_drive_online{job=~"$job"})`
	driveCap    = `max by (pool, set, drive) (cairn_drive_capacity_bytes{job=~"$job"})`
	driveUsed   = `max by (pool, set, drive) (cairn_drive_used_bytes{job=~"$job"})`
	driveFree   = `max by (pool, set, drive) (cairn_drive_free_bytes{job=~"$job"})`
)

const (
	jobSel  = `job=~"$job"`
	nodeSel = `job=~"$job", instance=~"$node"`
	apiSel  = `job=~"$job", instance=~"$node", api=~"$api"`
	rate    = `[$__rate_interval]`
)

var (
	jobVar = variable{name: "job", label: "Job", query: `label_values(cairn_build_info, job)`, multi: true}
	// Only Cairn instances: cairn_build_info is exported by every Cairn node.
	nodeVar   = variable{name: "node", label: "Node", query: `label_values(cairn_build_info{job=~"$job"}, instance)`, multi: true}
	apiVar    = variable{name: "api", label: "API", query: `label_values(cairn_s3_requests_total{job=~"$job", instance=~"$node"}, api)`, multi: true}
	bucketVar = variable{name: "bucket", label: "Bucket", query: `label_values(cairn_bucket_usage_objects{job=~"$job"}, bucket)`, multi: true}
)

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

// now is an instant query (the current value), for tables.
func now(expr, legend string) query {
	return query{expr: expr, legend: legend, instant: true, format: prometheus.PromQueryFormatTable}
}

func ts(title, unit, desc string, qs ...query) panel {
	return panel{kind: timeSeries, title: title, unit: unit, desc: desc, queries: qs}
}

func stat1(title, unit, desc string, qs ...query) panel {
	return panel{kind: statPanel, title: title, unit: unit, desc: desc, queries: qs}
}

func f(v float64) *float64 { return &v }

var (
	okIfZero   = []threshold{{color: "green"}, {from: f(1), color: "red"}}
	capacityTh = []threshold{{color: "green"}, {from: f(0.8), color: "orange"}, {from: f(0.9), color: "red"}}
	marginTh   = []threshold{{color: "red"}, {from: f(1), color: "orange"}, {from: f(2), color: "green"}}
)

// p quantile of histogram family h (a _bucket series) by the given labels.
func quantile(p, h, selector, by string) string {
	by = strings.TrimSpace(by + ", le")
	by = strings.TrimPrefix(by, ", ")
	return "histogram_quantile(" + p + ", sum by (" + by + ") (rate(" + h + "{" + selector + "}" + rate + ")))"
}

func boards() []board {
	return []board{overview(), s3API(), drives(), node(), buckets()}
}

func overview() board {
	usable := `sum(max by (pool, set) (cairn_erasure_set_usable_capacity_bytes{` + jobSel + `}))`
	usableFree := `sum(max by (pool, set) (cairn_erasure_set_usable_free_bytes{` + jobSel + `}))`
	return board{
		file: "cairn-overview.json", uid: "cairn-overview", title: "Cairn / Cluster overview",
		description: "Health, capacity and S3 traffic of a Cairn cluster at a glance.",
		vars:        []variable{jobVar},
		rows: []row{
			{title: "Cluster", panels: []panel{
				stat1("Uptime (latest restart)", "s", "Time since the most recently started node started.",
					q(`time() - max(process_start_time_seconds{`+jobSel+`} and on (job, instance) cairn_build_info{`+jobSel+`})`, "")),
				stat1("Nodes up", "none", "Cairn nodes Prometheus scrapes successfully.",
					q(`sum(up{`+jobSel+`})`, "")),
				{kind: statPanel, title: "Nodes down", unit: "none", desc: "Cairn nodes Prometheus cannot scrape.", thresholds: okIfZero,
					queries: []query{q(`count(up{`+jobSel+`} == 0) or vector(0)`, "")}},
				stat1("Drives online", "none", "Drives every node can reach.",
					q(`count(`+driveOnline+` == 1) or vector(0)`, "")),
				{kind: statPanel, title: "Drives offline", unit: "none", desc: "Drives some node cannot reach, or whose directory is gone.", thresholds: okIfZero,
					queries: []query{q(`count(`+driveOnline+` == 0) or vector(0)`, "")}},
				stat1("Objects", "short", "Objects (latest versions), from the last usage scan.",
					q(`max(cairn_usage_objects{`+jobSel+`})`, "")),
				stat1("Buckets", "none", "Buckets, from the last usage scan.",
					q(`max(cairn_usage_buckets{`+jobSel+`})`, "")),
				stat1("Object data", "bytes", "Sum of object sizes (before erasure coding), from the last usage scan.",
					q(`max(cairn_usage_logical_bytes{`+jobSel+`})`, "")),
			}},
			{title: "Capacity", panels: []panel{
				stat1("Raw capacity", "bytes", "Sum of the drives' filesystem sizes.",
					q(`sum(`+driveCap+`)`, "")),
				stat1("Usable capacity", "bytes", "Object bytes the erasure sets can hold (raw capacity less parity).",
					q(usable, "")),
				stat1("Usable free", "bytes", "Object bytes the erasure sets can still take.",
					q(usableFree, "")),
				{kind: gaugePanel, title: "Usable capacity used", unit: "percentunit", min: f(0), max: f(1), thresholds: capacityTh,
					desc:    "Alerts fire at 80% and 90%.",
					queries: []query{q(`1 - `+usableFree+` / `+usable, "")}},
				stat1("Growth per day", "bytes", "Raw bytes used, trend over the last hour, per day.",
					q(`sum(max by (pool, set, drive) (deriv(cairn_drive_used_bytes{`+jobSel+`}[1h]))) * 86400`, "")),
				ts("Raw capacity used", "bytes", "Bytes used and total on the drives' filesystems.",
					q(`sum(`+driveUsed+`)`, "used"),
					q(`sum(`+driveCap+`)`, "capacity")),
			}},
			{title: "S3 traffic", panels: []panel{
				ts("Requests per second", "reqps", "S3 requests by API, all nodes.",
					q(`sum by (api) (rate(cairn_s3_requests_total{`+jobSel+`}`+rate+`))`, "{{api}}")),
				ts("Ingress and egress", "Bps", "Request and response body bytes.",
					q(`sum(rate(cairn_s3_received_bytes_total{`+jobSel+`}`+rate+`))`, "ingress"),
					q(`sum(rate(cairn_s3_sent_bytes_total{`+jobSel+`}`+rate+`))`, "egress")),
				ts("Errors per second", "reqps", "Requests answered with 4xx (client) and 5xx (server) statuses.",
					q(`sum(rate(cairn_s3_requests_total{`+jobSel+`, code=~"4.."}`+rate+`)) or vector(0)`, "4xx"),
					q(`sum(rate(cairn_s3_requests_total{`+jobSel+`, code=~"5.."}`+rate+`)) or vector(0)`, "5xx")),
				ts("Latency p50 by API", "s", "Median time to complete a request.",
					q(quantile("0.5", "cairn_s3_request_duration_seconds_bucket", jobSel, "api"), "{{api}}")),
				ts("Latency p99 by API", "s", "99th percentile time to complete a request.",
					q(quantile("0.99", "cairn_s3_request_duration_seconds_bucket", jobSel, "api"), "{{api}}")),
			}},
		},
	}
}

func s3API() board {
	return board{
		file: "cairn-s3.json", uid: "cairn-s3", title: "Cairn / S3 API",
		description: "Per-API request rate, latency, errors and throughput.",
		vars:        []variable{jobVar, nodeVar, apiVar},
		rows: []row{
			{title: "Requests", panels: []panel{
				ts("Request rate by API", "reqps", "",
					q(`sum by (api) (rate(cairn_s3_requests_total{`+apiSel+`}`+rate+`))`, "{{api}}")),
				ts("Request rate by status", "reqps", "",
					q(`sum by (code) (rate(cairn_s3_requests_total{`+apiSel+`}`+rate+`))`, "{{code}}")),
				ts("Requests in flight", "short", "Requests being served at scrape time.",
					q(`sum by (instance) (cairn_s3_requests_in_flight{`+nodeSel+`})`, "{{instance}}")),
				ts("Server error ratio", "percentunit", "Share of requests answered 5xx.",
					q(`(sum(rate(cairn_s3_requests_total{`+apiSel+`, code=~"5.."}`+rate+`)) or vector(0)) / sum(rate(cairn_s3_requests_total{`+apiSel+`}`+rate+`))`, "5xx")),
			}},
			{title: "Latency", panels: []panel{
				{kind: heatmapPanel, title: "Latency heatmap", unit: "s", width: 24,
					desc:    "Distribution of request durations for the selected APIs.",
					queries: []query{{expr: `sum by (le) (increase(cairn_s3_request_duration_seconds_bucket{` + apiSel + `}` + rate + `))`, legend: "{{le}}", format: prometheus.PromQueryFormatHeatmap}}},
				ts("Latency percentiles", "s", "Over the selected APIs.",
					q(quantile("0.5", "cairn_s3_request_duration_seconds_bucket", apiSel, ""), "p50"),
					q(quantile("0.9", "cairn_s3_request_duration_seconds_bucket", apiSel, ""), "p90"),
					q(quantile("0.99", "cairn_s3_request_duration_seconds_bucket", apiSel, ""), "p99")),
				ts("Latency p99 by API", "s", "",
					q(quantile("0.99", "cairn_s3_request_duration_seconds_bucket", apiSel, "api"), "{{api}}")),
				ts("Time to first byte p50 by API", "s", "Arrival to response header: for GET, how soon data starts flowing.",
					q(quantile("0.5", "cairn_s3_time_to_first_byte_seconds_bucket", apiSel, "api"), "{{api}}")),
				ts("Time to first byte p99 by API", "s", "",
					q(quantile("0.99", "cairn_s3_time_to_first_byte_seconds_bucket", apiSel, "api"), "{{api}}")),
			}},
			{title: "Errors and throughput", panels: []panel{
				ts("Errors by S3 error code", "reqps", "Error documents sent, by API and S3 code (NoSuchKey, AccessDenied, SlowDown, …).",
					q(`sum by (api, error_code) (rate(cairn_s3_request_errors_total{`+apiSel+`}`+rate+`))`, "{{api}} {{error_code}}")),
				ts("Ingress by API", "Bps", "Request body bytes received.",
					q(`sum by (api) (rate(cairn_s3_received_bytes_total{`+apiSel+`}`+rate+`))`, "{{api}}")),
				ts("Egress by API", "Bps", "Response body bytes sent.",
					q(`sum by (api) (rate(cairn_s3_sent_bytes_total{`+apiSel+`}`+rate+`))`, "{{api}}")),
				{kind: tablePanel, title: "Requests in the time range", desc: "By API and HTTP status.", unit: "short",
					queries: []query{now(`sum by (api, code) (increase(cairn_s3_requests_total{`+apiSel+`}[$__range]))`, "")}},
			}},
		},
	}
}

func drives() board {
	margin := `min by (pool, set) (cairn_erasure_set_drives_online{` + jobSel + `}) - max by (pool, set) (cairn_erasure_set_write_quorum{` + jobSel + `})`
	return board{
		file: "cairn-drives.json", uid: "cairn-drives", title: "Cairn / Drives & erasure health",
		description: "Drive capacity, latency and errors; erasure-set health, healing and bitrot.",
		vars:        []variable{jobVar, nodeVar},
		rows: []row{
			{title: "Erasure sets", panels: []panel{
				{kind: statPanel, title: "Drives offline", unit: "none", thresholds: okIfZero,
					queries: []query{q(`count(`+driveOnline+` == 0) or vector(0)`, "")}},
				{kind: statPanel, title: "Smallest write-quorum margin", unit: "none", thresholds: marginTh,
					desc:    "Drives a set can still lose before writes fail (0: the next loss stops writes).",
					queries: []query{q(`min(`+margin+`)`, "")}},
				{kind: barGauge, title: "Drives online per set", unit: "percentunit", min: f(0), max: f(1), width: 8,
					thresholds: []threshold{{color: "red"}, {from: f(0.99), color: "green"}},
					queries:    []query{q(`max by (pool, set) (cairn_erasure_set_drives_online{`+jobSel+`}) / max by (pool, set) (cairn_erasure_set_drives{`+jobSel+`})`, "pool {{pool}} set {{set}}")}},
				{kind: timeSeries, title: "Write-quorum margin by set", unit: "none", width: 8, min: f(0),
					desc:    "Online drives minus write quorum, per erasure set.",
					queries: []query{q(margin, "pool {{pool}} set {{set}}")}},
			}},
			{title: "Drives", panels: []panel{
				{kind: tablePanel, title: "Drive state", desc: "Offline when any node cannot reach the drive.",
					mappings: map[string]string{"0": "offline:red", "1": "online:green"},
					queries:  []query{now(driveOnline, "")}},
				ts("Free space by drive", "bytes", "",
					q(driveFree, "{{drive}}")),
				{kind: barGauge, title: "Used by drive", unit: "percentunit", min: f(0), max: f(1), thresholds: capacityTh,
					queries: []query{q(driveUsed+` / `+driveCap, "{{drive}}")}},
				ts("Drive latency p99 by operation", "s", "Calls the selected nodes made to each drive, local or remote (streams: opening only).",
					q(quantile("0.99", "cairn_drive_operation_duration_seconds_bucket", nodeSel, "instance, drive, op"), "{{drive}} {{op}}")),
				ts("Drive errors by kind", "ops", "Failed drive calls: offline, disk_full, faulty, canceled, other.",
					q(`sum by (instance, drive, kind) (rate(cairn_drive_errors_total{`+nodeSel+`}`+rate+`))`, "{{drive}} {{kind}}")),
				ts("Drive throughput", "Bps", "",
					q(`sum by (instance, drive) (rate(cairn_drive_read_bytes_total{`+nodeSel+`}`+rate+`))`, "read {{drive}}"),
					q(`sum by (instance, drive) (rate(cairn_drive_written_bytes_total{`+nodeSel+`}`+rate+`))`, "write {{drive}}")),
			}},
			{title: "Healing, scanner and bitrot", panels: []panel{
				ts("Heal backlog", "short", "Objects waiting in the heal queues.",
					q(`sum(cairn_heal_backlog_objects{`+nodeSel+`})`, "backlog")),
				ts("Heal rate", "ops", "",
					q(`sum(rate(cairn_heal_objects_healed_total{`+nodeSel+`}`+rate+`))`, "healed"),
					q(`sum(rate(cairn_heal_objects_failed_total{`+nodeSel+`}`+rate+`))`, "failed"),
					q(`sum(rate(cairn_heal_queued_objects_total{`+nodeSel+`}`+rate+`))`, "queued")),
				ts("Healed data", "Bps", "Shard bytes written by healing.",
					q(`sum(rate(cairn_heal_written_bytes_total{`+nodeSel+`}`+rate+`))`, "bytes"),
				),
				ts("Scanner progress", "short", "Keys examined per second by the background scanner.",
					q(`sum by (instance) (rate(cairn_scanner_objects_scanned_total{`+nodeSel+`}`+rate+`))`, "{{instance}}")),
				stat1("Scanner cycles", "none", "Complete background scanner cycles since start.",
					q(`sum(cairn_scanner_cycles_total{`+nodeSel+`})`, "")),
				stat1("Last scanner cycle", "s", "Duration of the last complete cycle.",
					q(`max(cairn_scanner_last_cycle_duration_seconds{`+nodeSel+`})`, "")),
				{kind: statPanel, title: "Bitrot detected in range", unit: "none", thresholds: okIfZero,
					desc:    "Shards whose hash did not match when read.",
					queries: []query{q(`sum(increase(cairn_bitrot_shards_corrupt_total{`+nodeSel+`}[$__range]))`, "")}},
				ts("Shards reconstructed and corrupt", "short", "Shards rebuilt while serving reads, and of those, bitrot.",
					q(`sum(increase(cairn_erasure_shards_reconstructed_total{`+nodeSel+`}`+rate+`))`, "reconstructed"),
					q(`sum(increase(cairn_bitrot_shards_corrupt_total{`+nodeSel+`}`+rate+`))`, "corrupt")),
			}},
		},
	}
}

func node() board {
	return board{
		file: "cairn-node.json", uid: "cairn-node", title: "Cairn / Node",
		description: "The cairn process on each node: CPU, memory, goroutines, file descriptors, network.",
		vars:        []variable{jobVar, nodeVar},
		rows: []row{
			{title: "Process", panels: []panel{
				{kind: tablePanel, title: "Builds", desc: "Version running on each node.",
					queries: []query{now(`max by (instance, version, goversion) (cairn_build_info{`+nodeSel+`})`, "")}},
				ts("CPU", "short", "CPU cores used by the cairn process.",
					q(`rate(process_cpu_seconds_total{`+nodeSel+`}`+rate+`)`, "{{instance}}")),
				ts("Memory", "bytes", "",
					q(`process_resident_memory_bytes{`+nodeSel+`}`, "resident {{instance}}"),
					q(`go_memstats_heap_inuse_bytes{`+nodeSel+`}`, "heap in use {{instance}}")),
				ts("Goroutines and threads", "short", "",
					q(`go_goroutines{`+nodeSel+`}`, "goroutines {{instance}}"),
					q(`go_threads{`+nodeSel+`}`, "threads {{instance}}")),
				ts("File descriptors", "short", "",
					q(`process_open_fds{`+nodeSel+`}`, "open {{instance}}"),
					q(`process_max_fds{`+nodeSel+`}`, "limit {{instance}}")),
				ts("Network", "Bps", "Bytes the process received and sent (its network namespace).",
					q(`rate(process_network_receive_bytes_total{`+nodeSel+`}`+rate+`)`, "receive {{instance}}"),
					q(`rate(process_network_transmit_bytes_total{`+nodeSel+`}`+rate+`)`, "transmit {{instance}}")),
				ts("GC pause", "s", "Average stop-the-world pause per GC cycle.",
					q(`rate(go_gc_duration_seconds_sum{`+nodeSel+`}`+rate+`) / rate(go_gc_duration_seconds_count{`+nodeSel+`}`+rate+`)`, "{{instance}}")),
			}},
		},
	}
}

func buckets() board {
	bsel := `job=~"$job", bucket=~"$bucket"`
	return board{
		file: "cairn-buckets.json", uid: "cairn-buckets", title: "Cairn / Buckets",
		description: "Per-bucket usage. Needs `cairn server --metrics-bucket-usage`.",
		vars:        []variable{jobVar, bucketVar},
		rows: []row{
			{title: "Usage", panels: []panel{
				{kind: tablePanel, title: "Usage by bucket", desc: "From the last usage scan.",
					queries: []query{
						now(`max by (bucket) (cairn_bucket_usage_logical_bytes{`+bsel+`})`, "bytes"),
						now(`max by (bucket) (cairn_bucket_usage_objects{`+bsel+`})`, "objects"),
					}},
				ts("Bucket size", "bytes", "Sum of object sizes, before erasure coding.",
					q(`max by (bucket) (cairn_bucket_usage_logical_bytes{`+bsel+`})`, "{{bucket}}")),
				ts("Objects per bucket", "short", "",
					q(`max by (bucket) (cairn_bucket_usage_objects{`+bsel+`})`, "{{bucket}}")),
				{kind: barGauge, title: "Share of all object data", unit: "percentunit", min: f(0), max: f(1), width: 24,
					queries: []query{q(`max by (bucket) (cairn_bucket_usage_logical_bytes{`+bsel+`}) / scalar(max(cairn_usage_logical_bytes{`+jobSel+`}))`, "{{bucket}}")}},
			}},
		},
	}
}
