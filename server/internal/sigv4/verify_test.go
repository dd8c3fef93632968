package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testAccessKey = "AKIDTEST"
	testSecret    = "test/secret+key=42"
	testRegion    = "us-east-1"
)

var testTime = time.Date(2024, 2, 29, 23, 59, 30, 0, time.UTC)

func testVerifier(now time.Time) *Verifier {
	return &Verifier{
		Creds:  staticCreds{testAccessKey: testSecret, "OTHER": "other-secret"},
		Region: testRegion,
		Now:    func() time.Time { return now },
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// signedRequest returns a request signed at testTime with SignRequest.
func signedRequest(t *testing.T, method, target, body string, headers ...string) *http.Request {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	r := newRequest(t, method, "http://bkt.s3.cairn.test"+target, rb, headers...)
	if err := SignRequest(r, testAccessKey, testSecret, testRegion, testTime, sha256Hex(body)); err != nil {
		t.Fatal(err)
	}
	return r
}

// presignedRequest returns a GET of a URL presigned at testTime.
func presignedRequest(t *testing.T, target string, expires time.Duration) *http.Request {
	t.Helper()
	u, err := PresignURL("GET", "http://bkt.s3.cairn.test"+target, testAccessKey, testSecret, testRegion, testTime, expires)
	if err != nil {
		t.Fatal(err)
	}
	return newRequest(t, "GET", u, nil)
}

// setQuery replaces (or, with value "", removes) one presign parameter
// without touching the others' encoding.
func setQuery(r *http.Request, key, value string) {
	var out []string
	for p := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if k, _, _ := strings.Cut(p, "="); k == key {
			continue
		}
		out = append(out, p)
	}
	if value != "" {
		out = append(out, key+"="+url.QueryEscape(value))
	}
	r.URL.RawQuery = strings.Join(out, "&")
}

func TestVerifyHeaderAuth(t *testing.T) {
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		now     time.Time // zero = testTime
		skew    time.Duration
		region  string // "" = testRegion; "-" = any
		want    error  // from Verify; nil = success
		bodyErr error  // from reading Body
		msg     string // substring of the error text
	}{
		{
			name: "valid GET",
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key?versionId=1", "") },
		},
		{
			name: "valid PUT with body",
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "PUT", "/key", "payload") },
		},
		{
			name: "Date header instead of X-Amz-Date",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil, "Date", testTime.Format(http.TimeFormat))
				SignRequest(r, testAccessKey, testSecret, testRegion, testTime, EmptySHA256)
				r.Header.Del("X-Amz-Date")
				// Re-sign by hand: SignRequest always sets X-Amz-Date, so
				// rebuild the Authorization header without it.
				names := []string{"date", "host", "x-amz-content-sha256"}
				canon := canonicalRequest(r, "", names, strings.Join(names, ";"), EmptySHA256)
				cred := credential{testAccessKey, testTime.Format(yyyymmdd), testRegion, service}
				sig := sign(signingKey(testSecret, cred.Date, testRegion, service), stringToSign(testTime.Format(iso8601), cred.scope(), canon))
				r.Header.Set("Authorization", authorization{Credential: cred, SignedHeaders: strings.Join(names, ";"), Signature: sig[:]}.String())
				return r
			},
		},
		{
			name:   "any region when Region is empty",
			region: "-",
			req:    func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
		},
		{
			name: "within skew",
			now:  testTime.Add(14 * time.Minute),
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
		},
		{
			name: "wrong secret",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
				SignRequest(r, testAccessKey, "wrong", testRegion, testTime, EmptySHA256)
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "another user's secret",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
				SignRequest(r, testAccessKey, "other-secret", testRegion, testTime, EmptySHA256)
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "unknown access key",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
				SignRequest(r, "NOSUCHKEY", testSecret, testRegion, testTime, EmptySHA256)
				return r
			},
			want: ErrInvalidAccessKeyID,
			msg:  "NOSUCHKEY",
		},
		{
			name: "tampered header",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "", "Range", "bytes=0-9")
				r.Header.Set("Range", "bytes=0-99")
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered query value",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/?list-type=2&prefix=a", "")
				r.URL.RawQuery = "list-type=2&prefix=b"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "added query parameter",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.URL.RawQuery = "versionId=x"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered path",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.URL.Path = "/key2"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "path encoded differently",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/a%20b", "")
				// The same decoded path, escaped differently: S3 does not
				// normalize, so this is a different canonical URI.
				r.URL.RawPath = "/a%20%62"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered method",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Method = "DELETE"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered host",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Host = "other.s3.cairn.test"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "payload hash swapped for UNSIGNED-PAYLOAD",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "PUT", "/key", "payload")
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "unsigned x-amz header added",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "PUT", "/key", "payload")
				r.Header.Set("X-Amz-Acl", "public-read")
				return r
			},
			want: ErrAccessDenied,
			msg:  "x-amz-acl",
		},
		{
			name: "body does not match x-amz-content-sha256",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "PUT", "/key", "payload")
				r.Body = io.NopCloser(strings.NewReader("PAYLOAD"))
				return r
			},
			bodyErr: ErrContentSHA256Mismatch,
		},
		{
			name: "missing x-amz-content-sha256",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Del("X-Amz-Content-Sha256")
				return r
			},
			want: ErrMissingSecurityHeader,
		},
		{
			name: "invalid x-amz-content-sha256",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
				SignRequest(r, testAccessKey, testSecret, testRegion, testTime, "abc123")
				return r
			},
			want: ErrInvalidContentSHA256,
		},
		{
			name: "x-amz-content-sha256 of 64 non-hex characters",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
				SignRequest(r, testAccessKey, testSecret, testRegion, testTime, strings.Repeat("g", 64))
				return r
			},
			want: ErrInvalidContentSHA256,
		},
		{
			name: "request too old",
			now:  testTime.Add(15*time.Minute + time.Second),
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
			want: ErrRequestTimeTooSkewed,
		},
		{
			name: "request from the future",
			now:  testTime.Add(-16 * time.Minute),
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
			want: ErrRequestTimeTooSkewed,
		},
		{
			name: "custom MaxSkew",
			now:  testTime.Add(2 * time.Minute),
			skew: time.Minute,
			req:  func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
			want: ErrRequestTimeTooSkewed,
		},
		{
			name: "missing date",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Del("X-Amz-Date")
				return r
			},
			want: ErrMissingDateHeader,
		},
		{
			name: "malformed x-amz-date",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Set("X-Amz-Date", "2024-02-29T23:59:30Z")
				return r
			},
			want: ErrMalformedDate,
		},
		{
			name: "credential date is not the request date",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Set("X-Amz-Date", "20240301T000010Z")
				return r
			},
			now:  testTime.Add(time.Minute),
			want: ErrAuthorizationHeaderMalformed,
			msg:  "credential date",
		},
		{
			name:   "wrong region",
			region: "eu-west-1",
			req:    func(t *testing.T) *http.Request { return signedRequest(t, "GET", "/key", "") },
			want:   ErrAuthorizationHeaderMalformed,
			msg:    `the region "us-east-1" is wrong; expecting "eu-west-1"`,
		},
		{
			name: "wrong service",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/s3/", "/iam/", 1))
				return r
			},
			want: ErrAuthorizationHeaderMalformed,
			msg:  "service",
		},
		{
			name: "host not signed",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
				return r
			},
			want: ErrAuthorizationHeaderMalformed,
			msg:  "host",
		},
		{
			name: "signature version 2",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil, "Authorization", "AWS AKIDTEST:frJIUN8DYpKDtOLCwo//yllqDzg=")
			},
			want: ErrUnsupportedAlgorithm,
		},
		{
			name: "SigV4a",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
				return r
			},
			want: ErrUnsupportedAlgorithm,
		},
		{
			name: "two Authorization headers",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.Header.Add("Authorization", r.Header.Get("Authorization"))
				return r
			},
			want: ErrAuthorizationHeaderMalformed,
		},
		{
			name: "header and presign together",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.Header.Set("Authorization", signedRequest(t, "GET", "/key", "").Header.Get("Authorization"))
				return r
			},
			want: ErrAmbiguousAuth,
		},
		{
			name: "invalid percent-encoding in query",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/key", "")
				r.URL.RawQuery = "a=%zz"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = testTime
			}
			v := testVerifier(now)
			v.MaxSkew = tc.skew
			switch tc.region {
			case "":
			case "-":
				v.Region = ""
			default:
				v.Region = tc.region
			}
			res, err := v.Verify(tc.req(t))
			checkErr(t, "Verify", err, tc.want, tc.msg)
			if err != nil {
				if res != nil {
					t.Fatalf("Verify returned a Result with an error")
				}
				return
			}
			if res.Anonymous || res.AccessKey != testAccessKey {
				t.Fatalf("Result = %+v", res)
			}
			_, err = io.ReadAll(res.Body)
			checkErr(t, "reading Body", err, tc.bodyErr, "")
		})
	}
}

// checkErr fails unless err wraps want (nil: err is nil) and contains msg,
// and checks that no error text leaks a secret.
func checkErr(t *testing.T, what string, err, want error, msg string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
	if err == nil {
		return
	}
	for _, secret := range []string{testSecret, "other-secret", exampleSecret, sdkSecret} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: error text %q contains a secret", what, err)
		}
	}
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: error %q does not mention %q", what, err, msg)
	}
	if _, _, ok := S3Code(err); !ok {
		t.Fatalf("%s: S3Code(%v) not ok", what, err)
	}
}

func TestVerifyPresigned(t *testing.T) {
	const week = 7 * 24 * time.Hour
	tests := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		now     time.Time // zero = testTime
		want    error
		also    error // a second sentinel the error must wrap
		bodyErr error
		msg     string
	}{
		{
			name: "valid",
			req: func(t *testing.T) *http.Request {
				return presignedRequest(t, "/a%20b/%C3%BC%2B~%25?versionId=x&prefix=a&prefix=b", time.Hour)
			},
		},
		{
			name: "valid at the last second",
			now:  testTime.Add(time.Hour),
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", time.Hour) },
		},
		{
			name: "valid for seven days",
			now:  testTime.Add(week - time.Second),
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", week) },
		},
		{
			name: "slightly in the future",
			now:  testTime.Add(-10 * time.Minute),
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", time.Hour) },
		},
		{
			name: "expired",
			now:  testTime.Add(time.Hour + time.Second),
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", time.Hour) },
			want: ErrExpiredPresignRequest,
		},
		{
			name: "not valid yet",
			now:  testTime.Add(-16 * time.Minute),
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", time.Hour) },
			want: ErrRequestNotReadyYet,
		},
		{
			name: "expires longer than seven days",
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", week+time.Second) },
			want: ErrAuthorizationQueryParametersError,
			msg:  "X-Amz-Expires",
		},
		{
			name: "expires zero",
			req:  func(t *testing.T) *http.Request { return presignedRequest(t, "/key", 0) },
			want: ErrAuthorizationQueryParametersError,
		},
		{
			name: "expires not a number",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-Expires", "-5")
				return r
			},
			want: ErrAuthorizationQueryParametersError,
		},
		{
			name: "missing X-Amz-SignedHeaders",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-SignedHeaders", "")
				return r
			},
			want: ErrAuthorizationQueryParametersError,
			msg:  "X-Amz-SignedHeaders",
		},
		{
			name: "only X-Amz-Signature",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "http://bkt.s3.cairn.test/key?X-Amz-Signature="+strings.Repeat("0", 64), nil)
			},
			want: ErrAuthorizationQueryParametersError,
		},
		{
			name: "repeated X-Amz-Signature",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.URL.RawQuery += "&X-Amz-Signature=" + strings.Repeat("0", 64)
				return r
			},
			want: ErrAuthorizationQueryParametersError,
		},
		{
			name: "wrong algorithm",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-Algorithm", "AWS4-HMAC-SHA1")
				return r
			},
			want: ErrAuthorizationQueryParametersError,
			also: ErrUnsupportedAlgorithm,
		},
		{
			name: "wrong region",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-Credential", testAccessKey+"/20240229/eu-west-1/s3/aws4_request")
				return r
			},
			want: ErrAuthorizationQueryParametersError,
			msg:  `expecting "us-east-1"`,
		},
		{
			name: "malformed X-Amz-Date",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-Date", "yesterday")
				return r
			},
			want: ErrAuthorizationQueryParametersError,
			also: ErrMalformedDate,
		},
		{
			name: "added query parameter",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.URL.RawQuery += "&versionId=2"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "extended expiry",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				setQuery(r, "X-Amz-Expires", "7200")
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered path",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.URL.Path = "/other"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered method",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.Method = "PUT"
				return r
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "wrong secret",
			req: func(t *testing.T) *http.Request {
				u, _ := PresignURL("GET", "http://bkt.s3.cairn.test/key", testAccessKey, "nope", testRegion, testTime, time.Hour)
				return newRequest(t, "GET", u, nil)
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "unknown access key",
			req: func(t *testing.T) *http.Request {
				u, _ := PresignURL("GET", "http://bkt.s3.cairn.test/key", "NOSUCHKEY", testSecret, testRegion, testTime, time.Hour)
				return newRequest(t, "GET", u, nil)
			},
			want: ErrInvalidAccessKeyID,
		},
		{
			name: "unsigned x-amz header added",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.Header.Set("X-Amz-Server-Side-Encryption", "AES256")
				return r
			},
			want: ErrAccessDenied,
		},
		{
			name: "payload hash in the query is checked",
			req: func(t *testing.T) *http.Request {
				u, _ := PresignURL("PUT", "http://bkt.s3.cairn.test/key?X-Amz-Content-Sha256="+sha256Hex("expected"),
					testAccessKey, testSecret, testRegion, testTime, time.Hour)
				// PresignURL signs UNSIGNED-PAYLOAD; sign again by hand with
				// the hash as the payload line.
				r := newRequest(t, "PUT", u, strings.NewReader("something else"))
				ps, _ := parseQuery(r.URL.RawQuery)
				canon := canonicalRequest(r, canonicalQuery(ps, "X-Amz-Signature"), []string{"host"}, "host", sha256Hex("expected"))
				cred := credential{testAccessKey, "20240229", testRegion, service}
				sig := sign(signingKey(testSecret, cred.Date, testRegion, service), stringToSign(testTime.Format(iso8601), cred.scope(), canon))
				setQuery(r, "X-Amz-Signature", hex.EncodeToString(sig[:]))
				return r
			},
			bodyErr: ErrContentSHA256Mismatch,
		},
		{
			name: "streaming payload is not allowed",
			req: func(t *testing.T) *http.Request {
				r := presignedRequest(t, "/key", time.Hour)
				r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
				return r
			},
			want: ErrInvalidContentSHA256,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = testTime
			}
			res, err := testVerifier(now).Verify(tc.req(t))
			checkErr(t, "Verify", err, tc.want, tc.msg)
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Fatalf("error %v does not wrap %v", err, tc.also)
			}
			if err != nil {
				return
			}
			if res.AccessKey != testAccessKey || res.Anonymous {
				t.Fatalf("Result = %+v", res)
			}
			_, err = io.ReadAll(res.Body)
			checkErr(t, "reading Body", err, tc.bodyErr, "")
		})
	}
}

func TestVerifyAnonymous(t *testing.T) {
	body := io.NopCloser(strings.NewReader("data"))
	r := newRequest(t, "PUT", "http://bkt.s3.cairn.test/key?acl&X-Amz-Meta=1", nil)
	r.Body, r.ContentLength = body, 4
	res, err := testVerifier(testTime).Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Anonymous || res.AccessKey != "" || res.Body != body || res.ContentLength != 4 || res.Trailer() != nil {
		t.Fatalf("Result = %+v", res)
	}
}

func TestVerifyNilCredentials(t *testing.T) {
	v := &Verifier{Region: testRegion, Now: func() time.Time { return testTime }}
	_, err := v.Verify(signedRequest(t, "GET", "/key", ""))
	if !errors.Is(err, ErrInvalidAccessKeyID) {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyKeyRotation checks that the signing-key cache never answers for
// a secret that has changed.
func TestVerifyKeyRotation(t *testing.T) {
	creds := staticCreds{testAccessKey: testSecret}
	v := &Verifier{Creds: creds, Region: testRegion, Now: func() time.Time { return testTime }}
	if _, err := v.Verify(signedRequest(t, "GET", "/key", "")); err != nil {
		t.Fatal(err)
	}
	creds[testAccessKey] = "rotated"
	if _, err := v.Verify(signedRequest(t, "GET", "/key", "")); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("old secret after rotation: err = %v", err)
	}
	r := newRequest(t, "GET", "http://bkt.s3.cairn.test/key", nil)
	SignRequest(r, testAccessKey, "rotated", testRegion, testTime, EmptySHA256)
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

// TestVerifyConcurrent shares one Verifier between goroutines (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier(testTime)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			var err error
			for j := 0; j < 50 && err == nil; j++ {
				body := strings.Repeat("x", i*j)
				var r *http.Request
				if j%2 == 0 {
					r = signedRequest(t, "PUT", fmt.Sprintf("/k%d", j), body)
				} else {
					r = newRequest(t, "PUT", "http://bkt.s3.cairn.test/k", nil)
					err = SignChunkedRequest(r, testAccessKey, testSecret, testRegion, testTime, []byte(body), ChunkedOptions{ChunkSize: 7})
				}
				var res *Result
				if err == nil {
					res, err = v.Verify(r)
				}
				if err == nil {
					var got []byte
					got, err = io.ReadAll(res.Body)
					if err == nil && string(got) != body {
						err = fmt.Errorf("body %q, want %q", got, body)
					}
					res.Body.Close()
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	const sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	const cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
	tests := []struct {
		name   string
		header string
		want   error // nil = parses
		ak     string
	}{
		{"SDK form", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig, nil, ""},
		{"no spaces", "AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host;x-amz-date,Signature=" + sig, nil, ""},
		{"extra spaces", "  AWS4-HMAC-SHA256   Credential = " + cred + " ,  SignedHeaders= host;x-amz-date ,Signature =" + sig + "  ", nil, ""},
		{"reordered", "AWS4-HMAC-SHA256 Signature=" + sig + ", Credential=" + cred + ", SignedHeaders=host;x-amz-date", nil, ""},
		{"tab after scheme", "AWS4-HMAC-SHA256\tCredential=" + cred + ", SignedHeaders=host, Signature=" + sig, nil, ""},
		{"access key with slash", "AWS4-HMAC-SHA256 Credential=a/b/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, nil, "a/b"},
		{"empty", "", ErrAuthorizationHeaderMalformed, ""},
		{"scheme only", "AWS4-HMAC-SHA256", ErrAuthorizationHeaderMalformed, ""},
		{"no space after scheme", "AWS4-HMAC-SHA256Credential=" + cred + ", SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"other scheme", "Bearer abc", ErrUnsupportedAlgorithm, ""},
		{"missing signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host", ErrAuthorizationHeaderMalformed, ""},
		{"repeated component", "AWS4-HMAC-SHA256 Credential=" + cred + ", Credential=" + cred + ", SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"unknown component", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + sig + ", Foo=bar", ErrAuthorizationHeaderMalformed, ""},
		{"trailing comma", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + sig + ",", ErrAuthorizationHeaderMalformed, ""},
		{"short signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=abc", ErrAuthorizationHeaderMalformed, ""},
		{"non-hex signature", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + strings.Repeat("z", 64), ErrAuthorizationHeaderMalformed, ""},
		{"short credential", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"bad date", "AWS4-HMAC-SHA256 Credential=AK/20131324/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"upper-case signed header", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=Host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"repeated signed header", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;host, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
		{"empty signed header", "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;;x, Signature=" + sig, ErrAuthorizationHeaderMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseAuthorization(tc.header)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ak := tc.ak
			if ak == "" {
				ak = "AKIAIOSFODNN7EXAMPLE"
			}
			if a.Credential.AccessKey != ak || a.Credential.Date != "20130524" || a.Credential.Region != "us-east-1" ||
				a.Credential.Service != "s3" || a.Headers[0] != "host" || hex.EncodeToString(a.Signature) != sig {
				t.Fatalf("parsed %+v", a)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"", ""},
		{"lifecycle", "lifecycle="},
		{"b=2&a=1", "a=1&b=2"},
		{"prefix=b&prefix=a", "prefix=a&prefix=b"},
		// AWS sorts after encoding: "a%2Fb" < "a-b" although '/' > '-'.
		{"k=a-b&k=a%2Fb", "k=a%2Fb&k=a-b"},
		{"sp=a+b&pct=a%20b", "pct=a%20b&sp=a%20b"},
		{"u=%C3%BC&t=~&s=*&r=!", "r=%21&s=%2A&t=~&u=%C3%BC"},
		{"a&&b=", "a=&b="},
	}
	for _, tc := range tests {
		ps, err := parseQuery(tc.raw)
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		if got := canonicalQuery(ps, ""); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestS3Code(t *testing.T) {
	tests := []struct {
		err    error
		code   string
		status int
	}{
		{ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", 403},
		{ErrInvalidAccessKeyID, "InvalidAccessKeyId", 403},
		{ErrAccessDenied, "AccessDenied", 403},
		{ErrMissingSecurityHeader, "MissingSecurityHeader", 400},
		{ErrAuthorizationHeaderMalformed, "AuthorizationHeaderMalformed", 400},
		{ErrAuthorizationQueryParametersError, "AuthorizationQueryParametersError", 400},
		{ErrRequestTimeTooSkewed, "RequestTimeTooSkewed", 403},
		{ErrExpiredPresignRequest, "AccessDenied", 403},
		{ErrRequestNotReadyYet, "AccessDenied", 403},
		{ErrContentSHA256Mismatch, "XAmzContentSHA256Mismatch", 400},
		{ErrInvalidContentSHA256, "InvalidArgument", 400},
		{ErrMissingDateHeader, "AccessDenied", 403},
		{ErrMalformedDate, "AccessDenied", 403},
		{ErrMalformedChunk, "InvalidRequest", 400},
		{ErrMalformedTrailer, "MalformedTrailerError", 400},
		{ErrIncompleteBody, "IncompleteBody", 400},
		{ErrMissingContentLength, "MissingContentLength", 411},
		{ErrUnsupportedAlgorithm, "InvalidRequest", 400},
		{ErrAmbiguousAuth, "InvalidArgument", 400},
		{fmt.Errorf("%w: detail", ErrIncompleteBody), "IncompleteBody", 400},
		{fmt.Errorf("%w: %w", ErrAuthorizationQueryParametersError, ErrMalformedDate), "AuthorizationQueryParametersError", 400},
		{fmt.Errorf("%w: %w", ErrAuthorizationQueryParametersError, ErrUnsupportedAlgorithm), "AuthorizationQueryParametersError", 400},
	}
	for _, tc := range tests {
		code, status, ok := S3Code(tc.err)
		if !ok || code != tc.code || status != tc.status {
			t.Errorf("S3Code(%v) = %q, %d, %v; want %q, %d", tc.err, code, status, ok, tc.code, tc.status)
		}
		if !strings.HasPrefix(tc.err.Error(), "sigv4: ") {
			t.Errorf("%v has no sigv4 prefix", tc.err)
		}
	}
	for _, err := range []error{nil, io.ErrUnexpectedEOF, errors.New("sigv4: other")} {
		if _, _, ok := S3Code(err); ok {
			t.Errorf("S3Code(%v) ok", err)
		}
	}
}
