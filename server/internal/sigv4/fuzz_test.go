package sigv4

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzParseAuthorization(f *testing.F) {
	const sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=" + sig)
	f.Add("AWS4-HMAC-SHA256 Signature=" + sig + ",Credential=a/b/20130524/us-east-1/s3/aws4_request,SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256\tCredential = AK/20240229/r/s3/aws4_request ,SignedHeaders=host;x-amz-date, Signature=" + strings.ToUpper(sig))
	f.Add("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
	f.Add("AWS4-HMAC-SHA256 Credential=,,,=")
	f.Add("")
	v := testVerifier(testTime)
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrAuthorizationHeaderMalformed) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
		} else {
			if len(a.Signature) != 32 || a.Credential.AccessKey == "" || len(a.Headers) == 0 ||
				strings.Join(a.Headers, ";") != a.SignedHeaders || !validScopeDate(a.Credential.Date) {
				t.Fatalf("inconsistent parse %+v of %q", a, h)
			}
			b, err := parseAuthorization(a.String())
			if err != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip of %q: %+v, %v; want %+v", a.String(), b, err, a)
			}
		}
		// The whole header path must not panic either, and must refuse.
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/k"}, Host: "h", Header: http.Header{
			"Authorization":        {h},
			"X-Amz-Date":           {testTime.Format(iso8601)},
			"X-Amz-Content-Sha256": {EmptySHA256},
		}}
		if res, err := v.Verify(r); err == nil && !res.Anonymous {
			t.Fatalf("forged header %q verified", h)
		}
	})
}

func FuzzPresignQuery(f *testing.F) {
	valid, err := PresignURL("GET", "http://bkt.s3.cairn.test/key?versionId=a%20b&prefix=x", testAccessKey, testSecret, testRegion, testTime, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	u, _ := url.Parse(valid)
	validParams, _ := parseQuery(u.RawQuery)
	validCanon := canonicalQuery(validParams, "X-Amz-Signature")
	var validSig string
	for _, p := range validParams {
		if p.Key == "X-Amz-Signature" {
			validSig = p.Value
		}
	}
	f.Add(u.RawQuery)
	f.Add(strings.Replace(u.RawQuery, "a%20b", "a+b", 1))
	f.Add(strings.Replace(u.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=604801", 1))
	f.Add(strings.Replace(u.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=0", 1))
	f.Add(u.RawQuery + "&X-Amz-Signature=00")
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%zz")
	f.Add("X-Amz-Signature")
	f.Add("acl&versioning=")
	v := testVerifier(testTime.Add(time.Minute))
	f.Fuzz(func(t *testing.T, q string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/key", RawQuery: q}, Host: "bkt.s3.cairn.test", Header: http.Header{}}
		res, err := v.Verify(r)
		if err != nil {
			if res != nil {
				t.Fatal("Result with an error")
			}
			if _, _, ok := S3Code(err); !ok {
				t.Fatalf("error %v has no S3 code", err)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		ps, perr := parseQuery(q)
		if res.Anonymous {
			if perr == nil && isPresigned(ps) {
				t.Fatalf("presign parameters in %q treated as anonymous", q)
			}
			return
		}
		// Only a query that canonicalizes exactly like the signed one, with
		// the signature, may verify.
		if perr != nil || canonicalQuery(ps, "X-Amz-Signature") != validCanon {
			t.Fatalf("query %q verified but differs from the signed one", q)
		}
		if !slices.Contains(ps, queryParam{"X-Amz-Signature", validSig}) {
			t.Fatalf("query %q verified without the signature", q)
		}
	})
}

func FuzzChunkedReader(f *testing.F) {
	crc := []string{"x-amz-checksum-crc32:AAAAAA=="}
	for _, size := range []int{0, 1, 100, 1000} {
		p := testPayload(size)
		f.Add(encodeChunked(p, 64, modeStreaming, nil), int64(size), uint8(0), "")
		f.Add(encodeChunked(p, 64, modeStreamingTrailer, crc), int64(size), uint8(1), "x-amz-checksum-crc32")
		f.Add(encodeChunked(p, 64, modeStreamingUnsignedTrailer, crc), int64(size), uint8(2), "x-amz-checksum-crc32")
		f.Add(encodeChunked(p, 64, modeStreamingUnsignedTrailer, nil), int64(-1), uint8(2), "")
	}
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), int64(3), uint8(2), "")
	f.Add([]byte("fffffff;chunk-signature=00\r\n"), int64(10), uint8(0), "")
	modes := [...]payloadMode{modeStreaming, modeStreamingTrailer, modeStreamingUnsignedTrailer}
	f.Fuzz(func(t *testing.T, body []byte, declared int64, m uint8, trailer string) {
		if declared < -1 {
			declared = -1
		}
		mode := modes[int(m)%len(modes)]
		if mode != modeStreamingUnsignedTrailer && declared < 0 {
			declared = 0
		}
		cr := testChunkedReader(t, body, mode, testSeed, declared, trailer)
		got, err := readAllCounting(cr)
		if declared >= 0 && int64(len(got)) > declared {
			t.Fatalf("returned %d bytes, more than the declared %d", len(got), declared)
		}
		if len(got) > len(body) {
			t.Fatalf("returned %d bytes from a %d-byte body", len(got), len(body))
		}
		if err == nil {
			if declared >= 0 && int64(len(got)) != declared {
				t.Fatalf("clean EOF after %d bytes, declared %d", len(got), declared)
			}
			if mode != modeStreamingUnsignedTrailer && !bytes.Contains(body, got) && len(got) > 0 && len(got) <= 64 {
				t.Fatalf("signed output %q is not in the body", got)
			}
		} else {
			if _, _, ok := S3Code(err); !ok {
				t.Fatalf("error %v has no S3 code", err)
			}
			if cr.Trailer() != nil {
				t.Fatal("Trailer() after an error")
			}
			if _, err2 := cr.Read(make([]byte, 1)); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
		}
		cr.Close()
	})
}
