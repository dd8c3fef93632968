package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// APIError is an S3 error: the code and HTTP status of the S3 error document and
// its human-readable message. Handlers and request decoders return *APIError for
// errors they detect themselves; errors from the object layer and sigv4 are mapped
// by errorResponse.
type APIError struct {
	Code    string
	Status  int
	Message string
}

func (e *APIError) Error() string { return "s3api: " + e.Code + ": " + e.Message }

// S3 error codes used by this package.
const (
	codeAccessDenied            = "AccessDenied"
	codeBadDigest               = "BadDigest"
	codeBucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
	codeBucketNotEmpty          = "BucketNotEmpty"
	codeConditionalConflict     = "ConditionalRequestConflict"
	codeEntityTooLarge          = "EntityTooLarge"
	codeEntityTooSmall          = "EntityTooSmall"
	codeIllegalLocation         = "IllegalLocationConstraintException"
	codeIncompleteBody          = "IncompleteBody"
	codeInternalError           = "InternalError"
	codeInvalidArgument         = "InvalidArgument"
	codeInvalidBucketName       = "InvalidBucketName"
	codeInvalidBucketState      = "InvalidBucketState"
	codeInvalidDigest           = "InvalidDigest"
	codeInvalidObjectState      = "InvalidObjectState"
	codeInvalidPart             = "InvalidPart"
	codeInvalidPartNumber       = "InvalidPartNumber"
	codeInvalidPartOrder        = "InvalidPartOrder"
	codeInvalidRange            = "InvalidRange"
	codeInvalidRequest          = "InvalidRequest"
	codeInvalidStorageClass     = "InvalidStorageClass"
	codeInvalidTag              = "InvalidTag"
	codeKeyTooLong              = "KeyTooLongError"
	codeMalformedTrailer        = "MalformedTrailerError"
	codeMalformedXML            = "MalformedXML"
	codeMetadataTooLarge        = "MetadataTooLarge"
	codeMethodNotAllowed        = "MethodNotAllowed"
	codeMissingContentLength    = "MissingContentLength"
	codeNoSuchBucket            = "NoSuchBucket"
	codeNoSuchKey               = "NoSuchKey"
	codeNoSuchLifecycle         = "NoSuchLifecycleConfiguration"
	codeNoSuchTagSet            = "NoSuchTagSet"
	codeNoSuchUpload            = "NoSuchUpload"
	codeNoSuchVersion           = "NoSuchVersion"
	codeNotImplemented          = "NotImplemented"
	codeOperationAborted        = "OperationAborted"
	codePreconditionFailed      = "PreconditionFailed"
	codeServiceUnavailable      = "ServiceUnavailable"
	codeSlowDown                = "SlowDown"
)

// codeInfo is the HTTP status and default message of each code above.
func codeInfo(code string) (status int, message string) {
	switch code {
	case codeAccessDenied:
		return http.StatusForbidden, "Access Denied."
	case codeBadDigest:
		return http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."
	case codeBucketAlreadyOwnedByYou:
		return http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."
	case codeBucketNotEmpty:
		return http.StatusConflict, "The bucket you tried to delete is not empty."
	case codeConditionalConflict:
		return http.StatusConflict, "A conflicting conditional operation is currently in progress against this resource. Please try again."
	case codeEntityTooLarge:
		return http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."
	case codeEntityTooSmall:
		return http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."
	case codeIllegalLocation:
		return http.StatusBadRequest, "The location constraint is incompatible with the region of this endpoint."
	case codeIncompleteBody:
		return http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."
	case codeInvalidArgument:
		return http.StatusBadRequest, "Invalid Argument."
	case codeInvalidBucketName:
		return http.StatusBadRequest, "The specified bucket is not valid."
	case codeInvalidBucketState:
		return http.StatusConflict, "The request is not valid with the current state of the bucket."
	case codeInvalidDigest:
		return http.StatusBadRequest, "The Content-MD5 you specified is not valid."
	case codeInvalidObjectState:
		return http.StatusForbidden, "The operation is not valid for the object's storage class."
	case codeInvalidPart:
		return http.StatusBadRequest, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
	case codeInvalidPartNumber:
		return http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable."
	case codeInvalidPartOrder:
		return http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."
	case codeInvalidRange:
		return http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable."
	case codeInvalidRequest:
		return http.StatusBadRequest, "Invalid Request."
	case codeInvalidStorageClass:
		return http.StatusBadRequest, "The storage class you specified is not valid."
	case codeInvalidTag:
		return http.StatusBadRequest, "The tag provided was not a valid tag."
	case codeKeyTooLong:
		return http.StatusBadRequest, "Your key is too long."
	case codeMalformedTrailer:
		return http.StatusBadRequest, "The request contained trailing data that was not well-formed or did not conform to our published schema."
	case codeMalformedXML:
		return http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."
	case codeMetadataTooLarge:
		return http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."
	case codeMissingContentLength:
		return http.StatusLengthRequired, "You must provide the Content-Length HTTP header."
	case codeNoSuchBucket:
		return http.StatusNotFound, "The specified bucket does not exist."
	case codeNoSuchKey:
		return http.StatusNotFound, "The specified key does not exist."
	case codeNoSuchLifecycle:
		return http.StatusNotFound, "The lifecycle configuration does not exist."
	case codeNoSuchTagSet:
		return http.StatusNotFound, "The TagSet does not exist."
	case codeNoSuchUpload:
		return http.StatusNotFound, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
	case codeNoSuchVersion:
		return http.StatusNotFound, "The specified version does not exist."
	case codeNotImplemented:
		return http.StatusNotImplemented, "A header or query parameter you provided implies functionality that is not implemented."
	case codeOperationAborted:
		return http.StatusConflict, "A conflicting conditional operation is currently in progress against this resource. Try again."
	case codePreconditionFailed:
		return http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold."
	case codeServiceUnavailable:
		return http.StatusServiceUnavailable, "The service is unavailable. Please retry."
	case codeSlowDown:
		return http.StatusServiceUnavailable, "Please reduce your request rate."
	}
	return http.StatusInternalServerError, "We encountered an internal error. Please try again."
}

// apiError returns the *APIError for code; an empty message means the code's default.
func apiError(code, message string) *APIError {
	status, def := codeInfo(code)
	if message == "" {
		message = def
	}
	return &APIError{Code: code, Status: status, Message: message}
}

// headerError carries response headers that belong with an error (x-amz-delete-marker
// on a 404, Content-Range on a 416). It wraps the error; mapping sees through it.
type headerError struct {
	err    error
	header http.Header
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// withHeaders attaches response headers, given as name/value pairs, to err.
func withHeaders(err error, kv ...string) error {
	h := make(http.Header, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return &headerError{err: err, header: h}
}

// errorResponse is the one function that maps an error to an S3 error: the code, the
// HTTP status and a message safe to send to the client. It never returns nil.
// Errors it does not know become InternalError with a generic message; the caller
// logs the original.
func errorResponse(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	if ae := sseError(err); ae != nil {
		return ae
	}
	if code, status, ok := sigv4.S3Code(err); ok {
		msg := sigv4Message(err)
		if msg == "" {
			msg, _ = knownSigV4Messages(code)
		}
		if msg == "" {
			msg = "The request could not be authenticated."
		}
		if status == 0 {
			status = http.StatusForbidden
		}
		return &APIError{Code: code, Status: status, Message: msg}
	}
	switch {
	case errors.Is(err, objects.ErrBucketNotFound):
		return apiError(codeNoSuchBucket, "")
	case errors.Is(err, objects.ErrBucketExists):
		return apiError(codeBucketAlreadyOwnedByYou, "")
	case errors.Is(err, objects.ErrBucketNotEmpty):
		return apiError(codeBucketNotEmpty, "")
	case errors.Is(err, objects.ErrObjectNotFound), errors.Is(err, objects.ErrDeleteMarker):
		return apiError(codeNoSuchKey, "")
	case errors.Is(err, objects.ErrVersionNotFound):
		return apiError(codeNoSuchVersion, "")
	case errors.Is(err, objects.ErrUploadNotFound):
		return apiError(codeNoSuchUpload, "")
	case errors.Is(err, objects.ErrInvalidPart):
		return apiError(codeInvalidPart, "")
	case errors.Is(err, objects.ErrInvalidPartOrder):
		return apiError(codeInvalidPartOrder, "")
	case errors.Is(err, objects.ErrPartTooSmall):
		return apiError(codeEntityTooSmall, "")
	case errors.Is(err, objects.ErrPreconditionFailed):
		return apiError(codePreconditionFailed, "")
	case errors.Is(err, objects.ErrConditionalConflict):
		return apiError(codeConditionalConflict, "")
	case errors.Is(err, objects.ErrBadDigest):
		return apiError(codeBadDigest, "")
	case errors.Is(err, objects.ErrIncompleteBody):
		return apiError(codeIncompleteBody, "")
	case errors.Is(err, objects.ErrEntityTooLarge):
		return apiError(codeEntityTooLarge, "")
	case errors.Is(err, objects.ErrInvalidObjectName):
		return apiError(codeInvalidArgument, "Object name contains unsupported path segments.")
	case errors.Is(err, objects.ErrInvalidBucketName):
		return apiError(codeInvalidBucketName, "")
	case errors.Is(err, objects.ErrWriteQuorum):
		return apiError(codeSlowDown, "Resource requested is unwritable, please reduce your request rate.")
	case errors.Is(err, objects.ErrReadQuorum):
		return apiError(codeServiceUnavailable, "Resource requested is unreadable, please reduce your request rate.")
	case errors.Is(err, objects.ErrInvalidVersionID):
		return apiError(codeInvalidArgument, "Invalid version id specified.")
	case errors.Is(err, objects.ErrMethodNotAllowed):
		return apiError(codeMethodNotAllowed, "")
	case errors.Is(err, objects.ErrInvalidObjectState):
		return apiError(codeInvalidObjectState, "")
	case errors.Is(err, objects.ErrVersionChanged):
		return apiError(codeOperationAborted, "")
	case errors.Is(err, objects.ErrTierUnavailable):
		msg := "The object's data is in a remote tier that could not be reached. Please retry."
		var te *objects.TierError
		if errors.As(err, &te) {
			msg = "The object's data is in the remote tier " + te.Tier + ", which could not be reached. Please retry."
		}
		return apiError(codeServiceUnavailable, msg)
	case errors.Is(err, context.DeadlineExceeded):
		return apiError(codeServiceUnavailable, "The request timed out.")
	case errors.Is(err, context.Canceled):
		// The client went away: nobody reads this answer, and it is not a server fault.
		return apiError(codeIncompleteBody, "The request was canceled by the client.")
	}
	return apiError(codeInternalError, "")
}

// sigv4Message is the detail of a sigv4 error: the text after its sentinel
// ("sigv4: Code: detail"), which sigv4 guarantees holds no secret. "" if none.
func sigv4Message(err error) string {
	s := err.Error()
	i := strings.Index(s, "sigv4: ")
	if i < 0 {
		return ""
	}
	_, detail, ok := strings.Cut(s[i+len("sigv4: "):], ": ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(detail)
}

// knownSigV4Messages returns S3's message for authentication error codes, so the
// client sees S3's wording and nothing of the verifier's internals.
func knownSigV4Messages(code string) (string, bool) {
	switch code {
	case "SignatureDoesNotMatch":
		return "The request signature we calculated does not match the signature you provided. Check your key and signing method.", true
	case "InvalidAccessKeyId":
		return "The AWS Access Key Id you provided does not exist in our records.", true
	case "RequestTimeTooSkewed":
		return "The difference between the request time and the server's time is too large.", true
	case "AccessDenied":
		return "Access Denied.", true
	case "AuthorizationHeaderMalformed":
		return "The authorization header is malformed.", true
	case "AuthorizationQueryParametersError":
		return "Error parsing the X-Amz-Credential parameter.", true
	case "ExpiredToken", "AccessDeniedExpired":
		return "Request has expired.", true
	case "XAmzContentSHA256Mismatch":
		return "The provided 'x-amz-content-sha256' header does not match what was computed.", true
	case "MissingSecurityHeader":
		return "Your request is missing a required header.", true
	case "InvalidDigest", "BadDigest", "IncompleteBody", "InvalidRequest", "InvalidArgument", "MalformedTrailerError", "NotImplemented":
		_, msg := codeInfo(code)
		return msg, true
	}
	return "", false
}

// errorDoc is the S3 error document.
type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

// writeError is the one place that writes an S3 error response. It must only be
// called before the response headers were sent; after that the connection is
// aborted instead (see server.finish).
func (s *server) writeError(w *responseWriter, rq *request, err error) {
	ae := errorResponse(err)
	rq.errCode = ae.Code
	level := slog.LevelDebug
	if ae.Status >= 500 && ae.Status != http.StatusNotImplemented {
		// A client asking for a feature Cairn lacks is not a server fault.
		level = slog.LevelError
	}
	s.log.Log(rq.r.Context(), level, "s3api: request failed",
		"op", rq.op, "request_id", rq.id, "bucket", rq.bucket, "key", rq.key,
		"code", ae.Code, "status", ae.Status, "err", err.Error())

	// Drop any header a handler set for a success response; keep the request ids.
	h := w.Header()
	for k := range h {
		switch k {
		case "X-Amz-Request-Id", "X-Amz-Id-2", "Server":
		default:
			delete(h, k)
		}
	}
	var he *headerError
	if errors.As(err, &he) {
		for k, v := range he.header {
			h[k] = v
		}
	}
	if rq.r.Method == http.MethodHead {
		w.WriteHeader(ae.Status)
		return
	}
	body, merr := xml.Marshal(errorDoc{Code: ae.Code, Message: ae.Message, Resource: rq.r.URL.Path, RequestID: rq.id})
	if merr != nil { // cannot happen for this struct; never leave the client without a status
		w.WriteHeader(ae.Status)
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(ae.Status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
