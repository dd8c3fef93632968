package s3api

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// Object and bucket tagging. Tags are stored url-encoded ("k=v&k2=v2"), in the
// order the client gave them.

const (
	maxObjectTags   = 10
	maxBucketTags   = 50
	maxTagKeyLen    = 128 // characters
	maxTagValueLen  = 256 // characters
	maxTaggingBytes = 64 << 10
)

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagSet struct {
	Tags []tag `xml:"Tag"`
}

// taggingRequest is the body of PutObjectTagging / PutBucketTagging.
type taggingRequest struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  *tagSet  `xml:"TagSet"`
}

type taggingResponse struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ Tagging"`
	TagSet  tagSet   `xml:"TagSet"`
}

// parseTaggingXML decodes and validates a Tagging body with at most limit tags.
func parseTaggingXML(b []byte, limit int) ([]tag, error) {
	var req taggingRequest
	if err := unmarshalXML(b, &req); err != nil {
		return nil, err
	}
	if req.TagSet == nil {
		return nil, apiError(codeMalformedXML, "")
	}
	if err := validateTags(req.TagSet.Tags, limit); err != nil {
		return nil, err
	}
	return req.TagSet.Tags, nil
}

// validateTags applies S3's tag rules: at most limit tags, unique keys of 1–128
// characters, values of at most 256, letters, digits, spaces and + - = . _ : / @
// only, no aws: prefix.
func validateTags(tags []tag, limit int) error {
	if len(tags) > limit {
		if limit == maxObjectTags {
			return apiError(codeInvalidTag, "Object tags cannot be greater than 10.")
		}
		return apiError(codeInvalidTag, "Bucket tags cannot be greater than 50.")
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > maxTagKeyLen || !validTagText(t.Key) {
			return apiError(codeInvalidTag, "The TagKey you have provided is invalid.")
		}
		if utf8.RuneCountInString(t.Value) > maxTagValueLen || !validTagText(t.Value) {
			return apiError(codeInvalidTag, "The TagValue you have provided is invalid.")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return apiError(codeInvalidTag, "System tags cannot be added/updated by requester.")
		}
		if seen[t.Key] {
			return apiError(codeInvalidTag, "Cannot provide multiple Tags with the same key.")
		}
		seen[t.Key] = true
	}
	return nil
}

func validTagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsMark(r) || unicode.IsNumber(r) {
			continue
		}
		switch r {
		case '+', '-', '=', '.', '_', ':', '/', '@':
			continue
		}
		return false
	}
	return true
}

// encodeTags is the stored form of a tag set.
func encodeTags(tags []tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(t.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(t.Value))
	}
	return b.String()
}

// decodeTags parses the url-encoded form (stored tags, the x-amz-tagging header).
func decodeTags(s string) ([]tag, error) {
	var tags []tag
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		tags = append(tags, tag{Key: key, Value: value})
	}
	return tags, nil
}

// countTags is the number of tags in a stored tag set.
func countTags(s string) int {
	n := 0
	for _, kv := range strings.Split(s, "&") {
		if kv != "" {
			n++
		}
	}
	return n
}

// parseTagHeader validates x-amz-tagging and returns the stored form.
func parseTagHeader(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	tags, err := decodeTags(v)
	if err != nil {
		return "", apiError(codeInvalidArgument, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	if err := validateTags(tags, maxObjectTags); err != nil {
		return "", err
	}
	return encodeTags(tags), nil
}

func (s *server) getObjectTagging(w http.ResponseWriter, rq *request) error {
	versionID := rq.query.Get("versionId")
	info, err := s.objects.StatObject(rq.r.Context(), rq.bucket, rq.key, objects.GetOptions{VersionID: versionID})
	if err != nil {
		return deleteMarkerError(err, versionID)
	}
	tags, err := decodeTags(info.Tags)
	if err != nil {
		return err // stored tags are written by us; a decode failure is an internal error
	}
	setVersionHeader(w.Header(), info.VersionID)
	return writeXML(w, http.StatusOK, taggingResponse{TagSet: tagSet{Tags: tags}})
}

func (s *server) putObjectTagging(w http.ResponseWriter, rq *request) error {
	b, err := readBody(rq, maxTaggingBytes)
	if err != nil {
		return err
	}
	tags, err := parseTaggingXML(b, maxObjectTags)
	if err != nil {
		return err
	}
	return s.setObjectTags(w, rq, encodeTags(tags), http.StatusOK)
}

func (s *server) deleteObjectTagging(w http.ResponseWriter, rq *request) error {
	return s.setObjectTags(w, rq, "", http.StatusNoContent)
}

func (s *server) setObjectTags(w http.ResponseWriter, rq *request, tags string, status int) error {
	versionID := rq.query.Get("versionId")
	info, err := s.objects.PutObjectTags(rq.r.Context(), rq.bucket, rq.key, versionID, tags)
	if err != nil {
		return deleteMarkerError(err, versionID)
	}
	setVersionHeader(w.Header(), info.VersionID)
	w.WriteHeader(status)
	return nil
}

func (s *server) getBucketTagging(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	if cfg.Tagging == "" {
		return apiError(codeNoSuchTagSet, "")
	}
	tags, err := decodeTags(cfg.Tagging)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, taggingResponse{TagSet: tagSet{Tags: tags}})
}

func (s *server) putBucketTagging(w http.ResponseWriter, rq *request) error {
	b, err := readBody(rq, maxTaggingBytes)
	if err != nil {
		return err
	}
	tags, err := parseTaggingXML(b, maxBucketTags)
	if err != nil {
		return err
	}
	return s.setBucketTags(w, rq, encodeTags(tags))
}

func (s *server) deleteBucketTagging(w http.ResponseWriter, rq *request) error {
	return s.setBucketTags(w, rq, "")
}

func (s *server) setBucketTags(w http.ResponseWriter, rq *request, tags string) error {
	err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.Tagging = tags
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
