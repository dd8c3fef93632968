// Package sse proves Cairn's server-side encryption end to end: SSE-S3, SSE-KMS
// and SSE-C through aws-sdk-go-v2 against in-process servers (PUT, GET, range
// GET, HEAD, copies between encryption types, multipart), a scan of every file
// on every drive for the plaintext, the seed's boto3 flows against a real
// process over TLS, and the AWS KMS backend against local-kms (a real KMS
// emulator, restarted and stopped under a running server).
//
// Vault/OpenBao, GCP Cloud KMS and Azure Key Vault have no emulator that runs
// here; their clients are tested in server/internal/kms against small fakes
// written from the services' public API documentation.
package sse
