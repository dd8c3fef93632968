// Package metrics is Cairn's Prometheus instrumentation: the registry of one server,
// the collectors that fill it, and the /metrics endpoint that serves it.
//
// # What it owns
//
//   - The registry (New): one prometheus.Registry per server, never the global
//     default, so tests can run many servers in one process. It holds the Go and
//     process collectors (go_*, process_*), cairn_build_info, and everything below.
//   - S3 request metrics (S3Observer): an s3api.Observer that counts and times
//     every request by API name once the route table has named it.
//   - Drive metrics (WrapDrive): a drive.Drive wrapper that times every call and
//     counts failures and bytes, per drive and operation.
//   - Cluster state (Watch): a collector that asks every drive for its capacity and
//     state on each scrape and derives the erasure-set health from it, plus the
//     object layer's counters: reconstructed and corrupt shards, the heal queue
//     and the background scanner.
//   - Usage (Watch): object, byte and bucket counts from a background listing of
//     the namespace, refreshed at most every Options.UsageInterval and only while
//     something scrapes; per-bucket series only with Options.BucketUsage.
//   - TLS: the expiry of the node's current certificate (Options.Certificate).
//   - The endpoint (Handler, Mount): GET /metrics, which requires
//     "Authorization: Bearer <token>" unless Options.Public. Tokens are compared in
//     constant time and never logged. Token derives the default token from the
//     root credentials.
//
// # Naming contract
//
// Every name starts with cairn_, carries its unit (_bytes, _seconds), counters end
// in _total and latencies are histograms. Labels are bounded: api (the operation
// names of the s3api route table), code (HTTP status), error_code (S3 error codes),
// op (drive.Op names), kind (a fixed error class), drive (the drive's path or
// endpoint), pool and set (indexes). Object keys never become labels; bucket names
// only on the opt-in per-bucket usage series. grafana/METRICS.md is generated from
// this registry and grafana/dashboards and grafana/alerts depend on these names:
// renaming a metric is a breaking change for every dashboard and alert.
//
// # Node-local and cluster-wide series
//
// With several nodes, every node is scraped. To keep sums right, each series is
// either node-local or cluster-wide, and its help text says which:
//
//   - node-local: S3 requests this node served, the calls it made to drives (local
//     or remote: latency, errors, bytes) and its process. Sum them over instances.
//   - cluster-wide: every drive's state and capacity as this node sees it (every
//     node's object layer uses every drive), erasure-set health and usage. Every
//     node reports the same series; aggregate them with max (min for "online"),
//     by (pool, set, drive) or (pool, set), never sum.
//
// The drive label is the endpoint as given on the command line, the same on every
// node, so the series of one drive from different nodes aggregate.
//
// # Where it sits
//
// server.New builds one Metrics, wraps each drive with WrapDrive before the object
// layer sees it, passes S3() as the s3api observer, calls Watch with the object
// layer, and serves Mount(s3Handler) so that /metrics sits beside the S3 API.
package metrics
