package s3api

import (
	"errors"
	"net/http"

	"github.com/cairn-io/cairn/server/internal/lifecycle"
	"github.com/cairn-io/cairn/server/internal/objects"
)

// PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration,
// DeleteBucketLifecycle, and the x-amz-expiration header of GET and HEAD.
// Parsing, validation and rule evaluation are package lifecycle's; the
// configuration is stored as its canonical XML in objects.BucketConfig.Lifecycle.

// lifecycleError turns a *lifecycle.Error into the S3 error it names.
func lifecycleError(err error) error {
	var le *lifecycle.Error
	if errors.As(err, &le) {
		return apiError(le.Code, le.Message)
	}
	return err
}

func (s *server) putBucketLifecycle(w http.ResponseWriter, rq *request) error {
	body, err := readBody(rq, maxXMLBody)
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	var opts lifecycle.Options
	if s.cfg.TierExists != nil {
		opts.Tier = func(name string) bool { return s.cfg.TierExists(ctx, name) }
	}
	cfg, err := lifecycle.Parse(body, opts)
	if err != nil {
		return lifecycleError(err)
	}
	cfg.SetMissingIDs()
	doc := string(cfg.Encode())
	if err := s.objects.UpdateBucketConfig(ctx, rq.bucket, func(c *objects.BucketConfig) error {
		c.Lifecycle = doc
		return nil
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) getBucketLifecycle(w http.ResponseWriter, rq *request) error {
	bc, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	if bc.Lifecycle == "" {
		return apiError(codeNoSuchLifecycle, "")
	}
	cfg, err := lifecycle.Parse([]byte(bc.Lifecycle), lifecycle.Options{})
	if err != nil {
		return err // stored by this package: a parse failure is a server fault
	}
	return writeXML(w, http.StatusOK, cfg)
}

func (s *server) deleteBucketLifecycle(w http.ResponseWriter, rq *request) error {
	if err := s.objects.UpdateBucketConfig(rq.r.Context(), rq.bucket, func(c *objects.BucketConfig) error {
		c.Lifecycle = ""
		return nil
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setExpiration sets x-amz-expiration on a GET or HEAD of the current version
// of an object a lifecycle rule will expire. It never fails the request.
func (s *server) setExpiration(rq *request, h http.Header, info objects.ObjectInfo) {
	if !info.IsLatest || info.DeleteMarker {
		return
	}
	bc, err := s.objects.BucketConfig(rq.r.Context(), rq.bucket)
	if err != nil || bc.Lifecycle == "" {
		return
	}
	cfg, err := lifecycle.Parse([]byte(bc.Lifecycle), lifecycle.Options{})
	if err != nil {
		return
	}
	if v := cfg.ExpirationHeader(info); v != "" {
		h.Set("X-Amz-Expiration", v)
	}
}
