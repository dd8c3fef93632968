// Package e2e holds Cairn's end-to-end reliability tests. They run the real `cairn`
// binary as a separate process (servertest.StartProcess), talk to it only over S3 —
// aws-sdk-go-v2 and hand-signed raw HTTP — and do to it what operators and networks
// do: delete and corrupt drive directories under a running server, SIGKILL it in the
// middle of uploads, restart it on the same drives, and send it malformed, truncated
// and hostile requests.
//
// What the tests prove, each with every object's SHA-256 recorded at write time:
//
//   - TestDurabilityDrivesLost: a 4+2 set returns every object byte-for-byte while
//     two of its six drives are corrupt (flipped bytes in shard files and in
//     metadata holding inline data), then entirely deleted under the running server,
//     then replaced by blank drives across a restart; with three drives gone it fails
//     every read and write with an S3 5xx error, never with wrong data and never
//     leaving a half-written object visible.
//   - TestCrashDuringUploads: after SIGKILL during concurrent PUTs and a restart,
//     every acknowledged object is complete and identical, every other object is
//     either absent or complete (never partial), listing agrees with reads, the temp
//     area is empty, and the server takes writes again — over three kill cycles.
//   - TestBadInputNeverHalfWritten: truncated bodies, bad digests, malformed XML,
//     path-traversal keys, invalid names and sizes, and unsatisfiable ranges get the
//     right S3 error document (never a 500), leave no object or file behind, and
//     leave the server healthy.
//
// The tests are skipped with -short. They need the go command to build the binary
// (or CAIRN_TEST_BINARY pointing at one) and take a minute or two on a small machine.
package e2e
