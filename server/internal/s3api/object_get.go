package s3api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// GetObject and HeadObject.

func (s *server) getObject(w http.ResponseWriter, rq *request) error {
	return s.serveObject(w, rq, true)
}

func (s *server) headObject(w http.ResponseWriter, rq *request) error {
	return s.serveObject(w, rq, false)
}

// serveObject answers GET (withBody) and HEAD of an object: version selection,
// preconditions, Range or partNumber, header overrides, then the bytes straight
// from the object layer into the response.
func (s *server) serveObject(w http.ResponseWriter, rq *request, withBody bool) error {
	ctx := rq.r.Context()
	versionID := rq.query.Get("versionId")
	overrides, err := responseOverrides(rq)
	if err != nil {
		return err
	}
	partNumber := 0
	if v := rq.query.Get("partNumber"); v != "" {
		if partNumber, err = parsePartNumber(v); err != nil {
			return err
		}
		if rq.r.Header.Get("Range") != "" {
			return apiError(codeInvalidRequest, "Cannot specify both Range header and partNumber query parameter.")
		}
	}

	opts := objects.GetOptions{VersionID: versionID}
	if withBody {
		obj, err := s.objects.OpenObject(ctx, rq.bucket, rq.key, opts)
		if err != nil {
			return deleteMarkerError(err, versionID)
		}
		defer obj.Close()
		return s.writeObject(w, rq, obj.Info(), obj, partNumber, overrides)
	}
	info, err := s.objects.StatObject(ctx, rq.bucket, rq.key, opts)
	if err != nil {
		return deleteMarkerError(err, versionID)
	}
	return s.writeObject(w, rq, info, nil, partNumber, overrides)
}

// writeObject writes the response for info; obj is nil for HEAD.
func (s *server) writeObject(w http.ResponseWriter, rq *request, info objects.ObjectInfo, obj objects.Object, partNumber int, overrides map[string]string) error {
	if info.DeleteMarker { // the object layer should have said ErrDeleteMarker; be safe
		return deleteMarkerError(&objects.MarkerError{Info: info}, rq.query.Get("versionId"))
	}
	dec, err := s.readEncryption(rq.r.Context(), rq, info, false, obj != nil)
	if err != nil {
		return err
	}
	if dec != nil {
		info = dec.plain(info)
	}
	switch readPreconditions(rq.r.Header).evaluate(info.ETag, info.ModTime) {
	case condFailed:
		return apiError(codePreconditionFailed, "")
	case condNotModified:
		h := w.Header()
		h.Set("ETag", quoteETag(info.ETag))
		h.Set("Last-Modified", httpTime(info.ModTime))
		setVersionHeader(h, info.VersionID)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}

	rng := byteRange{start: 0, length: info.Size}
	status := http.StatusOK
	var part *objects.PartInfo // the part addressed by partNumber, nil for the whole object
	if partNumber > 0 {
		p, r, err := partRange(info, partNumber)
		if err != nil {
			return err
		}
		if p != nil {
			part, rng, status = p, r, http.StatusPartialContent
		}
	} else if hdr := rq.r.Header.Get("Range"); hdr != "" {
		r, res := parseRange(hdr, info.Size)
		switch res {
		case rangeUnsatisfiable:
			return withHeaders(apiError(codeInvalidRange, ""), "Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		case rangePartial:
			rng, status = r, http.StatusPartialContent
		}
	}

	h := w.Header()
	setObjectHeaders(h, info)
	s.setExpiration(rq, h, info)
	dec.setHeaders(h)
	checksums := strings.EqualFold(rq.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED")
	switch {
	case part != nil:
		h.Set("Content-Range", rng.contentRange(info.Size))
		if checksums {
			// The part's own checksum: it is what a client can verify the bytes with.
			setChecksumHeaders(h, part.Checksums, "")
		}
	case status == http.StatusPartialContent:
		h.Set("Content-Range", rng.contentRange(info.Size))
	case checksums:
		setChecksumHeaders(h, info.Checksums, info.ChecksumType)
	}
	for k, v := range overrides {
		h.Set(k, v)
	}
	h.Set("Content-Length", strconv.FormatInt(rng.length, 10))
	if p, ok := obj.(preparer); ok && rng.length > 0 {
		// A transitioned version: reach its tier before committing to a status,
		// so an unreachable tier is a clean 503. Plaintext: open exactly the
		// range served; encrypted: check the remote copy (sse reads the
		// ranges it needs).
		start, length := rng.start, rng.length
		if dec != nil {
			start, length = 0, 0
		}
		if err := p.Prepare(rq.r.Context(), start, length); err != nil {
			return err
		}
	}
	w.WriteHeader(status)
	if obj == nil || rng.length == 0 {
		return nil
	}
	if dec != nil {
		return dec.writeRange(rq.r.Context(), obj, w, rng)
	}
	return obj.WriteRange(rq.r.Context(), w, rng.start, rng.length)
}

// partRange finds part n of an object: its description and byte range. Parts
// keep the numbers they were uploaded with, so an object completed from parts 1, 3
// and 7 has a part 3 and no part 2. An object that was not uploaded in parts is
// its own part 1 (nil part, whole range).
func partRange(info objects.ObjectInfo, n int) (*objects.PartInfo, byteRange, error) {
	whole := byteRange{start: 0, length: info.Size}
	if info.PartCount == 0 {
		if n == 1 {
			return nil, whole, nil
		}
		return nil, whole, apiError(codeInvalidPartNumber, "")
	}
	if len(info.Parts) != info.PartCount {
		return nil, whole, fmt.Errorf("s3api: %s/%s has %d parts but lists %d", info.Bucket, info.Key, info.PartCount, len(info.Parts))
	}
	var off int64
	for i := range info.Parts {
		p := &info.Parts[i]
		if p.Number == n {
			return p, byteRange{start: off, length: p.Size}, nil
		}
		off += p.Size
	}
	return nil, whole, apiError(codeInvalidPartNumber, "")
}

// setObjectHeaders sets the headers GET and HEAD share: validators, stored
// metadata, tag and part counts, version id. User metadata names go out in lower
// case, as S3 sends them (clients strip the x-amz-meta- prefix case-sensitively:
// boto3 would otherwise show "Color" for a key stored as "color").
func setObjectHeaders(h http.Header, info objects.ObjectInfo) {
	h.Set("Last-Modified", httpTime(info.ModTime))
	h.Set("ETag", quoteETag(info.ETag))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "binary/octet-stream")
	for k, v := range info.Meta {
		k = http.CanonicalHeaderKey(k)
		switch {
		case strings.HasPrefix(k, "X-Amz-Meta-"):
			h[strings.ToLower(k)] = []string{v} // non-canonical on purpose
		case isStoredHeader(k):
			h.Set(k, v)
		}
	}
	if n := countTags(info.Tags); n > 0 {
		h.Set("X-Amz-Tagging-Count", strconv.Itoa(n))
	}
	if v := restoreHeader(info); v != "" {
		h.Set("X-Amz-Restore", v)
	}
	if info.PartCount > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(info.PartCount))
	}
	setVersionHeader(h, info.VersionID)
}

// setChecksumHeaders returns stored checksums (x-amz-checksum-mode: ENABLED) and,
// when typ is set, their type.
func setChecksumHeaders(h http.Header, sums map[string]string, typ string) {
	n := 0
	for _, alg := range checksumAlgorithms() {
		if v := sums[alg]; v != "" {
			h.Set(checksumHeader(alg), v)
			n++
		}
	}
	if n > 0 && typ != "" {
		h.Set("X-Amz-Checksum-Type", typ)
	}
}

// deleteMarkerError turns objects.ErrDeleteMarker into S3's answer: 404 NoSuchKey
// with x-amz-delete-marker when the latest version is a delete marker, 405
// MethodNotAllowed when the request named the marker's version. The marker's
// version id and time come from the *objects.MarkerError when the layer sent one.
func deleteMarkerError(err error, versionID string) error {
	if !errors.Is(err, objects.ErrDeleteMarker) {
		return err
	}
	var info objects.ObjectInfo
	var me *objects.MarkerError
	if errors.As(err, &me) {
		info = me.Info
	}
	kv := []string{"X-Amz-Delete-Marker", "true"}
	if info.VersionID != "" {
		kv = append(kv, "X-Amz-Version-Id", info.VersionID)
	} else if versionID != "" {
		kv = append(kv, "X-Amz-Version-Id", versionID)
	}
	if !info.ModTime.IsZero() {
		kv = append(kv, "Last-Modified", httpTime(info.ModTime))
	}
	if versionID != "" {
		return withHeaders(apiError(codeMethodNotAllowed, ""), kv...)
	}
	return withHeaders(err, kv...)
}

// responseOverrides reads the response-* query parameters of a GET, which S3
// honours only on authenticated requests.
func responseOverrides(rq *request) (map[string]string, error) {
	var out map[string]string
	for _, p := range [...]struct{ param, header string }{
		{"response-content-type", "Content-Type"},
		{"response-content-language", "Content-Language"},
		{"response-expires", "Expires"},
		{"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"},
		{"response-content-encoding", "Content-Encoding"},
	} {
		v := rq.query.Get(p.param)
		if v == "" {
			continue
		}
		if rq.anonymous() {
			return nil, apiError(codeInvalidRequest, "Request specific response headers cannot be used for anonymous GET requests.")
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[p.header] = v
	}
	return out, nil
}
