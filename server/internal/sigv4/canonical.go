package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The canonical request, string to sign and signing key are built exactly as
// in "Signature Calculations for the Authorization Header" and "Authenticating
// Requests: Using Query Parameters" of the Amazon S3 API reference. The same
// functions serve verification and the client-side helpers in sign.go, so a
// bug cannot hide by being made twice in the same way; the tests pin them to
// AWS's published vectors and to aws-sdk-go-v2's signer.

// uriEncode appends s to b with AWS URI encoding: every byte outside the
// RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case
// hex; a space becomes %20, never '+'.
func uriEncode(b []byte, s string) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&0xf])
	}
	return b
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalQuery returns the canonical query string of ps: every name and
// value URI-encoded, the pairs sorted by encoded name and then encoded value
// (AWS sorts after encoding), joined as n=v with '&'. Parameters named skip
// are left out (X-Amz-Signature of a presigned URL); skip "" leaves out none.
func canonicalQuery(ps []queryParam, skip string) string {
	enc := make([]queryParam, 0, len(ps))
	var buf []byte
	for _, p := range ps {
		if skip != "" && p.Key == skip {
			continue
		}
		buf = uriEncode(buf[:0], p.Key)
		k := string(buf)
		buf = uriEncode(buf[:0], p.Value)
		enc = append(enc, queryParam{k, string(buf)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	var sb strings.Builder
	for i, p := range enc {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(p.Key)
		sb.WriteByte('=')
		sb.WriteString(p.Value)
	}
	return sb.String()
}

// canonicalURI is the escaped path exactly as the client sent it: S3 neither
// normalizes the path nor encodes it a second time.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// requestHost is the Host the client sent.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// headerValues returns the values of the signed header name (lowercase) as
// the client sent them. Go's HTTP server moves Host and Transfer-Encoding out
// of r.Header (and a client-side request may not have Content-Length in it),
// so those are rebuilt from the request fields.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		return []string{requestHost(r)}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v
		}
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	}
	return r.Header.Values(name)
}

// appendTrimmed appends v without leading and trailing white space and with
// every run of spaces collapsed into one, as AWS's Trimall does.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

// canonicalRequest builds
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// where CanonicalHeaders is one "name:value\n" per signed header, in the
// order of names (the order the client listed them in SignedHeaders, which
// the protocol requires to be sorted). Multiple values of one header are
// joined with ','.
func canonicalRequest(r *http.Request, query string, names []string, signedHeaders, payloadHash string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, canonicalURI(r)...)
	b = append(b, '\n')
	b = append(b, query...)
	b = append(b, '\n')
	for _, n := range names {
		b = append(b, n...)
		b = append(b, ':')
		for i, v := range headerValues(r, n) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTrimmed(b, v)
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b
}

// stringToSign builds "AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256(canonical)>".
func stringToSign(amzDate, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := make([]byte, 0, len(algorithm)+len(amzDate)+len(scope)+3+64)
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, sum[:])
	return b
}

// signingKey derives HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func signingKey(secret, date, region, svc string) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], svc)
	return hmacSHA256(k[:], terminator)
}

func hmacSHA256(key []byte, data string) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// sign returns HMAC-SHA256(key, sts).
func sign(key [32]byte, sts []byte) [32]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write(sts)
	var out [32]byte
	m.Sum(out[:0])
	return out
}
