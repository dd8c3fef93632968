package tier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// gcsTier stores data in a Google Cloud Storage bucket. Small objects go up in
// one streamed request; larger ones as a resumable upload in bounded chunks.
type gcsTier struct {
	cfg    Config
	client *storage.Client
	bucket *storage.BucketHandle
	chunk  int64 // uploads larger than this are resumable, in chunks of it
}

var _ Tier = (*gcsTier)(nil)

// gcsChunked is the size above which uploads are resumable, in chunks of that size.
const gcsChunked = 16 << 20

func newGCS(ctx context.Context, cfg Config) (*gcsTier, error) {
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		// An emulator or private endpoint: the JSON API lives under /storage/v1/.
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(cfg.Endpoint, "/")+"/storage/v1/"), storage.WithJSONReads())
	}
	switch {
	case cfg.Credentials.ServiceAccountJSON != "":
		opts = append(opts, option.WithCredentialsJSON([]byte(cfg.Credentials.ServiceAccountJSON)))
	case cfg.Endpoint != "":
		opts = append(opts, option.WithoutAuthentication())
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tier %s (gcs): %w", cfg.Name, err)
	}
	// Retry briefly, then report the tier unavailable rather than retry forever.
	client.SetRetry(storage.WithMaxAttempts(3), storage.WithBackoff(gax.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}))
	return &gcsTier{cfg: cfg, client: client, bucket: client.Bucket(cfg.Bucket), chunk: gcsChunked}, nil
}

func (t *gcsTier) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := t.bucket.Object(t.cfg.objectKey(key)).NewWriter(ctx)
	w.ChunkSize = 0 // one streamed request
	if size > t.chunk {
		w.ChunkSize = int(t.chunk)
		w.ChunkRetryDeadline = 10 * time.Second // then ErrUnavailable; the caller retries
	}
	n, err := io.Copy(w, io.LimitReader(r, size))
	if err == nil && n != size {
		err = fmt.Errorf("tier: body ended after %d of %d bytes", n, size)
	}
	if err != nil {
		cancel() // abandons the upload: nothing is committed
		w.Close()
		return t.err("put", key, err)
	}
	return t.err("put", key, w.Close())
}

func (t *gcsTier) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if length < 0 {
		length = -1
	}
	rd, err := t.bucket.Object(t.cfg.objectKey(key)).NewRangeReader(ctx, offset, length)
	if err != nil {
		return nil, t.err("get", key, err)
	}
	return rd, nil
}

func (t *gcsTier) Delete(ctx context.Context, key string) error {
	err := t.bucket.Object(t.cfg.objectKey(key)).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil
	}
	return t.err("delete", key, err)
}

func (t *gcsTier) err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var ge *googleapi.Error
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &ge) && statusUnavailable(ge.Code):
		err = markUnavailable(err)
	case networkFailure(err):
		err = markUnavailable(err)
	}
	return wrapOp(&t.cfg, op, key, err)
}
