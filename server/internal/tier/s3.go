package tier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Tier stores data in an S3 bucket (AWS or any S3-compatible endpoint, another
// Cairn included). Bodies stream: the payload is sent UNSIGNED-PAYLOAD with its
// length, so nothing is buffered or read twice; objects larger than partSize
// go up as a multipart upload, one part at a time.
type s3Tier struct {
	cfg      Config
	client   *s3.Client
	partSize int64
}

var _ Tier = (*s3Tier)(nil)

// defaultPartSize is the multipart threshold and part size of S3 tiers.
const defaultPartSize = 64 << 20

func newS3(cfg Config) (*s3Tier, error) {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := s3.Options{
		Region:       region,
		UsePathStyle: cfg.Endpoint != "",
		HTTPClient:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.MaxBackoff = 2 * time.Second
		}),
		// The body is streamed once: no checksum pass over it before sending.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cr := cfg.Credentials; cr.AccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cr.AccessKey, cr.SecretKey, "")
	}
	return &s3Tier{cfg: cfg, client: s3.New(opts), partSize: defaultPartSize}, nil
}

// streamed configures a call whose body streams once: it is sent without
// hashing it first, and not retried (the body cannot be rewound; the caller
// retries the whole Put).
func streamed(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	o.RetryMaxAttempts = 1
}

func (t *s3Tier) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	k := t.cfg.objectKey(key)
	if size > t.partSize {
		return t.err("put", key, t.putMultipart(ctx, k, r, size))
	}
	_, err := t.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &t.cfg.Bucket, Key: &k, Body: io.LimitReader(r, size), ContentLength: aws.Int64(size),
	}, streamed)
	return t.err("put", key, err)
}

func (t *s3Tier) putMultipart(ctx context.Context, k string, r io.Reader, size int64) error {
	up, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &t.cfg.Bucket, Key: &k})
	if err != nil {
		return err
	}
	abort := func(cause error) error {
		t.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &t.cfg.Bucket, Key: &k, UploadId: up.UploadId})
		return cause
	}
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n++ {
		partLen := min(t.partSize, size-off)
		res, err := t.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &t.cfg.Bucket, Key: &k, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: io.LimitReader(r, partLen), ContentLength: aws.Int64(partLen),
		}, streamed)
		if err != nil {
			return abort(err)
		}
		parts = append(parts, types.CompletedPart{ETag: res.ETag, PartNumber: aws.Int32(n)})
		off += partLen
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &t.cfg.Bucket, Key: &k, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return abort(err)
	}
	return nil
}

func (t *s3Tier) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	k := t.cfg.objectKey(key)
	in := &s3.GetObjectInput{Bucket: &t.cfg.Bucket, Key: &k}
	switch {
	case length == 0:
		return io.NopCloser(eofReader{}), t.head(ctx, key, k)
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := t.client.GetObject(ctx, in)
	if err != nil {
		return nil, t.err("get", key, err)
	}
	return out.Body, nil
}

func (t *s3Tier) head(ctx context.Context, key, k string) error {
	_, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.cfg.Bucket, Key: &k})
	return t.err("get", key, err)
}

func (t *s3Tier) Delete(ctx context.Context, key string) error {
	k := t.cfg.objectKey(key)
	_, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &t.cfg.Bucket, Key: &k})
	if err = t.err("delete", key, err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// err classifies an SDK error: 404 → ErrNotFound; network failures, 5xx and
// throttling → ErrUnavailable.
func (t *s3Tier) err(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket":
		// A configuration problem, not a missing object.
	case errors.As(err, &nsk), errors.As(err, &nf):
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound && op != "put":
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &re) && statusUnavailable(re.HTTPStatusCode()):
		err = markUnavailable(err)
	case networkFailure(err):
		err = markUnavailable(err)
	}
	return wrapOp(&t.cfg, op, key, err)
}

// eofReader is an empty body.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
