package s3api

import (
	"net/http"
	"strconv"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// Get/Put/DeleteBucketEncryption: a bucket's default encryption, applied to
// writes that carry no encryption headers (see writeEncryption). The
// configuration is validated by sse.ParseBucketConfig and stored normalised in
// objects.BucketConfig.Encryption.

func noEncryptionConfig() *APIError {
	return &APIError{Code: "ServerSideEncryptionConfigurationNotFoundError", Status: http.StatusNotFound,
		Message: "The server side encryption configuration was not found."}
}

func (s *server) getBucketEncryption(w http.ResponseWriter, rq *request) error {
	cfg, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	if cfg.Encryption == "" {
		return noEncryptionConfig()
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(cfg.Encryption)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(cfg.Encryption))
	return nil
}

func (s *server) putBucketEncryption(w http.ResponseWriter, rq *request) error {
	if s.cfg.SSE == nil {
		return apiError(codeNotImplemented, "Server-side encryption is not configured on this server.")
	}
	body, err := readBodyMD5(rq, maxXMLBody)
	if err != nil {
		return err
	}
	bc, err := sse.ParseBucketConfig(body)
	if err != nil {
		return err
	}
	if s.cfg.SSE.KMS() == nil {
		return apiError(codeNotImplemented, "Default encryption needs a KMS, and none is configured.")
	}
	doc := string(bc.Marshal())
	err = s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.Encryption = doc
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) deleteBucketEncryption(w http.ResponseWriter, rq *request) error {
	err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.Encryption = ""
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
