package s3api

import (
	"net/http"
	"strings"
	"time"
)

// Conditional reads (If-Match and friends) and copy-source conditions.

// preconditions are the four conditional headers of a read, or the four
// x-amz-copy-source-if-* headers of a copy.
type preconditions struct {
	ifMatch, ifNoneMatch               string
	ifModifiedSince, ifUnmodifiedSince string
}

func readPreconditions(h http.Header) preconditions {
	return preconditions{
		ifMatch:           h.Get("If-Match"),
		ifNoneMatch:       h.Get("If-None-Match"),
		ifModifiedSince:   h.Get("If-Modified-Since"),
		ifUnmodifiedSince: h.Get("If-Unmodified-Since"),
	}
}

func copySourcePreconditions(h http.Header) preconditions {
	return preconditions{
		ifMatch:           h.Get("X-Amz-Copy-Source-If-Match"),
		ifNoneMatch:       h.Get("X-Amz-Copy-Source-If-None-Match"),
		ifModifiedSince:   h.Get("X-Amz-Copy-Source-If-Modified-Since"),
		ifUnmodifiedSince: h.Get("X-Amz-Copy-Source-If-Unmodified-Since"),
	}
}

// condResult is the outcome of evaluating preconditions.
type condResult int

const (
	condPass        condResult = iota // serve the request
	condFailed                        // 412 PreconditionFailed
	condNotModified                   // 304 Not Modified (reads); 412 for copies
)

// evaluate applies RFC 9110 §13.2.2's order, which is also S3's:
//  1. If-Match present: fails unless it matches (If-Unmodified-Since is then ignored);
//     otherwise If-Unmodified-Since fails if the object changed after it.
//  2. If-None-Match present: not modified if it matches (If-Modified-Since is then
//     ignored); otherwise If-Modified-Since is not modified unless the object
//     changed after it.
//
// Unparsable dates are ignored. Times compare at one-second resolution, the
// resolution of HTTP dates.
func (p preconditions) evaluate(etag string, modTime time.Time) condResult {
	mod := modTime.Truncate(time.Second)
	if p.ifMatch != "" {
		if !etagListMatches(p.ifMatch, etag) {
			return condFailed
		}
	} else if t, ok := parseHTTPDate(p.ifUnmodifiedSince); ok && mod.After(t) {
		return condFailed
	}
	if p.ifNoneMatch != "" {
		if etagListMatches(p.ifNoneMatch, etag) {
			return condNotModified
		}
	} else if t, ok := parseHTTPDate(p.ifModifiedSince); ok && !mod.After(t) {
		return condNotModified
	}
	return condPass
}

// etagListMatches reports whether a list of entity tags ("*", `"a", "b"`, with or
// without quotes and W/ prefixes) names etag.
func etagListMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || (t != "" && trimETag(t) == etag) {
			return true
		}
	}
	return false
}

func parseHTTPDate(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(strings.TrimSpace(v))
	return t, err == nil
}
