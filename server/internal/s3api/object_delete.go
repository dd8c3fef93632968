package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// DeleteObject and DeleteObjects.

// deleteObject removes a version or writes a delete marker. Deleting a key or
// version that does not exist succeeds, as in S3.
func (s *server) deleteObject(w http.ResponseWriter, rq *request) error {
	opts := objects.DeleteOptions{VersionID: rq.query.Get("versionId")}
	if v := strings.TrimSpace(rq.r.Header.Get("If-Match")); v != "" {
		opts.Conditions.IfMatch = trimETag(v)
	}
	res, err := s.objects.DeleteObject(rq.r.Context(), rq.bucket, rq.key, opts)
	if err != nil && !deleteNotFound(err) {
		return err
	}
	h := w.Header()
	if res.DeleteMarker {
		h.Set("X-Amz-Delete-Marker", "true")
	}
	setVersionHeader(h, res.VersionID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteNotFound reports whether a delete failed only because there was nothing
// to delete, which S3 treats as success.
func deleteNotFound(err error) bool {
	return errors.Is(err, objects.ErrObjectNotFound) || errors.Is(err, objects.ErrVersionNotFound)
}

// deleteRequest is the body of DeleteObjects.
type deleteRequest struct {
	XMLName xml.Name         `xml:"Delete"`
	Quiet   bool             `xml:"Quiet"`
	Objects []deleteObjectID `xml:"Object"`
}

type deleteObjectID struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
	ETag      string `xml:"ETag"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedEntry  `xml:"Deleted"`
	Errors  []deleteErrItem `xml:"Error"`
}

type deletedEntry struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrItem struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

// parseDeleteRequest decodes and validates a DeleteObjects body: 1 to 1000 objects,
// each with a key.
func parseDeleteRequest(b []byte) (deleteRequest, error) {
	var req deleteRequest
	if err := unmarshalXML(b, &req); err != nil {
		return req, err
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteObjects {
		return req, apiError(codeMalformedXML, "The request must name between 1 and 1000 objects.")
	}
	for _, o := range req.Objects {
		if o.Key == "" {
			return req, apiError(codeMalformedXML, "")
		}
	}
	return req, nil
}

// deleteObjects deletes up to 1000 keys. S3 requires an integrity header on this
// request; Content-MD5 or any x-amz-checksum-* (header or trailer) is accepted,
// and verified by readBody. Per-key failures go into the result, not the status.
func (s *server) deleteObjects(w http.ResponseWriter, rq *request) error {
	h := rq.r.Header
	if h.Get("Content-Md5") == "" && !hasChecksumHeader(h) {
		return apiError(codeInvalidRequest, "Missing required header for this request: Content-MD5 or x-amz-checksum-*.")
	}
	b, err := readBody(rq, maxDeleteXMLBody)
	if err != nil {
		return err
	}
	req, err := parseDeleteRequest(b)
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	if _, err := s.objects.HeadBucket(ctx, rq.bucket); err != nil {
		return err
	}
	results := s.deleteMany(ctx, rq.bucket, req.Objects, s.deleteDenials(rq, req.Objects))
	res := deleteResult{}
	for i, o := range req.Objects {
		if err := results[i].err; err != nil {
			ae := errorResponse(err)
			if ae.Status >= 500 {
				s.log.Error("s3api: DeleteObjects: key failed", "request_id", rq.id, "bucket", rq.bucket, "key", o.Key, "err", err.Error())
			}
			res.Errors = append(res.Errors, deleteErrItem{Key: o.Key, VersionID: o.VersionID, Code: ae.Code, Message: ae.Message})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, results[i].deleted)
		}
	}
	return writeXML(w, http.StatusOK, res)
}

// deleteConcurrency bounds the deletes one DeleteObjects request runs at once.
const deleteConcurrency = 8

type deleteOutcome struct {
	deleted deletedEntry
	err     error
}

// deleteMany deletes the objects with up to deleteConcurrency deletes in flight
// and returns the outcomes in request order. A panic in one delete becomes that
// key's error (the handler's recovery does not reach other goroutines).
func (s *server) deleteMany(ctx context.Context, bucket string, objs []deleteObjectID, denied []error) []deleteOutcome {
	out := make([]deleteOutcome, len(objs))
	sem := make(chan struct{}, deleteConcurrency)
	var wg sync.WaitGroup
	for i, o := range objs {
		if denied != nil && denied[i] != nil {
			out[i].err = denied[i] // not authorized: reported, not attempted
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					out[i].err = fmt.Errorf("s3api: panic deleting %q: %v", o.Key, p)
				}
			}()
			out[i].deleted, out[i].err = s.deleteOne(ctx, bucket, o)
		}()
	}
	wg.Wait()
	return out
}

// deleteOne deletes one entry of a DeleteObjects request.
func (s *server) deleteOne(ctx context.Context, bucket string, o deleteObjectID) (deletedEntry, error) {
	if err := validateObjectKey(o.Key); err != nil {
		return deletedEntry{}, err
	}
	opts := objects.DeleteOptions{VersionID: o.VersionID}
	if o.ETag != "" {
		opts.Conditions.IfMatch = trimETag(o.ETag)
	}
	r, err := s.objects.DeleteObject(ctx, bucket, o.Key, opts)
	if err != nil && !deleteNotFound(err) {
		return deletedEntry{}, err
	}
	d := deletedEntry{Key: o.Key, VersionID: o.VersionID}
	if r.DeleteMarker {
		d.DeleteMarker = true
		d.DeleteMarkerVersionID = r.VersionID
	}
	return d, nil
}

// hasChecksumHeader reports whether the request carries an x-amz-checksum-* value
// or announces one in its trailer.
func hasChecksumHeader(h http.Header) bool {
	for _, alg := range checksumAlgorithms() {
		if h.Get(checksumHeader(alg)) != "" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(h.Get("X-Amz-Trailer")), "x-amz-checksum-")
}
