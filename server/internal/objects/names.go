package objects

import (
	"fmt"
	"net"
	"strings"
	"unicode/utf8"
)

// Object keys become drive paths one "/"-separated segment at a time. The mapping is
// injective and never yields ".", ".." or empty path segments, so no key can escape
// its bucket directory: "../x" is stored as "%2E%2E/x" inside the bucket.
//
//	""   → "%"      (empty segment: "a//b", "a/", "/a")
//	"."  → "%2E"
//	".." → "%2E%2E"
//	"%"  → "%25", NUL → "%00" (anywhere in a segment)
//
// An object's stem is its escaped path inside the bucket directory, "bucket/a/b" for
// key "a/b". The object's metadata file is the stem plus metaSuffix ("bucket/a/b%m",
// a file in directory "bucket/a"); each data directory is the stem plus
// dataDirInfix and 32 hex digits. Keys under "a/b/" live in directory "bucket/a/b".
// No escaped segment contains "%m" or "%v" ('%' is always followed by two hex digits
// or stands alone), so these names never collide with a key's. Small objects thus
// cost one file per drive: no directory per object.
const (
	metaSuffix    = "%m"
	dataDirInfix  = "%v"
	maxKeyLen     = 1024
	maxSegmentLen = 255 - len(dataDirInfix) - 32 // room for the data directory name
)

func escapeSegment(seg string) string {
	switch seg {
	case "":
		return "%"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	if !strings.ContainsAny(seg, "%\x00") {
		return seg
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; c {
		case '%':
			b.WriteString("%25")
		case 0:
			b.WriteString("%00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeSegment inverts escapeSegment. ok is false for names that no segment maps
// to (reserved names, stray files).
func unescapeSegment(name string) (string, bool) {
	if name == "%" {
		return "", true
	}
	if !strings.Contains(name, "%") {
		return name, true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			b.WriteByte(name[i])
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		h := name[i+1 : i+3]
		switch h {
		case "25":
			b.WriteByte('%')
		case "00":
			b.WriteByte(0)
		case "2E":
			b.WriteByte('.')
		default:
			return "", false
		}
		i += 2
	}
	s := b.String()
	if (s == "." || s == "..") != (name == "%2E" || name == "%2E%2E") {
		return "", false
	}
	return s, true
}

// objectDir is the drive path of key's directory inside bucket.
func objectStem(bucket, key string) string {
	segs := strings.Split(key, "/")
	var b strings.Builder
	b.Grow(len(bucket) + len(key) + 8)
	b.WriteString(bucket)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(escapeSegment(s))
	}
	return b.String()
}

// checkObjectName validates a key for storage.
func checkObjectName(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidObjectName)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalidObjectName, maxKeyLen)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key is not valid UTF-8", ErrInvalidObjectName)
	}
	for _, s := range strings.Split(key, "/") {
		if len(escapeSegment(s)) > maxSegmentLen {
			return fmt.Errorf("%w: a path segment is longer than %d bytes", ErrInvalidObjectName, maxSegmentLen)
		}
	}
	return nil
}

// CheckBucketName applies S3's bucket naming rules.
func CheckBucketName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrInvalidBucketName, name, why) }
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may contain only lowercase letters, digits, dots and hyphens")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("adjacent periods or period-hyphen")
	}
	if net.ParseIP(name) != nil {
		return bad("must not be formatted as an IP address")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
