package tier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// azureTier stores data as block blobs in an Azure Blob Storage container,
// authenticated with the account's shared key or, without one, a managed
// identity. Uploads stream in blocks of azureBlock bytes, one at a time.
type azureTier struct {
	cfg    Config
	client *azblob.Client
	block  int64
}

var _ Tier = (*azureTier)(nil)

const azureBlock = 4 << 20

func newAzure(cfg Config) (*azureTier, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://" + cfg.Credentials.AccountName + ".blob.core.windows.net/"
	}
	opts := &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second, TryTimeout: time.Minute},
	}}
	var client *azblob.Client
	var err error
	if key := cfg.Credentials.AccountKey; key != "" {
		var cred *azblob.SharedKeyCredential
		cred, err = azblob.NewSharedKeyCredential(cfg.Credentials.AccountName, key)
		if err == nil {
			client, err = azblob.NewClientWithSharedKeyCredential(endpoint, cred, opts)
		}
	} else {
		var cred *azidentity.ManagedIdentityCredential
		cred, err = azidentity.NewManagedIdentityCredential(nil)
		if err == nil {
			client, err = azblob.NewClient(endpoint, cred, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tier %s (azure): %w", cfg.Name, err)
	}
	return &azureTier{cfg: cfg, client: client, block: azureBlock}, nil
}

func (t *azureTier) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	cr := &countingReader{r: io.LimitReader(r, size)}
	_, err := t.client.UploadStream(ctx, t.cfg.Bucket, t.cfg.objectKey(key), cr,
		&azblob.UploadStreamOptions{BlockSize: t.block, Concurrency: 1})
	if err == nil && cr.n != size {
		// The blob is committed by now: take it back rather than keep a short copy.
		t.client.DeleteBlob(context.WithoutCancel(ctx), t.cfg.Bucket, t.cfg.objectKey(key), nil)
		return wrapOp(&t.cfg, "put", key, fmt.Errorf("tier: body ended after %d of %d bytes", cr.n, size))
	}
	return t.err("put", key, err)
}

func (t *azureTier) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if length == 0 {
		_, err := t.client.ServiceClient().NewContainerClient(t.cfg.Bucket).NewBlobClient(t.cfg.objectKey(key)).GetProperties(ctx, nil)
		return io.NopCloser(eofReader{}), t.err("get", key, err)
	}
	var rng azblob.HTTPRange
	rng.Offset = offset
	if length > 0 {
		rng.Count = length
	}
	res, err := t.client.DownloadStream(ctx, t.cfg.Bucket, t.cfg.objectKey(key), &azblob.DownloadStreamOptions{Range: rng})
	if err != nil {
		return nil, t.err("get", key, err)
	}
	return res.Body, nil
}

func (t *azureTier) Delete(ctx context.Context, key string) error {
	_, err := t.client.DeleteBlob(ctx, t.cfg.Bucket, t.cfg.objectKey(key), nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil
	}
	return t.err("delete", key, err)
}

func (t *azureTier) err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &re) && re.StatusCode == 404 && op == "get" && re.ErrorCode == "":
		err = fmt.Errorf("%w: %w", ErrNotFound, err) // HEAD answers carry no error code
	case errors.As(err, &re) && statusUnavailable(re.StatusCode):
		err = markUnavailable(err)
	case networkFailure(err):
		err = markUnavailable(err)
	}
	return wrapOp(&t.cfg, op, key, err)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
