package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits S3 enforces on requests.
const (
	maxObjectKeyLen  = 1024
	maxUserMetaSize  = 2 << 10 // user metadata, names and values, in bytes
	maxPutSize       = 5 << 30 // single PUT, single part, copy source
	maxPartNumber    = 10000
	maxListKeys      = 1000
	maxXMLBody       = 1 << 20
	maxDeleteXMLBody = 2 << 20
	maxCompleteXML   = 4 << 20 // 10,000 parts with checksums
	maxDeleteObjects = 1000
)

// validateBucketName applies S3's rules for general purpose bucket names: 3–63
// characters of lowercase letters, digits, dots and hyphens; starting and ending
// with a letter or digit; no two adjacent dots; not an IPv4 address; none of the
// reserved prefixes and suffixes.
func validateBucketName(name string) error {
	invalid := func(why string) error {
		return apiError(codeInvalidBucketName, "The specified bucket is not valid: "+why+".")
	}
	if len(name) < 3 || len(name) > 63 {
		return invalid("bucket names must be between 3 and 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return invalid("bucket names can consist only of lowercase letters, numbers, dots and hyphens")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return invalid("bucket names must begin and end with a letter or number")
	}
	if strings.Contains(name, "..") {
		return invalid("bucket names must not contain two adjacent periods")
	}
	if looksLikeIPv4(name) {
		return invalid("bucket names must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-"} {
		if strings.HasPrefix(name, p) {
			return invalid("bucket names must not start with " + p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return invalid("bucket names must not end with " + sfx)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// looksLikeIPv4 reports whether s is four dot-separated groups of digits.
func looksLikeIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// validateObjectKey checks what S3 checks of a key: at most 1024 bytes, valid UTF-8.
// Names the object layer cannot store (e.g. "." segments) are refused there with
// objects.ErrInvalidObjectName.
func validateObjectKey(key string) error {
	if key == "" {
		return apiError(codeInvalidArgument, "Object key must not be empty.")
	}
	if len(key) > maxObjectKeyLen {
		return apiError(codeKeyTooLong, "")
	}
	if !utf8.ValidString(key) {
		return apiError(codeInvalidArgument, "Object key must be valid UTF-8.")
	}
	return nil
}

// isStoredHeader reports whether a request header is kept with an object and
// returned on GET/HEAD: the standard content headers, the storage class and user
// metadata.
func isStoredHeader(name string) bool {
	switch name {
	case "Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
		"Cache-Control", "Expires", storageClassHeader:
		return true
	}
	return strings.HasPrefix(name, "X-Amz-Meta-")
}

// Storage classes. Every object is stored alike, erasure-coded with its set's
// parity; REDUCED_REDUNDANCY is accepted, recorded and reported (as S3 and MinIO
// clients expect) but never means a weaker layout. Other S3 classes (archive
// tiers, infrequent access) are refused rather than silently ignored.
const (
	storageClassHeader   = "X-Amz-Storage-Class"
	storageStandard      = "STANDARD"
	storageReducedRedund = "REDUCED_REDUNDANCY"
)

// parseStorageClass reads x-amz-storage-class: "" for STANDARD (not stored, as S3
// does not report it), the class to store otherwise, InvalidStorageClass for a
// class Cairn does not offer.
func parseStorageClass(h http.Header) (string, error) {
	switch v := strings.TrimSpace(h.Get(storageClassHeader)); v {
	case "", storageStandard:
		return "", nil
	case storageReducedRedund:
		return v, nil
	}
	return "", apiError(codeInvalidStorageClass, "")
}

// storageClassOf is the storage class recorded in an object's or upload's metadata.
func storageClassOf(meta map[string]string) string {
	if v := meta[storageClassHeader]; v != "" {
		return v
	}
	return storageStandard
}

// objectMeta collects the metadata a PUT or CreateMultipartUpload stores: the
// standard content headers, a non-STANDARD storage class and x-amz-meta-*, keyed
// by canonical header name.
// User metadata larger than 2 KiB (names without the prefix, plus values) is
// MetadataTooLarge.
func objectMeta(h http.Header) (map[string]string, error) {
	meta := make(map[string]string)
	userSize := 0
	for name, values := range h {
		if !isStoredHeader(name) || name == storageClassHeader {
			continue
		}
		v := strings.Join(values, ",")
		if name == "Content-Encoding" {
			v = stripAWSChunked(v)
			if v == "" {
				continue
			}
		}
		if strings.HasPrefix(name, "X-Amz-Meta-") {
			userSize += len(name) - len("X-Amz-Meta-") + len(v)
		}
		meta[name] = v
	}
	if userSize > maxUserMetaSize {
		return nil, apiError(codeMetadataTooLarge, "")
	}
	class, err := parseStorageClass(h)
	if err != nil {
		return nil, err
	}
	if class != "" {
		meta[storageClassHeader] = class
	}
	return meta, nil
}

// stripAWSChunked removes the aws-chunked transfer coding from a Content-Encoding
// value; it describes the request framing, not the object.
func stripAWSChunked(v string) string {
	var keep []string
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if c != "" && !strings.EqualFold(c, "aws-chunked") {
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, ",")
}

// contentMD5 decodes a Content-MD5 header: nil when absent, InvalidDigest when it
// is not the base64 of 16 bytes.
func contentMD5(h http.Header) ([]byte, error) {
	v, ok := h["Content-Md5"]
	if !ok {
		return nil, nil
	}
	if len(v) != 1 {
		return nil, apiError(codeInvalidDigest, "")
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[0]))
	if err != nil || len(b) != md5.Size {
		return nil, apiError(codeInvalidDigest, "")
	}
	return b, nil
}

// uploadSize is the size of a PUT or UploadPart body: MissingContentLength when
// unknown, EntityTooLarge past 5 GiB.
func uploadSize(rq *request) (int64, error) {
	if rq.size < 0 {
		return 0, apiError(codeMissingContentLength, "")
	}
	if rq.size > maxPutSize {
		return 0, apiError(codeEntityTooLarge, "")
	}
	return rq.size, nil
}

// parsePartNumber parses a partNumber query value (1–10000).
func parsePartNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, apiError(codeInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive.")
	}
	return n, nil
}

// parseMaxKeys parses max-keys / max-uploads / max-parts: absent → def, values
// above limit are clamped, anything not a non-negative integer is InvalidArgument.
func parseMaxKeys(name, v string, def, limit int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		if err != nil && len(v) > 0 && strings.Trim(v, "0123456789") == "" {
			return limit, nil // a huge number: clamp like S3
		}
		return 0, apiError(codeInvalidArgument, "Provided "+name+" not an integer or within integer range.")
	}
	return min(n, limit), nil
}

// parseEncodingType checks encoding-type: "" or "url".
func parseEncodingType(v string) (bool, error) {
	switch v {
	case "":
		return false, nil
	case "url":
		return true, nil
	}
	return false, apiError(codeInvalidArgument, "Invalid Encoding Method specified in Request.")
}

// trimETag removes the quotes (and a weak prefix) around an entity tag.
func trimETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return s
}

// quoteETag is the ETag as S3 sends it.
func quoteETag(etag string) string { return `"` + etag + `"` }
