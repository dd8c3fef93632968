package sigv4

import (
	"errors"
	"net/http"
)

// Sentinel errors, matched with errors.Is. Every error Verify returns, and
// every error a Result.Body returns other than io.EOF, wraps one of them,
// usually with detail after a colon ("sigv4: AuthorizationHeaderMalformed:
// the region 'eu-west-1' is wrong; expecting 'us-east-1'"). The detail never
// contains a secret key, a signing key or a computed signature, so the text
// after the sentinel prefix is safe to send to the client as the S3 error
// message.
//
// The comment on each names the S3 error code and HTTP status; S3Code maps an
// error to them and is the one place the S3 layer should ask.
var (
	// ErrSignatureDoesNotMatch: the signature of the request, of a chunk or of
	// the trailer is not the one computed with the caller's secret key.
	// S3: SignatureDoesNotMatch, 403.
	ErrSignatureDoesNotMatch = errors.New("sigv4: SignatureDoesNotMatch")
	// ErrInvalidAccessKeyID: Credentials does not know the access key.
	// S3: InvalidAccessKeyId, 403.
	ErrInvalidAccessKeyID = errors.New("sigv4: InvalidAccessKeyId")
	// ErrAccessDenied: the request is signed but carries x-amz-* headers that
	// the signature does not cover. S3: AccessDenied, 403.
	ErrAccessDenied = errors.New("sigv4: AccessDenied")
	// ErrMissingSecurityHeader: a header-signed request has no
	// x-amz-content-sha256 header. S3: MissingSecurityHeader, 400.
	ErrMissingSecurityHeader = errors.New("sigv4: MissingSecurityHeader")
	// ErrAuthorizationHeaderMalformed: the Authorization header cannot be
	// parsed, or its credential scope names the wrong date, region, service
	// or terminator. S3: AuthorizationHeaderMalformed, 400.
	ErrAuthorizationHeaderMalformed = errors.New("sigv4: AuthorizationHeaderMalformed")
	// ErrAuthorizationQueryParametersError: a presigned URL lacks a required
	// X-Amz-* parameter, repeats one, or has one that cannot be parsed
	// (including X-Amz-Expires outside 1..604800 and a wrong region).
	// S3: AuthorizationQueryParametersError, 400.
	ErrAuthorizationQueryParametersError = errors.New("sigv4: AuthorizationQueryParametersError")
	// ErrRequestTimeTooSkewed: the request time differs from the server's
	// clock by more than Verifier.MaxSkew. S3: RequestTimeTooSkewed, 403.
	ErrRequestTimeTooSkewed = errors.New("sigv4: RequestTimeTooSkewed")
	// ErrExpiredPresignRequest: X-Amz-Date + X-Amz-Expires is in the past.
	// S3: AccessDenied ("Request has expired"), 403.
	ErrExpiredPresignRequest = errors.New("sigv4: ExpiredPresignRequest")
	// ErrRequestNotReadyYet: a presigned URL's X-Amz-Date is further in the
	// future than Verifier.MaxSkew. S3: AccessDenied ("Request is not valid
	// yet"), 403.
	ErrRequestNotReadyYet = errors.New("sigv4: RequestNotReadyYet")
	// ErrContentSHA256Mismatch: the payload does not hash to the value of
	// x-amz-content-sha256. Returned by Result.Body at the end of the payload.
	// S3: XAmzContentSHA256Mismatch, 400.
	ErrContentSHA256Mismatch = errors.New("sigv4: XAmzContentSHA256Mismatch")
	// ErrInvalidContentSHA256: x-amz-content-sha256 is neither 64 hex digits
	// nor one of the documented keywords, or the keyword is not allowed with
	// this kind of authentication. S3: InvalidArgument, 400.
	ErrInvalidContentSHA256 = errors.New("sigv4: InvalidContentSHA256")
	// ErrMissingDateHeader: a header-signed request has neither X-Amz-Date
	// nor Date. S3: AccessDenied, 403.
	ErrMissingDateHeader = errors.New("sigv4: MissingDateHeader")
	// ErrMalformedDate: X-Amz-Date or Date cannot be parsed. S3: AccessDenied,
	// 403 (for presigned URLs the error also wraps
	// ErrAuthorizationQueryParametersError, which S3Code reports first).
	ErrMalformedDate = errors.New("sigv4: MalformedDate")
	// ErrMalformedChunk: the aws-chunked body is not well formed: a bad chunk
	// header, a chunk larger than MaxChunkSize, a missing CRLF, or more
	// decoded bytes than x-amz-decoded-content-length. S3: InvalidRequest, 400.
	ErrMalformedChunk = errors.New("sigv4: MalformedChunk")
	// ErrMalformedTrailer: the trailer of an aws-chunked body cannot be
	// parsed, is too large, or does not carry the trailers that x-amz-trailer
	// declared. S3: MalformedTrailerError, 400.
	ErrMalformedTrailer = errors.New("sigv4: MalformedTrailerError")
	// ErrIncompleteBody: the body ended before the final chunk (the client
	// went away or the stream was truncated), or carried fewer decoded bytes
	// than x-amz-decoded-content-length. S3: IncompleteBody, 400.
	ErrIncompleteBody = errors.New("sigv4: IncompleteBody")
	// ErrMissingContentLength: a signed aws-chunked request has no valid
	// x-amz-decoded-content-length header. S3: MissingContentLength, 411.
	ErrMissingContentLength = errors.New("sigv4: MissingContentLength")
	// ErrUnsupportedAlgorithm: the request uses an authentication scheme other
	// than AWS4-HMAC-SHA256 (Signature Version 2, SigV4a, ...).
	// S3: InvalidRequest, 400 (for presigned URLs the error also wraps
	// ErrAuthorizationQueryParametersError, which S3Code reports first).
	ErrUnsupportedAlgorithm = errors.New("sigv4: UnsupportedAlgorithm")
	// ErrAmbiguousAuth: the request carries both an Authorization header and
	// presigned-URL query parameters. S3: InvalidArgument ("Only one auth
	// mechanism allowed"), 400.
	ErrAmbiguousAuth = errors.New("sigv4: AmbiguousAuth")
)

// s3Codes is ordered: S3Code reports the first sentinel the error wraps, so
// the more specific presign errors come before the generic ones they are
// combined with.
var s3Codes = [...]struct {
	err    error
	code   string
	status int
}{
	{ErrAuthorizationQueryParametersError, "AuthorizationQueryParametersError", http.StatusBadRequest},
	{ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", http.StatusForbidden},
	{ErrInvalidAccessKeyID, "InvalidAccessKeyId", http.StatusForbidden},
	{ErrAccessDenied, "AccessDenied", http.StatusForbidden},
	{ErrMissingSecurityHeader, "MissingSecurityHeader", http.StatusBadRequest},
	{ErrAuthorizationHeaderMalformed, "AuthorizationHeaderMalformed", http.StatusBadRequest},
	{ErrRequestTimeTooSkewed, "RequestTimeTooSkewed", http.StatusForbidden},
	{ErrExpiredPresignRequest, "AccessDenied", http.StatusForbidden},
	{ErrRequestNotReadyYet, "AccessDenied", http.StatusForbidden},
	{ErrContentSHA256Mismatch, "XAmzContentSHA256Mismatch", http.StatusBadRequest},
	{ErrInvalidContentSHA256, "InvalidArgument", http.StatusBadRequest},
	{ErrMissingDateHeader, "AccessDenied", http.StatusForbidden},
	{ErrMalformedDate, "AccessDenied", http.StatusForbidden},
	{ErrMalformedChunk, "InvalidRequest", http.StatusBadRequest},
	{ErrMalformedTrailer, "MalformedTrailerError", http.StatusBadRequest},
	{ErrIncompleteBody, "IncompleteBody", http.StatusBadRequest},
	{ErrMissingContentLength, "MissingContentLength", http.StatusLengthRequired},
	{ErrUnsupportedAlgorithm, "InvalidRequest", http.StatusBadRequest},
	{ErrAmbiguousAuth, "InvalidArgument", http.StatusBadRequest},
}

// S3Code returns the S3 error code and HTTP status for an error returned by
// Verify or read from a Result.Body. ok is false when err wraps none of this
// package's sentinels (for example a network error from the underlying body);
// the S3 layer then applies its own mapping.
func S3Code(err error) (code string, status int, ok bool) {
	if err == nil {
		return "", 0, false
	}
	for _, c := range s3Codes {
		if errors.Is(err, c.err) {
			return c.code, c.status, true
		}
	}
	return "", 0, false
}
