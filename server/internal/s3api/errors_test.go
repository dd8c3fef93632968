package s3api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

func TestErrorResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		// Every object layer sentinel.
		{"bucket not found", objects.ErrBucketNotFound, "NoSuchBucket", 404},
		{"bucket exists", objects.ErrBucketExists, "BucketAlreadyOwnedByYou", 409},
		{"bucket not empty", objects.ErrBucketNotEmpty, "BucketNotEmpty", 409},
		{"object not found", objects.ErrObjectNotFound, "NoSuchKey", 404},
		{"version not found", objects.ErrVersionNotFound, "NoSuchVersion", 404},
		{"delete marker", objects.ErrDeleteMarker, "NoSuchKey", 404},
		{"upload not found", objects.ErrUploadNotFound, "NoSuchUpload", 404},
		{"invalid part", objects.ErrInvalidPart, "InvalidPart", 400},
		{"invalid part order", objects.ErrInvalidPartOrder, "InvalidPartOrder", 400},
		{"part too small", objects.ErrPartTooSmall, "EntityTooSmall", 400},
		{"precondition failed", objects.ErrPreconditionFailed, "PreconditionFailed", 412},
		{"conditional conflict", objects.ErrConditionalConflict, "ConditionalRequestConflict", 409},
		{"bad digest", objects.ErrBadDigest, "BadDigest", 400},
		{"incomplete body", objects.ErrIncompleteBody, "IncompleteBody", 400},
		{"entity too large", objects.ErrEntityTooLarge, "EntityTooLarge", 400},
		{"invalid object name", objects.ErrInvalidObjectName, "InvalidArgument", 400},
		{"invalid bucket name", objects.ErrInvalidBucketName, "InvalidBucketName", 400},
		{"write quorum", objects.ErrWriteQuorum, "SlowDown", 503},
		{"read quorum", objects.ErrReadQuorum, "ServiceUnavailable", 503},
		{"method not allowed", objects.ErrMethodNotAllowed, "MethodNotAllowed", 405},
		{"invalid version id", objects.ErrInvalidVersionID, "InvalidArgument", 400},
		{"marker error", &objects.MarkerError{}, "NoSuchKey", 404},
		{"wrapped object error", fmt.Errorf("objects: put %q: %w", "k", objects.ErrBucketNotFound), "NoSuchBucket", 404},

		// Every sigv4 sentinel, through sigv4.S3Code.
		{"signature mismatch", sigv4.ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", 403},
		{"invalid access key", sigv4.ErrInvalidAccessKeyID, "InvalidAccessKeyId", 403},
		{"access denied", sigv4.ErrAccessDenied, "AccessDenied", 403},
		{"missing security header", sigv4.ErrMissingSecurityHeader, "MissingSecurityHeader", 400},
		{"auth header malformed", sigv4.ErrAuthorizationHeaderMalformed, "AuthorizationHeaderMalformed", 400},
		{"auth query params", sigv4.ErrAuthorizationQueryParametersError, "AuthorizationQueryParametersError", 400},
		{"time skewed", sigv4.ErrRequestTimeTooSkewed, "RequestTimeTooSkewed", 403},
		{"presign expired", sigv4.ErrExpiredPresignRequest, "AccessDenied", 403},
		{"presign not ready", sigv4.ErrRequestNotReadyYet, "AccessDenied", 403},
		{"content sha256 mismatch", sigv4.ErrContentSHA256Mismatch, "XAmzContentSHA256Mismatch", 400},
		{"invalid content sha256", sigv4.ErrInvalidContentSHA256, "InvalidArgument", 400},
		{"missing date", sigv4.ErrMissingDateHeader, "AccessDenied", 403},
		{"malformed date", sigv4.ErrMalformedDate, "AccessDenied", 403},
		{"malformed chunk", sigv4.ErrMalformedChunk, "InvalidRequest", 400},
		{"malformed trailer", sigv4.ErrMalformedTrailer, "MalformedTrailerError", 400},
		{"sigv4 incomplete body", sigv4.ErrIncompleteBody, "IncompleteBody", 400},
		{"sigv4 missing content length", sigv4.ErrMissingContentLength, "MissingContentLength", 411},
		{"unsupported algorithm", sigv4.ErrUnsupportedAlgorithm, "InvalidRequest", 400},
		{"ambiguous auth", sigv4.ErrAmbiguousAuth, "InvalidArgument", 400},
		// A body error surfacing through the object layer keeps its sigv4 code.
		{"sigv4 error wrapped by objects", fmt.Errorf("%w: %w", objects.ErrIncompleteBody, sigv4.ErrSignatureDoesNotMatch), "SignatureDoesNotMatch", 403},

		// Our own errors.
		{"api error", apiError(codeInvalidTag, ""), "InvalidTag", 400},
		{"wrapped api error", fmt.Errorf("objects: read body: %w", apiError(codeBadDigest, "The CRC32 you specified did not match the calculated checksum.")), "BadDigest", 400},
		{"api error with headers", withHeaders(apiError(codeInvalidRange, ""), "Content-Range", "bytes */10"), "InvalidRange", 416},
		{"delete marker with headers", withHeaders(objects.ErrDeleteMarker, "X-Amz-Delete-Marker", "true"), "NoSuchKey", 404},

		// Unknown errors are internal.
		{"unknown", errors.New("disk on fire at /data/secret/path"), "InternalError", 500},
		{"io error", io.ErrUnexpectedEOF, "InternalError", 500},
		{"deadline", context.DeadlineExceeded, "ServiceUnavailable", 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := errorResponse(tc.err)
			if got.Code != tc.code || got.Status != tc.status {
				t.Fatalf("errorResponse(%v) = %s %d, want %s %d", tc.err, got.Code, got.Status, tc.code, tc.status)
			}
			if got.Message == "" {
				t.Fatal("empty message")
			}
			if tc.code == "InternalError" && strings.Contains(got.Message, "fire") {
				t.Fatalf("internal detail leaked: %q", got.Message)
			}
		})
	}
}

func TestSigV4MessageDetail(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("%w: the region 'eu-west-1' is wrong; expecting 'us-east-1'", sigv4.ErrAuthorizationHeaderMalformed)
	if got := errorResponse(err).Message; got != "the region 'eu-west-1' is wrong; expecting 'us-east-1'" {
		t.Fatalf("message = %q", got)
	}
	if got := errorResponse(sigv4.ErrSignatureDoesNotMatch).Message; !strings.Contains(got, "signature we calculated") {
		t.Fatalf("message without detail = %q, want S3's wording", got)
	}
}

// Every code used in this package has its own status: a typo in a code would
// silently become a 500.
func TestEveryCodeHasAStatus(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		codeAccessDenied, codeBadDigest, codeBucketAlreadyOwnedByYou, codeBucketNotEmpty,
		codeConditionalConflict, codeEntityTooLarge, codeEntityTooSmall, codeIllegalLocation,
		codeIncompleteBody, codeInvalidArgument, codeInvalidBucketName, codeInvalidBucketState,
		codeInvalidDigest, codeInvalidPart, codeInvalidPartNumber, codeInvalidPartOrder, codeInvalidRange,
		codeInvalidRequest, codeInvalidStorageClass, codeInvalidTag, codeKeyTooLong, codeMalformedTrailer, codeMalformedXML,
		codeMetadataTooLarge, codeMethodNotAllowed, codeMissingContentLength, codeNoSuchBucket,
		codeNoSuchKey, codeNoSuchTagSet, codeNoSuchUpload, codeNoSuchVersion, codeNotImplemented,
		codePreconditionFailed, codeServiceUnavailable, codeSlowDown,
	} {
		if status, _ := codeInfo(code); status == http.StatusInternalServerError {
			t.Errorf("code %s maps to 500", code)
		}
	}
	if status, _ := codeInfo(codeInternalError); status != http.StatusInternalServerError {
		t.Error("InternalError is not 500")
	}
}
