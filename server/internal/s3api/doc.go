// Package s3api is Cairn's HTTP/S3 layer: it turns S3 REST requests into calls on
// the object layer and the results back into S3 responses.
//
// # What it owns
//
//   - Routing. One route table, server.routeTable in router.go, keyed by HTTP method,
//     target (service, bucket or object) and the query parameters or headers that
//     distinguish operations (?versioning, ?uploads, ?uploadId, ?partNumber&uploadId,
//     ?tagging, ?lifecycle, ?delete, ?location, ?versions, ?attributes, ?list-type=2,
//     x-amz-copy-source).
//     Both path-style (/bucket/key) and virtual-host style (bucket.<domain>, with or
//     without a port) requests are understood; Config.Domains turns the latter on.
//     Known S3 subresources that Cairn does not implement (?cors, ?website, …), and
//     methods a subresource has no route for (DELETE ?acl), answer NotImplemented (501).
//   - Request decoding and validation: bucket names, object keys, headers, Range,
//     conditional headers, XML bodies (size-capped), checksums and Content-MD5.
//   - Checksums (checksum.go): every algorithm S3 offers (CRC32, CRC32C,
//     CRC64NVME, SHA1, SHA256, MD5, SHA512, XXHASH64, XXHASH3, XXHASH128) as a
//     header, a trailer or "compute it" (x-amz-sdk-checksum-algorithm, or
//     x-amz-checksum-algorithm as minio-go sends it), verified while the body
//     streams. Multipart uploads are COMPOSITE (all but CRC64NVME) or FULL_OBJECT
//     (the CRCs); this package computes the object's value from the stored part
//     checksums at Complete and hands it to the object layer.
//   - Handlers, one S3 operation group per file (bucket.go, object_put.go,
//     object_get.go, object_delete.go, copy.go, list.go, multipart.go, tagging.go,
//     versioning.go, lifecycle.go, encryption.go). Every handler returns error; none writes an error itself.
//   - Server-side encryption (sse.go, with package sse): SSE-S3, SSE-KMS and SSE-C
//     headers, the bucket default, encrypting PUT/UploadPart/copy bodies and
//     decrypting only the packages a GET range needs.
//   - XML encoding of responses (xml.go). User metadata goes out as lower-case
//     x-amz-meta-* header names, as S3 sends them; the storage class (STANDARD or
//     REDUCED_REDUNDANCY, which is recorded but stored alike) as x-amz-storage-class
//     when not STANDARD.
//   - Error mapping. errorResponse in errors.go is the one function that maps an
//     error — an objects.Err* sentinel, a sigv4 error (via sigv4.S3Code), or an
//     *APIError built here — to an S3 code and HTTP status. server.writeError is
//     the one place that writes the S3 error document. Unknown errors become a 500
//     InternalError with a generic message; the detail is logged, never sent.
//     Failures are logged at Debug, server faults (5xx other than 501
//     NotImplemented) at Error.
//
// # Where it sits on the data path
//
//	net/http → s3api (request id, panic recovery, route) → sigv4 (verify) →
//	Config.Authorize (iam; authz.go) → s3api handler (decode, build options) → objects → … → drives
//
// For every request ServeHTTP assigns a request id (x-amz-request-id, x-amz-id-2,
// Server: Cairn on every response), verifies the signature with Config.Auth, resolves
// the route, checks anonymous access (Config.AllowAnonymous), asks Config.Authorize
// (action, resource, conditions; anonymous requests too), then runs the handler.
// The body the handlers read is sigv4's decoded Result.Body, never r.Body. A panic in
// a handler is recovered into an InternalError; a failure after the response headers
// were sent aborts the connection so the client sees a truncated response, never a
// wrong one.
//
// # Reserved paths
//
// GET and HEAD of exactly /cairn/health/live and /cairn/health/ready (path-style, no
// query string) are health checks answered without authentication. "cairn" is a valid
// bucket name, so those two keys in a bucket named cairn cannot be read path-style
// without a query string; every other key and every other method is unaffected.
//
// # Streaming
//
// Nothing here buffers an object: PUT bodies go to the object layer through
// stream wrappers (the checksum reader in checksum.go, the encrypting reader of
// package sse), GET writes straight from objects.Object.WriteRange into the
// ResponseWriter (through sse's decrypting writer for encrypted objects), and
// copies pipe one into the other. Only XML request bodies are read into memory, and those are capped.
package s3api
