// Package clients proves that real, unmodified S3 clients work against the real
// `cairn` binary. Every test starts its own server process
// (servertest.StartProcess, a 4+2 set on six temp-dir drives) and drives it with a
// client as its users run it, then checks what the client reports and, where it
// matters, what the server holds:
//
//   - TestMinioGoFunctional builds minio-go's own functional test suite
//     (functional_tests.go of the minio-go version in go.mod, copied from the
//     module cache into a scratch module) and runs it in full mode. Each of its
//     tests reports PASS, FAIL or NA (the server answered NotImplemented); every
//     FAIL and NA must match an entry of minioExpected, the commented list of
//     features that belong to later milestones or of tests that assert MinIO's
//     behaviour rather than S3's, and every entry must still be needed.
//   - TestAWSCLI runs Debian's awscli (/usr/bin/aws): s3 mb/cp/sync/ls/rm with small
//     and multipart objects, and the s3api commands for versioning, multipart
//     uploads, tagging and head-object.
//   - TestRclone runs rclone copy, check, lsf, sync (both directions) and delete
//     over a tree with nested directories, an empty file and a 10 MiB file that is
//     uploaded in parts.
//   - TestBoto3 runs testdata/boto3_flows.py with /usr/bin/python3: buckets,
//     objects, upload_file/download_file, pagination, versioning, presigned URLs,
//     copies, batch deletes, and client-side AES-CBC encryption.
//
// # Tools
//
// The clients are programs installed on the machine (.ci/run installs them on CI).
// A test whose client is missing is skipped, unless the CI environment variable is
// set: then it fails, because a silent skip would hide breakage. The clients run
// with a scratch HOME and configuration built for the test, so nothing from the
// machine's own configuration (profiles, credentials, CA bundles) leaks in. The
// minio-go suite needs the go command and, if minio-go is not in the module cache
// yet, the Go module proxy.
//
// The tests are skipped with -short. Together they take one to two minutes on a
// two-core machine; TestMinioGoFunctional is the longest (see its log for the
// slowest minio-go tests).
package clients
