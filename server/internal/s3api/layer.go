package s3api

import (
	"context"
	"io"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// The object layer as this package uses it, in four small interfaces. An
// *objects.Layer implements all of them (checked in layer_test.go).

// BucketStore creates, inspects and configures buckets.
type BucketStore interface {
	MakeBucket(ctx context.Context, bucket string, cfg objects.BucketConfig) error
	HeadBucket(ctx context.Context, bucket string) (objects.BucketInfo, error)
	ListBuckets(ctx context.Context) ([]objects.BucketInfo, error)
	DeleteBucket(ctx context.Context, bucket string) error
	BucketConfig(ctx context.Context, bucket string) (objects.BucketConfig, error)
	// UpdateBucketConfig applies update atomically; an error from update aborts
	// the change and is returned as is.
	UpdateBucketConfig(ctx context.Context, bucket string, update func(*objects.BucketConfig) error) error
}

// ObjectStore reads and writes single objects.
type ObjectStore interface {
	PutObject(ctx context.Context, bucket, key string, body io.Reader, opts objects.PutOptions) (objects.ObjectInfo, error)
	// OpenObject returns an open version; the caller must Close it.
	OpenObject(ctx context.Context, bucket, key string, opts objects.GetOptions) (objects.Object, error)
	StatObject(ctx context.Context, bucket, key string, opts objects.GetOptions) (objects.ObjectInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts objects.DeleteOptions) (objects.DeleteResult, error)
	PutObjectTags(ctx context.Context, bucket, key, versionID, tags string) (objects.ObjectInfo, error)
	// RestoreObject brings a transitioned version's data back for a while.
	RestoreObject(ctx context.Context, bucket, key string, opts objects.RestoreOptions) (objects.RestoreResult, error)
}

// Lister lists objects and versions.
type Lister interface {
	ListObjects(ctx context.Context, bucket string, opts objects.ListOptions) (objects.ListResult, error)
	ListObjectVersions(ctx context.Context, bucket string, opts objects.ListOptions) (objects.ListResult, error)
}

// MultipartStore runs multipart uploads.
type MultipartStore interface {
	NewMultipartUpload(ctx context.Context, bucket, key string, opts objects.PutOptions) (string, error)
	PutObjectPart(ctx context.Context, bucket, key, uploadID string, part int, body io.Reader, opts objects.PartOptions) (objects.PartInfo, error)
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []objects.CompletePart, opts objects.CompleteOptions) (objects.ObjectInfo, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	ListParts(ctx context.Context, bucket, key, uploadID string, marker, maxParts int) (objects.ListPartsResult, error)
	// UploadInfo describes an upload in progress (objects.ErrUploadNotFound if none).
	UploadInfo(ctx context.Context, bucket, key, uploadID string) (objects.UploadInfo, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts objects.ListUploadsOptions) (objects.ListUploadsResult, error)
}

// ObjectLayer is everything the S3 handlers need from the object layer.
type ObjectLayer interface {
	BucketStore
	ObjectStore
	Lister
	MultipartStore
}
