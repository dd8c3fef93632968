package s3api

import (
	"net/http"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// PutObject.

// putObject streams the body to the object layer. The body is sigv4's decoded
// payload, wrapped in a checksum reader when the request carries a checksum; the
// object layer checks Content-MD5 and the declared size.
func (s *server) putObject(w http.ResponseWriter, rq *request) error {
	h := rq.r.Header
	if err := rejectUnsupportedHeaders(h); err != nil {
		return err
	}
	size, err := uploadSize(rq)
	if err != nil {
		return err
	}
	md5sum, err := contentMD5(h)
	if err != nil {
		return err
	}
	meta, err := objectMeta(h)
	if err != nil {
		return err
	}
	tags, err := parseTagHeader(h.Get("X-Amz-Tagging"))
	if err != nil {
		return err
	}
	cond := writeConditions(h)
	enc, err := s.writeEncryption(rq.r.Context(), rq, rq.bucket, rq.key)
	if err != nil {
		return err
	}
	body, sum, err := checksumBody(rq, rq.body)
	if err != nil {
		return err
	}
	opts := objects.PutOptions{
		Size:       size,
		Meta:       meta,
		Tags:       tags,
		ContentMD5: md5sum,
		Checksum:   sum,
		Conditions: cond,
	}
	if enc != nil {
		var done func()
		if body, done, err = enc.sealPut(body, &opts); err != nil {
			return err
		}
		defer done()
	}
	info, err := s.objects.PutObject(rq.r.Context(), rq.bucket, rq.key, body, opts)
	if err != nil {
		return err
	}
	out := w.Header()
	out.Set("ETag", quoteETag(info.ETag))
	setVersionHeader(out, info.VersionID)
	enc.setHeaders(out)
	if sum != nil && sum.Value != "" {
		out.Set(checksumHeader(sum.Algorithm), sum.Value)
		out.Set("X-Amz-Checksum-Type", checksumFullObject)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// writeConditions reads If-None-Match / If-Match of a conditional write. Besides
// S3's If-None-Match: * (create only), If-None-Match also takes entity tags, as
// MinIO and HTTP allow: the write fails if the current version has one of them.
// The object layer gets each list as bare, comma-separated entity tags.
func writeConditions(h http.Header) objects.Conditions {
	return objects.Conditions{IfNoneMatch: etagList(h.Get("If-None-Match")), IfMatch: etagList(h.Get("If-Match"))}
}

// etagList normalises an entity-tag list (`"a", W/"b"`, `*`) to `a,b` or `*`.
func etagList(v string) string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		if t = trimETag(t); t != "" {
			if t == "*" {
				return "*"
			}
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

// rejectUnsupportedHeaders refuses writes that ask for features Cairn does not
// have yet, rather than silently storing the object without them: object lock
// retention. (Encryption headers are writeEncryption's, in sse.go.)
func rejectUnsupportedHeaders(h http.Header) error {
	for name := range h {
		switch {
		case strings.HasPrefix(name, "X-Amz-Object-Lock-"):
			return apiError(codeNotImplemented, "Object lock retention and legal hold are not implemented.")
		}
	}
	return nil
}

// setVersionHeader sets x-amz-version-id unless the bucket was never versioned
// (the object layer then reports an empty version id).
func setVersionHeader(h http.Header, versionID string) {
	if versionID != "" {
		h.Set("X-Amz-Version-Id", versionID)
	}
}
