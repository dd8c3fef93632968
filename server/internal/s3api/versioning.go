package s3api

import (
	"encoding/xml"
	"net/http"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// PutBucketVersioning and GetBucketVersioning.

// versioningRequest is the body of PutBucketVersioning.
type versioningRequest struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    string   `xml:"Status"`
	MfaDelete string   `xml:"MfaDelete"`
}

type versioningResponse struct {
	XMLName   xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ VersioningConfiguration"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

// parseVersioningXML decodes a VersioningConfiguration: Status must be Enabled or
// Suspended (anything else, or none, is MalformedXML); MFA delete is not supported.
func parseVersioningXML(b []byte) (objects.Versioning, error) {
	var req versioningRequest
	if err := unmarshalXML(b, &req); err != nil {
		return "", err
	}
	switch req.MfaDelete {
	case "", "Disabled":
	case "Enabled":
		return "", apiError(codeNotImplemented, "MFA delete is not implemented.")
	default:
		return "", apiError(codeMalformedXML, "")
	}
	switch v := objects.Versioning(req.Status); v {
	case objects.VersioningEnabled, objects.VersioningSuspended:
		return v, nil
	}
	return "", apiError(codeMalformedXML, "")
}

func (s *server) putBucketVersioning(w http.ResponseWriter, rq *request) error {
	b, err := readBody(rq, maxXMLBody)
	if err != nil {
		return err
	}
	state, err := parseVersioningXML(b)
	if err != nil {
		return err
	}
	err = s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		if c.ObjectLock && state == objects.VersioningSuspended {
			return apiError(codeInvalidBucketState, "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		c.Versioning = state
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getBucketVersioning returns the state; a never-versioned bucket has no Status.
func (s *server) getBucketVersioning(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, versioningResponse{Status: string(cfg.Versioning)})
}
