package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials looks up the secret key of an access key. ok=false when unknown.
// Implementations must be safe for concurrent use.
type Credentials interface {
	SecretKey(accessKey string) (secret string, ok bool)
}

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is 0: the
// 15 minutes S3 allows.
const DefaultMaxSkew = 15 * time.Minute

// MaxPresignExpires is the largest X-Amz-Expires a presigned URL may carry.
const MaxPresignExpires = 7 * 24 * time.Hour

// Payload hash keywords of x-amz-content-sha256.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// EmptySHA256 is the hex SHA-256 of an empty payload.
const EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Verifier checks AWS Signature Version 4 on S3 requests.
//
// Set the exported fields before the first call to Verify and do not change
// them afterwards. A Verifier is safe for concurrent use by many goroutines
// and must not be copied after first use (it holds a signing-key cache and a
// buffer pool).
type Verifier struct {
	// Creds looks up secret keys. A nil Creds knows no access key.
	Creds Credentials
	// Region is the server's region, e.g. "us-east-1"; the credential scope
	// must name it. An empty Region accepts any region in the scope (the
	// region is still part of the signature).
	Region string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the largest difference allowed between the request time
	// and Now; 0 means DefaultMaxSkew.
	MaxSkew time.Duration

	keys keyCache
	bufs sync.Pool // *chunkBufs, reused by chunked readers
}

// Result of a verified request.
type Result struct {
	AccessKey string // "" when Anonymous
	// Anonymous is true when the request carries no authentication at all
	// (no Authorization header, no X-Amz-Algorithm, X-Amz-Credential or
	// X-Amz-Signature query parameter). The caller decides whether anonymous
	// access is allowed.
	Anonymous bool
	// Body replaces r.Body: it yields the decoded payload (aws-chunked
	// decoded) and returns an error at EOF if the payload hash, a chunk
	// signature or the trailer signature does not match. When the payload is
	// not streaming and UNSIGNED-PAYLOAD, or the request is anonymous, it is
	// r.Body itself. Closing Body closes r.Body and returns the decoder's
	// buffers to the Verifier's pool, so close it when done. Body is not
	// safe for concurrent use.
	//
	// With a hex x-amz-content-sha256 the bytes are hashed as they pass, so
	// they are released before they are verified: a reader must treat any
	// error, including the one at EOF, as "discard everything". With the
	// signed aws-chunked encodings every chunk is verified before any of its
	// bytes is released. STREAMING-UNSIGNED-PAYLOAD-TRAILER carries no
	// signature over the data; the caller must check the checksum trailer.
	Body io.ReadCloser
	// ContentLength is the decoded payload length: x-amz-decoded-content-length
	// for aws-chunked requests, r.ContentLength otherwise (-1 if unknown).
	ContentLength int64
	// Trailer returns the trailing headers (e.g. X-Amz-Checksum-Crc32, keys in
	// canonical form) once Body has returned io.EOF; before that, and when
	// the request has no trailer, it returns nil. Trailer is never nil.
	Trailer func() http.Header
}

func noTrailer() http.Header { return nil }

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) secret(accessKey string) (string, bool) {
	if v.Creds == nil {
		return "", false
	}
	return v.Creds.SecretKey(accessKey)
}

// Verify authenticates r and returns the identity and the body to read the
// payload from. It reads r.Header, r.Host, r.Method, r.URL (which must be the
// URL as received: routing must not rewrite the path before Verify) and
// r.ContentLength; it does not read the body. On error the Result is nil
// and r.Body is left untouched (the caller still owns and closes it).
//
// Verify must see the request before anything else consumes r.Body. It is
// safe to call concurrently.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	authz := r.Header.Values("Authorization")
	params, qerr := parseQuery(r.URL.RawQuery)
	presigned := isPresigned(params) || qerr != nil && strings.Contains(r.URL.RawQuery, "X-Amz-")
	switch {
	case len(authz) > 0 && presigned:
		return nil, fmt.Errorf("%w: only one auth mechanism allowed; found both an Authorization header and X-Amz-* query parameters", ErrAmbiguousAuth)
	case len(authz) > 0:
		return v.verifyHeader(r, body, authz, params, qerr)
	case presigned:
		return v.verifyPresigned(r, body, params, qerr)
	}
	return &Result{Anonymous: true, Body: body, ContentLength: r.ContentLength, Trailer: noTrailer}, nil
}

func isPresigned(ps []queryParam) bool {
	for _, p := range ps {
		switch p.Key {
		case "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm":
			return true
		}
	}
	return false
}

// request is what both kinds of authentication hand to finish.
type request struct {
	cred        credential
	secret      string
	amzDate     string // ISO 8601 basic request time, as in the string to sign
	names       []string
	signedHdrs  string
	query       string
	payloadHash string
	signature   []byte
	mode        payloadMode
	sum         [32]byte // when mode == payloadHash
}

func (v *Verifier) verifyHeader(r *http.Request, body io.ReadCloser, authz []string, params []queryParam, qerr error) (*Result, error) {
	if len(authz) > 1 {
		return nil, fmt.Errorf("%w: more than one Authorization header", ErrAuthorizationHeaderMalformed)
	}
	a, err := parseAuthorization(authz[0])
	if err != nil {
		return nil, err
	}
	if err := checkScope(a.Credential, v.Region); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuthorizationHeaderMalformed, err)
	}
	if !slices.Contains(a.Headers, "host") {
		return nil, fmt.Errorf("%w: the host header must be signed", ErrAuthorizationHeaderMalformed)
	}
	hashes := r.Header.Values("X-Amz-Content-Sha256")
	switch len(hashes) {
	case 0:
		return nil, fmt.Errorf("%w: missing required header for this request: x-amz-content-sha256", ErrMissingSecurityHeader)
	case 1:
	default:
		return nil, fmt.Errorf("%w: more than one x-amz-content-sha256 header", ErrInvalidContentSHA256)
	}
	mode, sum, err := parsePayloadHash(hashes[0])
	if err != nil {
		return nil, err
	}
	t, err := headerTime(r)
	if err != nil {
		return nil, err
	}
	if d := t.Format(yyyymmdd); a.Credential.Date != d {
		return nil, fmt.Errorf("%w: invalid credential date %q; it is not the date of the request time %s", ErrAuthorizationHeaderMalformed, a.Credential.Date, d)
	}
	secret, ok := v.secret(a.Credential.AccessKey)
	if !ok {
		return nil, fmt.Errorf("%w: the access key %q does not exist", ErrInvalidAccessKeyID, truncate(a.Credential.AccessKey, 128))
	}
	if err := v.checkSkew(t); err != nil {
		return nil, err
	}
	if qerr != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureDoesNotMatch, qerr)
	}
	return v.finish(r, body, request{
		cred:        a.Credential,
		secret:      secret,
		amzDate:     t.Format(iso8601),
		names:       a.Headers,
		signedHdrs:  a.SignedHeaders,
		query:       canonicalQuery(params, ""),
		payloadHash: hashes[0],
		signature:   a.Signature,
		mode:        mode,
		sum:         sum,
	})
}

// headerTime returns the request time from X-Amz-Date or, without it, Date.
func headerTime(r *http.Request) (time.Time, error) {
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		return parseAmzDate(s)
	}
	s := r.Header.Get("Date")
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: AWS authentication requires a valid Date or x-amz-date header", ErrMissingDateHeader)
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: the Date header %q cannot be parsed", ErrMalformedDate, truncate(s, 64))
	}
	return t.UTC(), nil
}

func (v *Verifier) checkSkew(t time.Time) error {
	now := v.now()
	d := now.Sub(t)
	if d < 0 {
		d = -d
	}
	if d > v.maxSkew() {
		return fmt.Errorf("%w: the difference between the request time %s and the server time %s is too large",
			ErrRequestTimeTooSkewed, t.UTC().Format(iso8601), now.UTC().Format(iso8601))
	}
	return nil
}

// presignParams are the query parameters a presigned URL must carry.
var presignParams = [...]string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
	"X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
}

func (v *Verifier) verifyPresigned(r *http.Request, body io.ReadCloser, params []queryParam, qerr error) (*Result, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrAuthorizationQueryParametersError, fmt.Sprintf(format, args...))
	}
	if qerr != nil {
		return nil, bad("%v", qerr)
	}
	var vals [len(presignParams)]string
	for i, name := range presignParams {
		n := 0
		for _, p := range params {
			if p.Key == name {
				vals[i] = p.Value
				n++
			}
		}
		switch {
		case n == 0:
			return nil, bad("query-string authentication requires the %s parameter", name)
		case n > 1:
			return nil, bad("the %s parameter is repeated", name)
		}
	}
	alg, credStr, dateStr, expStr, sh, sigStr := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]

	if alg != algorithm {
		return nil, fmt.Errorf("%w: %w: X-Amz-Algorithm only supports %q", ErrAuthorizationQueryParametersError, ErrUnsupportedAlgorithm, algorithm)
	}
	cred, err := parseCredential(credStr)
	if err != nil {
		return nil, bad("error parsing the X-Amz-Credential parameter: %v", err)
	}
	if err := checkScope(cred, v.Region); err != nil {
		return nil, bad("error parsing the X-Amz-Credential parameter; %v", err)
	}
	t, err := parseAmzDate(dateStr)
	if err != nil {
		return nil, fmt.Errorf("%w: X-Amz-Date: %w", ErrAuthorizationQueryParametersError, err)
	}
	if d := t.Format(yyyymmdd); cred.Date != d {
		return nil, bad("invalid credential date %q; it is not the date of X-Amz-Date %s", cred.Date, d)
	}
	expires, err := parseExpires(expStr)
	if err != nil {
		return nil, bad("%v", err)
	}
	names, err := parseSignedHeaders(sh)
	if err != nil {
		return nil, bad("X-Amz-SignedHeaders: %v", err)
	}
	if !slices.Contains(names, "host") {
		return nil, bad("X-Amz-SignedHeaders must include host")
	}
	sig, err := parseSignature(sigStr)
	if err != nil {
		return nil, bad("X-Amz-Signature: %v", err)
	}
	secret, ok := v.secret(cred.AccessKey)
	if !ok {
		return nil, fmt.Errorf("%w: the access key %q does not exist", ErrInvalidAccessKeyID, truncate(cred.AccessKey, 128))
	}
	now := v.now()
	if t.Sub(now) > v.maxSkew() {
		return nil, fmt.Errorf("%w: request is not valid yet: X-Amz-Date %s is after the server time %s",
			ErrRequestNotReadyYet, t.Format(iso8601), now.UTC().Format(iso8601))
	}
	if now.After(t.Add(expires)) {
		return nil, fmt.Errorf("%w: request has expired: it was valid until %s, the server time is %s",
			ErrExpiredPresignRequest, t.Add(expires).Format(iso8601), now.UTC().Format(iso8601))
	}

	// The payload is UNSIGNED-PAYLOAD unless the signer said otherwise, in
	// the query (X-Amz-Content-Sha256) or in a header.
	payloadHash := UnsignedPayload
	for _, p := range params {
		if p.Key == "X-Amz-Content-Sha256" {
			payloadHash = p.Value
		}
	}
	if payloadHash == UnsignedPayload {
		if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
			payloadHash = h
		}
	}
	mode, sum, err := parsePayloadHash(payloadHash)
	if err != nil {
		return nil, err
	}
	if mode != modeUnsigned && mode != modeHash {
		return nil, fmt.Errorf("%w: %s cannot be used with a presigned URL", ErrInvalidContentSHA256, payloadHash)
	}
	return v.finish(r, body, request{
		cred:        cred,
		secret:      secret,
		amzDate:     dateStr,
		names:       names,
		signedHdrs:  sh,
		query:       canonicalQuery(params, "X-Amz-Signature"),
		payloadHash: payloadHash,
		signature:   sig,
		mode:        mode,
		sum:         sum,
	})
}

// parseExpires parses X-Amz-Expires: decimal seconds in 1..604800.
func parseExpires(s string) (time.Duration, error) {
	if s == "" || len(s) > 7 {
		return 0, fmt.Errorf("X-Amz-Expires must be between 1 and %d seconds", int(MaxPresignExpires/time.Second))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("X-Amz-Expires must be a number of seconds")
		}
	}
	n, _ := strconv.Atoi(s)
	d := time.Duration(n) * time.Second
	if n < 1 || d > MaxPresignExpires {
		return 0, fmt.Errorf("X-Amz-Expires must be between 1 and %d seconds", int(MaxPresignExpires/time.Second))
	}
	return d, nil
}

// finish checks the signature of a parsed request and builds the Result.
func (v *Verifier) finish(r *http.Request, body io.ReadCloser, q request) (*Result, error) {
	key := v.keys.get(q.cred, q.secret)
	scope := q.cred.scope()
	canon := canonicalRequest(r, q.query, q.names, q.signedHdrs, q.payloadHash)
	want := sign(key, stringToSign(q.amzDate, scope, canon))
	if !hmac.Equal(want[:], q.signature) {
		return nil, fmt.Errorf("%w: the request signature we calculated does not match the signature you provided; check your key and signing method", ErrSignatureDoesNotMatch)
	}
	if unsigned := unsignedAmzHeaders(r, q.names); len(unsigned) > 0 {
		return nil, fmt.Errorf("%w: there were headers present in the request which were not signed: %s", ErrAccessDenied, truncate(strings.Join(unsigned, ", "), 256))
	}
	res := &Result{AccessKey: q.cred.AccessKey, Body: body, ContentLength: r.ContentLength, Trailer: noTrailer}
	switch q.mode {
	case modeUnsigned:
	case modeHash:
		res.Body = newSHA256Reader(body, q.sum)
	default:
		cr, n, err := v.newChunkedReader(r, body, q.mode, key, q.amzDate, scope, want)
		if err != nil {
			return nil, err
		}
		res.Body, res.ContentLength, res.Trailer = cr, n, cr.Trailer
	}
	return res, nil
}

// unsignedAmzHeaders lists the x-amz-* headers of r that names does not
// cover. x-amz-content-sha256 and x-amz-date are exempt, as in S3: both are
// covered by the string to sign anyway.
func unsignedAmzHeaders(r *http.Request, names []string) []string {
	var out []string
	for k := range r.Header {
		l := strings.ToLower(k)
		if !strings.HasPrefix(l, "x-amz-") || l == "x-amz-content-sha256" || l == "x-amz-date" {
			continue
		}
		if !slices.Contains(names, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// payloadMode is what x-amz-content-sha256 says about the payload.
type payloadMode int

const (
	modeUnsigned                 payloadMode = iota // UNSIGNED-PAYLOAD
	modeHash                                        // hex SHA-256 of the payload
	modeStreaming                                   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	modeStreamingTrailer                            // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	modeStreamingUnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

func parsePayloadHash(s string) (payloadMode, [32]byte, error) {
	var sum [32]byte
	switch s {
	case UnsignedPayload:
		return modeUnsigned, sum, nil
	case StreamingPayload:
		return modeStreaming, sum, nil
	case StreamingPayloadTrailer:
		return modeStreamingTrailer, sum, nil
	case StreamingUnsignedPayloadTrailer:
		return modeStreamingUnsignedTrailer, sum, nil
	}
	if len(s) == 64 {
		if _, err := hex.Decode(sum[:], []byte(s)); err == nil {
			return modeHash, sum, nil
		}
	}
	return 0, sum, fmt.Errorf("%w: x-amz-content-sha256 must be %s, %s, %s, %s or 64 hex digits",
		ErrInvalidContentSHA256, UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer)
}
