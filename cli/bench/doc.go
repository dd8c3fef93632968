// Package bench is Cairn's own S3 load generator, run as `cairn bench`.
//
// It drives any S3 endpoint (Cairn, MinIO, AWS) with a fixed number of
// workers, each keeping exactly one request in flight, for a fixed time, and
// reports per operation: completed operations, MiB/s, operations/s, latency
// percentiles (p50, p90, p99, max) and the error count with the first error.
// It talks S3 through aws-sdk-go-v2 with path-style addressing, so the client
// is a real, independent S3 client rather than a Cairn-aware one.
//
// # Phases
//
// A run has four phases; only the third is measured.
//
//  1. Setup: HEAD the bucket, create it if it is missing (it is never
//     deleted afterwards).
//  2. Prepare (get and mixed only): write Options.Objects objects, retrying
//     failures; not counted.
//  3. Measure: for Options.Duration every worker loops issuing its operation.
//     At the deadline no new operation starts; operations still in flight are
//     allowed a short grace (a tenth of Duration, at least 2 s, at most 30 s)
//     and count normally; anything still running after the grace is cancelled
//     and counted as an error. The phase therefore never outlasts Duration plus
//     the grace, and cancelling the context passed to Run ends it at once.
//  4. Cleanup: delete everything the run wrote (DeleteObjects in batches of
//     1000, falling back to one DeleteObject per key if the server rejects
//     DeleteObjects), unless Options.KeepData is set.
//
// All objects of a run live under one fresh prefix,
// bench-<UTC time>-<random hex>/, as w<worker>/<n>, so concurrent runs against
// the same bucket do not collide and cleanup needs no listing: it regenerates
// every key a worker may have written.
//
// # Operations
//
//   - put: every operation writes a new object of ObjectSize bytes.
//   - get: every operation reads one of the prepared objects, chosen at
//     random, to the end, and checks its length.
//   - mixed: 45% GET, 30% PUT, 15% STAT (HeadObject), 10% DELETE. Every worker
//     works only on its own objects, so a GET never races another worker's
//     DELETE; a worker with no objects left PUTs instead. Mixed runs report one
//     row per operation and a TOTAL row over all of them.
//
// # What the numbers mean
//
// Latency is the time from issuing the request to having read the last byte
// of the response body; it is measured for successful operations only.
// Percentiles are exact nearest-rank values while a run has fewer than about a
// million operations of a kind and come from a uniform reservoir sample
// beyond that; Max is always exact. MiB/s is payload bytes moved by successful
// operations (PUT bodies sent, GET bodies received; HEAD and DELETE move none)
// divided by the measured phase's wall time, in MiB (2^20 bytes).
//
// Failed requests are never retried in the measured phase: a 500 or a 503
// SlowDown is one error, not a hidden retry that inflates latency. Errors
// are not counted as operations and move no bytes.
//
// The client is kept cheap so that it measures the server: each worker
// generates its payload once (pseudo-random, so compressing servers gain
// nothing; the first 8 bytes are stamped per object; when ObjectSize times
// Concurrency exceeds 2 GiB all workers share one unstamped payload) and
// sends it from a
// bytes.Reader, and checksums are computed only when an operation requires
// them (RequestChecksumCalculation and ResponseChecksumValidation are
// WhenRequired), so no CRC32 runs in the client. Over http the SDK still
// signs the payload (x-amz-content-sha256 is its SHA-256, like awscli), which
// costs the client one SHA-256 pass per PUT and makes the server verify it;
// Options.UnsignedPayload sends UNSIGNED-PAYLOAD instead. Over https the SDK
// always sends UNSIGNED-PAYLOAD.
//
// # MiB per CPU-second
//
// On a shared machine (our reference box has 2 cores shared with other jobs)
// wall-clock throughput depends on what else runs, so the number we compare
// between versions of Cairn is efficiency: payload MiB moved per CPU-second
// the server spent. With Options.ServerPID set to the local server's process
// id, Run reads /proc/PID/stat (utime+stime) just before and just after the
// measured phase and reports
//
//	MiB per server CPU-second = payload MiB / (server CPU seconds in the phase)
//
// Higher is better. It counts all the server's threads, including GC and
// disk I/O submission, but not work the kernel does on its behalf outside its
// own accounting (page-cache writeback, softirq network processing), and it
// includes the cost of verifying x-amz-content-sha256 when the payload is
// signed, so compare runs with the same signing mode. The value is
// independent of how many cores the server got, as long as the server was not
// starved into timeouts; it is only meaningful when the server is local and
// serves nothing else during the run. The same report gives the server's peak
// RSS (VmHWM, the high-water mark since the process started, not only during
// this run) and its RSS after the phase, and the client's own CPU seconds
// (getrusage), so you can see whether the load generator itself was the
// bottleneck: when the client used as much CPU as the server on a 2-core
// machine, the two were competing and throughput says little.
//
// CPU times come from /proc in clock ticks of 1/100 s (USER_HZ), so runs much
// shorter than a second give coarse numbers.
package bench
