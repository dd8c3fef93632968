// Package sigv4 authenticates S3 requests signed with AWS Signature Version 4
// and verifies their payload while it streams.
//
// # Place on the data path
//
//	net/http → s3api (route) → sigv4 (authenticate) → iam (authorize) → s3api handler → objects → ...
//
// The s3api router calls Verifier.Verify right after it has matched a route
// and before anything reads the body. Verify checks the signature of the
// request (an Authorization header or a presigned URL), looks the access key
// up through the Credentials interface, and returns a Result: the
// authenticated access key (or Anonymous, for iam to decide about), the
// decoded payload length, and a Body that replaces r.Body. The handler reads
// the payload only through Result.Body, which checks the payload as it
// streams: a hex x-amz-content-sha256 is compared at EOF, and the aws-chunked
// encodings (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
// STREAMING-UNSIGNED-PAYLOAD-TRAILER) are decoded chunk by chunk with every
// chunk signature and the trailer signature checked. Nothing is buffered
// whole: at most one chunk (MaxChunkSize) is held per request.
//
// The package owns the SigV4 wire rules: the canonical request, string to
// sign and signing key; Authorization header and X-Amz-* query parsing; the
// aws-chunked framing and its trailers; clock-skew and presign-expiry
// checks; and the mapping of its errors to S3 error codes (S3Code). It does
// not decide what an identity may do (iam), does not check the checksum
// trailers against the data (the S3 layer, which also stores them), and does
// not handle session tokens (X-Amz-Security-Token is signed like any other
// header or parameter but not validated here).
//
// # Invariants
//
//   - Signatures are compared in constant time (hmac.Equal); no error text
//     contains a secret, a signing key or a computed signature, so the text
//     after an error's sentinel prefix may be shown to the client.
//   - The canonical URI is r.URL.EscapedPath() exactly as received: S3 does
//     not normalize or double-encode the path, so the router must not rewrite
//     r.URL (for example for virtual-host style) before Verify.
//   - A signed chunk's bytes are released only after its signature is
//     checked; Body never yields more than x-amz-decoded-content-length
//     bytes, and returns io.EOF only after the final chunk, the trailer and
//     the decoded length have all been checked. A body that ends early is an
//     error wrapping ErrIncompleteBody, never short data.
//   - With a hex x-amz-content-sha256 the bytes are released before the hash
//     can be checked, so a consumer must treat any error from Body, including
//     the one returned instead of io.EOF, as "discard what was read" (the
//     object layer never commits a write whose body ended in an error).
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER carries no signature over the data:
//     its bytes pass through unchecked and only the checksum trailer, which
//     the caller must verify, protects them.
//   - All x-amz-* request headers must be signed (x-amz-content-sha256 and
//     x-amz-date are covered by the string to sign), as S3 requires.
//   - Verifier is safe for concurrent use; a Result.Body is not.
//
// # Client side
//
// SignRequest, PresignURL and SignChunkedRequest sign requests the way the
// AWS SDKs do, for tests and the load generator; the server never calls them.
package sigv4
