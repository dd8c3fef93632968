package s3api

import (
	"strconv"
	"strings"
)

// byteRange is a satisfiable range of an object: length bytes from start.
type byteRange struct {
	start, length int64
}

// end is the offset of the last byte, as Content-Range shows it.
func (r byteRange) end() int64 { return r.start + r.length - 1 }

// contentRange is the Content-Range header of r within an object of size bytes.
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.start, 10) + "-" + strconv.FormatInt(r.end(), 10) + "/" + strconv.FormatInt(size, 10)
}

// rangeResult says what a Range header asks for.
type rangeResult int

const (
	rangeNone          rangeResult = iota // absent, malformed or multi-range: serve the whole object
	rangePartial                          // serve the returned byteRange with 206
	rangeUnsatisfiable                    // 416 InvalidRange, Content-Range: bytes */size
)

// parseRange interprets a Range header against an object of size bytes, as S3
// does: one range of the forms bytes=a-b, bytes=a- and bytes=-n. b past the end is
// clamped; a suffix longer than the object is the whole object. A first byte at or
// past the end, or a suffix of zero, is unsatisfiable. Malformed headers and
// multiple ranges are ignored (the whole object is served), per RFC 9110.
func parseRange(header string, size int64) (byteRange, rangeResult) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return byteRange{}, rangeNone
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return byteRange{}, rangeNone
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" { // suffix: the last n bytes
		n, ok := parseOffset(last)
		if !ok {
			return byteRange{}, rangeNone
		}
		if n == 0 {
			return byteRange{}, rangeUnsatisfiable
		}
		if size == 0 {
			return byteRange{}, rangeNone // nothing to cut; the (empty) object is the answer
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n}, rangePartial
	}
	a, ok := parseOffset(first)
	if !ok {
		return byteRange{}, rangeNone
	}
	b := size - 1
	if last != "" {
		if b2, ok := parseOffset(last); !ok || b2 < a {
			return byteRange{}, rangeNone
		} else if b2 < b {
			b = b2
		}
	}
	if a >= size {
		return byteRange{}, rangeUnsatisfiable
	}
	return byteRange{start: a, length: b - a + 1}, rangePartial
}

// parseOffset parses a non-empty run of decimal digits that fits an int64.
func parseOffset(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseCopyRange parses x-amz-copy-source-range, which S3 accepts only as
// bytes=first-last with both offsets inside the source object.
func parseCopyRange(header string, size int64) (byteRange, error) {
	bad := apiError(codeInvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy.")
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok {
		return byteRange{}, bad
	}
	first, last, ok := strings.Cut(spec, "-")
	a, okA := parseOffset(first)
	b, okB := parseOffset(last)
	if !ok || !okA || !okB || b < a {
		return byteRange{}, bad
	}
	if b >= size {
		return byteRange{}, apiError(codeInvalidRange, "Range specified is not valid for source object of size: "+strconv.FormatInt(size, 10)+".")
	}
	return byteRange{start: a, length: b - a + 1}, nil
}
