package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// CopyObject, and the copy-source handling UploadPartCopy shares.

// copySource is a parsed x-amz-copy-source.
type copySource struct {
	bucket, key, versionID string
}

// parseCopySource parses x-amz-copy-source: "[/]bucket/url-encoded-key[?versionId=id]".
func parseCopySource(v string) (copySource, error) {
	var src copySource
	path, query, _ := strings.Cut(v, "?")
	path, err := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if err != nil {
		return src, apiError(codeInvalidArgument, "Invalid copy source encoding.")
	}
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || key == "" {
		return src, apiError(codeInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	if err := validateBucketName(bucket); err != nil {
		return src, err
	}
	if err := validateObjectKey(key); err != nil {
		return src, err
	}
	src.bucket, src.key = bucket, key
	if query != "" {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return src, apiError(codeInvalidArgument, "Invalid copy source encoding.")
		}
		if vals.Has("versionId") {
			if src.versionID = vals.Get("versionId"); src.versionID == "" {
				return src, apiError(codeInvalidArgument, "Invalid version id specified.")
			}
		}
	}
	return src, nil
}

// openCopySource opens the source of a copy and checks the
// x-amz-copy-source-if-* preconditions. The caller owns the returned Object.
func (s *server) openCopySource(ctx context.Context, rq *request, src copySource) (objects.Object, objects.ObjectInfo, error) {
	if rq.anonymous() && !s.anonymousAllowed(src.bucket) {
		return nil, objects.ObjectInfo{}, apiError(codeAccessDenied, "")
	}
	obj, err := s.objects.OpenObject(ctx, src.bucket, src.key, objects.GetOptions{VersionID: src.versionID})
	if err != nil {
		if errors.Is(err, objects.ErrDeleteMarker) && src.versionID != "" {
			return nil, objects.ObjectInfo{}, apiError(codeInvalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return nil, objects.ObjectInfo{}, err
	}
	info := obj.Info()
	if copySourcePreconditions(rq.r.Header).evaluate(info.ETag, info.ModTime) != condPass {
		obj.Close()
		return nil, objects.ObjectInfo{}, apiError(codePreconditionFailed, "")
	}
	return obj, info, nil
}

// errCopyAborted stops a copy's source writer when the destination gave up.
var errCopyAborted = errors.New("s3api: copy destination stopped reading")

// streamFrom returns a reader of bytes rng of obj, and takes ownership of obj. A
// goroutine writes the range into a pipe and closes obj as soon as the range is
// written — before the reader reports EOF — so a destination that locks its key
// at commit never waits on the source's read lock (a copy of an object onto
// itself). The returned stop function must be called once the reader is no longer
// used; it unblocks and waits for the goroutine.
func streamFrom(ctx context.Context, obj objects.Object, rng byteRange) (io.Reader, func()) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := obj.WriteRange(ctx, pw, rng.start, rng.length)
		obj.Close() // release the source before the destination can see EOF
		pw.CloseWithError(err)
	}()
	return pr, func() {
		pr.CloseWithError(errCopyAborted)
		<-done
	}
}

// directive reads x-amz-metadata-directive / x-amz-tagging-directive.
func directive(h http.Header, name string) (replace bool, err error) {
	switch v := h.Get(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	}
	return false, apiError(codeInvalidArgument, "Unknown "+strings.ToLower(name)+" value.")
}

type copyObjectResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
	ChecksumType string   `xml:"ChecksumType,omitempty"`
	checksumXML
}

// copyChecksumAlgorithm picks the checksum to compute while copying: the one the
// request names (x-amz-checksum-algorithm), else the source's algorithm, so the
// copy keeps a checksum of the same kind. The copy is a single object, so its
// checksum is always FULL_OBJECT, even when the source's was COMPOSITE.
func copyChecksumAlgorithm(h http.Header, src objects.ObjectInfo) (string, error) {
	if v := h.Get("X-Amz-Checksum-Algorithm"); v != "" {
		return parseAlgorithm(v)
	}
	for _, alg := range checksumAlgorithms() {
		if src.Checksums[alg] != "" {
			return alg, nil
		}
	}
	return "", nil
}

// copyObject copies an object (up to 5 GiB) by streaming it from the source
// through the object layer's PutObject.
func (s *server) copyObject(w http.ResponseWriter, rq *request) error {
	h := rq.r.Header
	if err := rejectUnsupportedHeaders(h); err != nil {
		return err
	}
	src, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	replaceMeta, err := directive(h, "X-Amz-Metadata-Directive")
	if err != nil {
		return err
	}
	replaceTags, err := directive(h, "X-Amz-Tagging-Directive")
	if err != nil {
		return err
	}
	var meta map[string]string
	if replaceMeta {
		if meta, err = objectMeta(h); err != nil {
			return err
		}
	}
	// The copy's storage class is the request's (STANDARD when absent), as in S3,
	// whatever the directive.
	class, err := parseStorageClass(h)
	if err != nil {
		return err
	}
	var tags string
	if replaceTags {
		if tags, err = parseTagHeader(h.Get("X-Amz-Tagging")); err != nil {
			return err
		}
	}
	cond := writeConditions(h)

	ctx := rq.r.Context()
	obj, info, err := s.openCopySource(ctx, rq, src)
	if err != nil {
		return err
	}
	srcDec, err := s.readEncryption(ctx, rq, info, true, true)
	if err != nil {
		obj.Close()
		return err
	}
	self := src.bucket == rq.bucket && src.key == rq.key && (src.versionID == "" || info.IsLatest)
	if self && !replaceMeta && class == "" && !sse.HasHeaders(h) {
		obj.Close()
		return apiError(codeInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if info.Size > maxPutSize {
		obj.Close()
		return apiError(codeInvalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120.")
	}
	alg, err := copyChecksumAlgorithm(h, info)
	if err != nil {
		obj.Close()
		return err
	}
	if !replaceMeta {
		meta = maps.Clone(info.Meta)
		if meta == nil {
			meta = make(map[string]string)
		}
		delete(meta, storageClassHeader)
		if class != "" {
			meta[storageClassHeader] = class
		}
	}
	if !replaceTags {
		tags = info.Tags
	}

	enc, err := s.writeEncryption(ctx, rq, rq.bucket, rq.key)
	if err != nil {
		obj.Close()
		return err
	}
	body, stop := sourceStream(ctx, obj, srcDec, byteRange{start: 0, length: info.Size})
	defer stop()
	var sum *objects.Checksum
	if alg != "" {
		sum = &objects.Checksum{Algorithm: alg}
		body = newChecksumReader(body, alg, nil, sum)
	}
	opts := objects.PutOptions{
		Size:       info.Size,
		Meta:       meta,
		Tags:       tags,
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
	dst, err := s.objects.PutObject(ctx, rq.bucket, rq.key, body, opts)
	if err != nil {
		return err
	}
	out := w.Header()
	setVersionHeader(out, dst.VersionID)
	enc.setHeaders(out)
	if info.VersionID != "" {
		out.Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	res := copyObjectResult{ETag: quoteETag(dst.ETag), LastModified: s3Time(dst.ModTime)}
	if sum != nil {
		res.ChecksumType = checksumFullObject
		res.checksumXML = checksumXMLOf(map[string]string{sum.Algorithm: sum.Value})
	}
	return writeXML(w, http.StatusOK, res)
}
