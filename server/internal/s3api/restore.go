package s3api

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// RestoreObject, and the x-amz-restore header of GET and HEAD.
//
// Cairn's tiers are online stores: a GET of a transitioned object streams its
// data from the tier (applications never notice a transition), where S3 would
// answer InvalidObjectState for its archive classes. RestoreObject still works
// as in S3, to bring a copy back onto the drives for Days days (reads are then
// served locally, and survive the tier being down); it completes before the
// response, so the restore is never "ongoing".

// restoreRequest is the body of RestoreObject.
type restoreRequest struct {
	XMLName xml.Name `xml:"RestoreRequest"`
	Days    *int     `xml:"Days"`
	Type    string   `xml:"Type"`
	Glacier *struct {
		Tier string `xml:"Tier"`
	} `xml:"GlacierJobParameters"`
}

// maxRestoreDays bounds RestoreRequest Days (S3 allows up to 30000).
const maxRestoreDays = 30000

func (s *server) restoreObject(w http.ResponseWriter, rq *request) error {
	body, err := readBody(rq, maxXMLBody)
	if err != nil {
		return err
	}
	var req restoreRequest
	if err := unmarshalXML(body, &req); err != nil {
		return err
	}
	if req.Type != "" {
		return apiError(codeNotImplemented, "Restore requests of type "+req.Type+" are not implemented.")
	}
	if req.Glacier != nil {
		switch req.Glacier.Tier {
		case "", "Standard", "Bulk", "Expedited": // all the same here: the copy is made now
		default:
			return apiError(codeMalformedXML, "")
		}
	}
	if req.Days == nil || *req.Days < 1 || *req.Days > maxRestoreDays {
		return apiError(codeInvalidArgument, "Days must be a number of days from 1 to 30000.")
	}
	res, err := s.objects.RestoreObject(rq.r.Context(), rq.bucket, rq.key,
		objects.RestoreOptions{VersionID: rq.query.Get("versionId"), Days: *req.Days})
	if err != nil {
		return deleteMarkerError(err, rq.query.Get("versionId"))
	}
	status := http.StatusAccepted // a new restored copy
	if res.AlreadyRestored {
		status = http.StatusOK // S3: the copy existed, its expiry was updated
	}
	w.WriteHeader(status)
	return nil
}

// restoreHeader is x-amz-restore for a transitioned version with a restored
// copy, "" otherwise.
func restoreHeader(info objects.ObjectInfo) string {
	t := info.Transition
	if t == nil || t.RestoreExpiry.IsZero() {
		return ""
	}
	return `ongoing-request="false", expiry-date="` + httpTime(t.RestoreExpiry) + `"`
}

// preparer is implemented by objects whose data may be remote (objects.Object
// of a transitioned version): Prepare reaches the data before a response
// commits to a status.
type preparer interface {
	Prepare(ctx context.Context, offset, length int64) error
}
