package sigv4

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	service    = "s3"
	terminator = "aws4_request"

	// iso8601 is the X-Amz-Date layout (ISO 8601 basic format, UTC).
	iso8601 = "20060102T150405Z"
	// yyyymmdd is the date of a credential scope.
	yyyymmdd = "20060102"
)

// credential is the parsed "AK/date/region/service/aws4_request" of a
// Credential= component or an X-Amz-Credential parameter.
type credential struct {
	AccessKey string
	Date      string // yyyymmdd, checked to be a valid date
	Region    string
	Service   string
}

// scope returns "date/region/service/aws4_request".
func (c credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + terminator
}

// authorization is a parsed AWS4-HMAC-SHA256 Authorization header.
type authorization struct {
	Credential credential
	// SignedHeaders is the SignedHeaders component exactly as sent; it is the
	// second-to-last line of the canonical request.
	SignedHeaders string
	// Headers is SignedHeaders split on ';'. Every name is lowercase,
	// non-empty and unique.
	Headers []string
	// Signature is the decoded 32-byte signature.
	Signature []byte
}

// parseCredential parses "AK/yyyymmdd/region/service/aws4_request". The
// access key is everything before the last four '/'-separated fields, so an
// access key containing '/' still parses. Errors are plain descriptions; the
// caller wraps them in the sentinel fitting the kind of authentication.
func parseCredential(s string) (credential, error) {
	var f [4]string
	rest := s
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return credential{}, errors.New("credential must have the form <access key>/<date>/<region>/<service>/aws4_request")
		}
		f[i] = rest[j+1:]
		rest = rest[:j]
	}
	c := credential{AccessKey: rest, Date: f[0], Region: f[1], Service: f[2]}
	switch {
	case c.AccessKey == "":
		return credential{}, errors.New("credential has an empty access key")
	case !validScopeDate(c.Date):
		return credential{}, fmt.Errorf("credential date %q is not a valid yyyymmdd date", c.Date)
	case c.Region == "":
		return credential{}, errors.New("credential has an empty region")
	case f[3] != terminator:
		return credential{}, fmt.Errorf("credential must end in %q, not %q", terminator, f[3])
	}
	return c, nil
}

func validScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := time.Parse(yyyymmdd, s)
	return err == nil
}

// checkScope checks the parts of a credential scope that do not depend on the
// request time: service, region (when region is non-empty).
func checkScope(c credential, region string) error {
	if c.Service != service {
		return fmt.Errorf("the service %q in the credential scope is wrong; expecting %q", c.Service, service)
	}
	if region != "" && c.Region != region {
		return fmt.Errorf("the region %q is wrong; expecting %q", c.Region, region)
	}
	return nil
}

// parseSignedHeaders splits a SignedHeaders value. Names must be lowercase
// HTTP tokens, non-empty and unique.
func parseSignedHeaders(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("signed headers are empty")
	}
	names := strings.Split(s, ";")
	seen := make(map[string]struct{}, len(names))
	for _, n := range names {
		if n == "" {
			return nil, errors.New("signed headers contain an empty name")
		}
		for i := 0; i < len(n); i++ {
			if !isLowerTokenChar(n[i]) {
				return nil, fmt.Errorf("signed header %q is not a lowercase header name", n)
			}
		}
		if _, dup := seen[n]; dup {
			return nil, fmt.Errorf("signed header %q is listed twice", n)
		}
		seen[n] = struct{}{}
	}
	return names, nil
}

// isLowerTokenChar reports whether c may appear in a lowercased HTTP header
// name (RFC 9110 tchar without upper-case letters).
func isLowerTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// parseSignature decodes a 64-digit hex signature.
func parseSignature(s string) ([]byte, error) {
	if len(s) != 64 {
		return nil, errors.New("signature must be 64 hex digits")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("signature must be 64 hex digits")
	}
	return b, nil
}

// parseAuthorization parses the value of an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Spaces around the components, commas and '=' are tolerated, as is any
// order of the three components; a missing, repeated or unknown component is
// an error. A scheme other than AWS4-HMAC-SHA256 returns an error wrapping
// ErrUnsupportedAlgorithm; every other error wraps
// ErrAuthorizationHeaderMalformed. The scope is not checked against a region.
func parseAuthorization(h string) (authorization, error) {
	h = strings.TrimSpace(h)
	scheme, rest := h, ""
	if i := strings.IndexAny(h, " \t"); i >= 0 {
		scheme, rest = h[:i], h[i+1:]
	}
	switch {
	case scheme == "":
		return authorization{}, fmt.Errorf("%w: empty authorization header", ErrAuthorizationHeaderMalformed)
	case strings.HasPrefix(scheme, algorithm+"Credential="):
		return authorization{}, fmt.Errorf("%w: no space after %s", ErrAuthorizationHeaderMalformed, algorithm)
	case scheme != algorithm:
		return authorization{}, fmt.Errorf("%w: authorization scheme %q is not supported; use %s", ErrUnsupportedAlgorithm, truncate(scheme, 32), algorithm)
	}
	var (
		a                   authorization
		haveCred, haveSH    bool
		haveSig             bool
		credStr, sigStr, sh string
	)
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return authorization{}, fmt.Errorf("%w: empty component", ErrAuthorizationHeaderMalformed)
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, fmt.Errorf("%w: component %q has no '='", ErrAuthorizationHeaderMalformed, truncate(part, 32))
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var seen *bool
		switch k {
		case "Credential":
			seen, credStr = &haveCred, v
		case "SignedHeaders":
			seen, sh = &haveSH, v
		case "Signature":
			seen, sigStr = &haveSig, v
		default:
			return authorization{}, fmt.Errorf("%w: unknown component %q", ErrAuthorizationHeaderMalformed, truncate(k, 32))
		}
		if *seen {
			return authorization{}, fmt.Errorf("%w: component %s is repeated", ErrAuthorizationHeaderMalformed, k)
		}
		*seen = true
	}
	switch {
	case !haveCred:
		return authorization{}, fmt.Errorf("%w: missing Credential", ErrAuthorizationHeaderMalformed)
	case !haveSH:
		return authorization{}, fmt.Errorf("%w: missing SignedHeaders", ErrAuthorizationHeaderMalformed)
	case !haveSig:
		return authorization{}, fmt.Errorf("%w: missing Signature", ErrAuthorizationHeaderMalformed)
	}
	var err error
	if a.Credential, err = parseCredential(credStr); err != nil {
		return authorization{}, fmt.Errorf("%w: %v", ErrAuthorizationHeaderMalformed, err)
	}
	if a.Headers, err = parseSignedHeaders(sh); err != nil {
		return authorization{}, fmt.Errorf("%w: %v", ErrAuthorizationHeaderMalformed, err)
	}
	a.SignedHeaders = sh
	if a.Signature, err = parseSignature(sigStr); err != nil {
		return authorization{}, fmt.Errorf("%w: %v", ErrAuthorizationHeaderMalformed, err)
	}
	return a, nil
}

// String formats a as an Authorization header value the way the AWS SDKs do.
func (a authorization) String() string {
	return algorithm + " Credential=" + a.Credential.AccessKey + "/" + a.Credential.scope() +
		", SignedHeaders=" + a.SignedHeaders + ", Signature=" + hex.EncodeToString(a.Signature)
}

// truncate shortens client-controlled text quoted in error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// queryParam is one decoded name=value pair of a query string.
type queryParam struct {
	Key, Value string
}

// parseQuery splits a raw query string into decoded pairs, in order. Unlike
// url.ParseQuery it keeps order and duplicates and rejects nothing but
// invalid percent-encoding; '+' decodes to a space, as the AWS SDKs assume.
// Empty pieces ("a&&b") are skipped.
func parseQuery(raw string) ([]queryParam, error) {
	if raw == "" {
		return nil, nil
	}
	ps := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("query parameter name %q is not valid percent-encoding", truncate(k, 32))
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("value of query parameter %q is not valid percent-encoding", truncate(dk, 32))
		}
		ps = append(ps, queryParam{dk, dv})
	}
	return ps, nil
}

// parseAmzDate parses an X-Amz-Date value.
func parseAmzDate(s string) (time.Time, error) {
	t, err := time.Parse(iso8601, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not of the form yyyymmddThhmmssZ", ErrMalformedDate, truncate(s, 32))
	}
	return t, nil
}
