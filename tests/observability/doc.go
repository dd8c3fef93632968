// Package observability proves Cairn's metrics, dashboards and alert rules against
// the real thing: the `cairn` binary (servertest.StartProcess) scraped every second,
// with the bearer token, by a real Prometheus (the Debian package's
// /usr/bin/prometheus, started by the test on a loopback port with a temporary
// configuration and data directory, loading grafana/alerts/cairn.rules.yml as is).
//
// Both tests drive S3 traffic of many kinds (inline, erasure-coded and multipart
// writes, reads, listings, deletes, NoSuchKey and NoSuchBucket errors), wait until
// Prometheus holds enough samples, and then:
//
//   - run `promtool check metrics` on a scrape;
//   - fail if any dashboard in grafana/dashboards names a metric the server does
//     not export (checked against the names Prometheus actually ingested);
//   - resolve every dashboard's template variables through Prometheus, substitute
//     them as Grafana does with "All" selected, and run every panel query, failing
//     on an error or an empty result.
//
// TestSingleNode (one 4+2 set on six drive directories) also checks that /metrics
// refuses scrapes without the token and that `cairn admin metrics-token` prints it,
// then deletes a drive directory under the running server and waits for
// CairnDriveOffline to be pending or firing for that drive.
//
// TestCluster (three nodes with two drives each, one 4+2 set) checks that every node
// reports every drive and that the dashboards' aggregations count each drive and set
// once, then kills a node and waits for CairnNodeDown and for CairnDriveOffline on
// each of its drives.
//
// The tests are skipped with -short; they need prometheus and promtool on PATH
// (.ci/run installs the prometheus package) and the go command to build the binary
// (or CAIRN_TEST_BINARY). Everything listens on 127.0.0.1 and stops when the test
// ends.
package observability
