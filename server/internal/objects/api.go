package objects

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors returned by the object layer. The S3 layer maps each to one S3 error code;
// callers test with errors.Is.
var (
	ErrBucketNotFound      = errors.New("objects: bucket not found")                // NoSuchBucket 404
	ErrBucketExists        = errors.New("objects: bucket already exists")           // BucketAlreadyOwnedByYou 409
	ErrBucketNotEmpty      = errors.New("objects: bucket not empty")                // BucketNotEmpty 409
	ErrObjectNotFound      = errors.New("objects: object not found")                // NoSuchKey 404
	ErrVersionNotFound     = errors.New("objects: version not found")               // NoSuchVersion 404
	ErrDeleteMarker        = errors.New("objects: object is a delete marker")       // NoSuchKey 404 (+x-amz-delete-marker) or 405 when addressed by version
	ErrUploadNotFound      = errors.New("objects: upload not found")                // NoSuchUpload 404
	ErrInvalidPart         = errors.New("objects: invalid part")                    // InvalidPart 400
	ErrInvalidPartOrder    = errors.New("objects: invalid part order")              // InvalidPartOrder 400
	ErrPartTooSmall        = errors.New("objects: part too small")                  // EntityTooSmall 400
	ErrPreconditionFailed  = errors.New("objects: precondition failed")             // PreconditionFailed 412
	ErrConditionalConflict = errors.New("objects: conditional request conflict")    // ConditionalRequestConflict 409
	ErrBadDigest           = errors.New("objects: content MD5 mismatch")            // BadDigest 400
	ErrIncompleteBody      = errors.New("objects: body shorter than declared size") // IncompleteBody 400
	ErrEntityTooLarge      = errors.New("objects: entity too large")                // EntityTooLarge 400
	ErrInvalidObjectName   = errors.New("objects: invalid object name")             // KeyTooLongError / InvalidArgument 400
	ErrInvalidBucketName   = errors.New("objects: invalid bucket name")             // InvalidBucketName 400
	ErrWriteQuorum         = errors.New("objects: write quorum not reached")        // SlowDown/ServiceUnavailable 503
	ErrReadQuorum          = errors.New("objects: read quorum not reached")         // ServiceUnavailable 503
	ErrMethodNotAllowed    = errors.New("objects: method not allowed")              // MethodNotAllowed 405
	ErrInvalidVersionID    = errors.New("objects: invalid version id")              // InvalidArgument 400
)

// Versioning is a bucket's versioning state.
type Versioning string

const (
	VersioningUnset     Versioning = ""
	VersioningEnabled   Versioning = "Enabled"
	VersioningSuspended Versioning = "Suspended"
)

// NullVersion is the version id S3 shows for the version written while versioning was
// never enabled or was suspended.
const NullVersion = "null"

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// BucketConfig is a bucket's configuration, stored with the bucket. Later features
// (policy, encryption, lifecycle) add fields here; the zero value is a fresh bucket.
type BucketConfig struct {
	Created    time.Time  `json:"created"`
	Versioning Versioning `json:"versioning,omitempty"`
	// Tagging is the bucket's tag set as url-encoded "k=v&k2=v2" (S3 semantics: empty = none).
	Tagging string `json:"tagging,omitempty"`
	// ObjectLock records that the bucket was created with object lock enabled.
	ObjectLock bool `json:"objectLock,omitempty"`
	// Policy is the bucket policy document (AWS IAM JSON, as stored), "" = none.
	Policy string `json:"policy,omitempty"`
	// Encryption is the default-encryption configuration (S3
	// ServerSideEncryptionConfiguration XML, as stored), "" = none.
	Encryption string `json:"encryption,omitempty"`
	// Lifecycle is the lifecycle configuration (S3 LifecycleConfiguration XML, as
	// stored), "" = none.
	Lifecycle string `json:"lifecycle,omitempty"`
	// PublicAccessBlock is the bucket's PublicAccessBlockConfiguration; nil = none.
	PublicAccessBlock *PublicAccessBlock `json:"publicAccessBlock,omitempty"`
}

// PublicAccessBlock is S3's PublicAccessBlockConfiguration of a bucket. Cairn
// honours BlockPublicPolicy (a public bucket policy is refused) and
// RestrictPublicBuckets (anonymous requests are refused whatever the policy says);
// ACLs are always private, so the two ACL settings are recorded only.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"blockPublicAcls,omitempty"`
	IgnorePublicAcls      bool `json:"ignorePublicAcls,omitempty"`
	BlockPublicPolicy     bool `json:"blockPublicPolicy,omitempty"`
	RestrictPublicBuckets bool `json:"restrictPublicBuckets,omitempty"`
}

// ObjectInfo describes one version of an object (or a delete marker).
type ObjectInfo struct {
	Bucket       string
	Key          string
	VersionID    string // "null" for the null version; "" when the bucket was never versioned
	IsLatest     bool
	DeleteMarker bool
	Size         int64
	ETag         string // hex, without quotes; multipart: "<hex>-<parts>"
	ModTime      time.Time
	// Meta holds the stored HTTP metadata: canonical header names such as
	// "Content-Type", "Content-Encoding", "Content-Disposition", "Cache-Control",
	// "Content-Language", "Expires" and user metadata as "X-Amz-Meta-<name>".
	Meta map[string]string
	// Tags is the object's tag set, url-encoded ("k=v&k2=v2").
	Tags string
	// Checksums maps an algorithm ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
	// to its base64 value, as S3 returns in x-amz-checksum-<alg>. ChecksumType is
	// "FULL_OBJECT" or "COMPOSITE" when set.
	Checksums    map[string]string
	ChecksumType string
	// PartCount is the number of parts for a multipart object, 0 otherwise.
	PartCount int
	// Parts lists a multipart object's parts (nil otherwise), for GET ?partNumber.
	Parts []PartInfo
	// Internal is metadata the server keeps for itself (sealed encryption keys,
	// …): stored with the version, never sent to clients. Keys are canonical
	// header-style names.
	Internal map[string]string
	// StoredSize is the number of bytes the layer stores and streams (WriteRange
	// offsets): Size unless a transformation (encryption) changed the length, in
	// which case Size is the client's length (PutOptions.ActualSize).
	StoredSize int64
	// Transition is set when the version's data was moved to a remote tier
	// (its storage class, Meta["X-Amz-Storage-Class"], is then the tier's name).
	Transition *TransitionInfo
}

// internalPrefix marks Internal metadata inside the stored metadata map.
const internalPrefix = "X-Cairn-Internal-"

// Checksum is a checksum supplied with an upload. Value is filled in by the reader
// that computes it, before the reader returns io.EOF; the object layer stores it.
type Checksum struct {
	Algorithm string // "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"
	Value     string // base64
}

// Conditions are the preconditions of a conditional write, checked atomically with
// the commit: IfNoneMatch "*" means "only if no object exists"; IfMatch "<etag>"
// means "only if the current version has this ETag".
type Conditions struct {
	IfNoneMatch string
	IfMatch     string
}

// PutOptions control PutObject and NewMultipartUpload.
type PutOptions struct {
	// Size is the exact body size, or -1 when unknown (the body is read to EOF).
	Size int64
	// Meta is stored as-is (see ObjectInfo.Meta).
	Meta map[string]string
	// Tags is the url-encoded tag set.
	Tags string
	// ContentMD5 is the expected MD5 of the body (Content-MD5), or nil.
	ContentMD5 []byte
	// Checksum, when non-nil, is read after the body returned io.EOF and stored.
	// For NewMultipartUpload only its Algorithm matters.
	Checksum *Checksum
	// ChecksumType is "FULL_OBJECT" or "COMPOSITE" (multipart uploads; "" = the
	// algorithm's default).
	ChecksumType string
	// Conditions for the commit.
	Conditions Conditions
	// ModTime overrides the version's modification time (zero = now). Used by copy and tests.
	ModTime time.Time
	// Internal is stored with the version and returned in ObjectInfo.Internal only.
	Internal map[string]string
	// ActualSize, when ≥ 0 and the body is a transformed stream (encryption), is
	// the size clients see; the stored bytes keep their own size. -1 or 0 with
	// Internal unset: the stored size.
	ActualSize int64
	// ETag, when set, is stored instead of the MD5 of the stored bytes (an
	// encrypted body's ETag is computed by the S3 layer). ContentMD5 is then the
	// caller's to check.
	ETag string
	// ETagFunc, when set, is called once the body has been read to EOF and
	// before the commit; a non-empty result is stored as the ETag (over ETag
	// and the MD5 of the stored bytes). It lets a caller that transforms the
	// body (encryption) store a digest of what it read, known only at the end.
	// ContentMD5 is then the caller's to check, as with ETag.
	ETagFunc func() string
}

// MarkerError is returned (wrapping ErrDeleteMarker) when a read addresses a delete
// marker; Info describes the marker so the S3 layer can set x-amz-delete-marker and
// x-amz-version-id.
type MarkerError struct{ Info ObjectInfo }

func (e *MarkerError) Error() string { return ErrDeleteMarker.Error() }
func (e *MarkerError) Unwrap() error { return ErrDeleteMarker }

// GetOptions select a version for reads.
type GetOptions struct {
	VersionID string // "" = latest; "null" = the null version
}

// Object is an open object version ready to stream. It holds a read lock on the
// object until Close; callers must Close it.
type Object interface {
	Info() ObjectInfo
	// WriteRange writes bytes [offset, offset+length) of the object to w.
	WriteRange(ctx context.Context, w io.Writer, offset, length int64) error
	Close() error
}

// DeleteOptions control DeleteObject.
type DeleteOptions struct {
	VersionID  string
	Conditions Conditions // IfMatch only
}

// DeleteResult tells what DeleteObject did.
type DeleteResult struct {
	VersionID    string // version removed, or the id of the delete marker created
	DeleteMarker bool   // a delete marker was created (or the removed version was one)
}

// ListOptions control ListObjects and ListObjectVersions.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// Marker: list keys strictly after Marker (ListObjects marker, V2 start-after or continuation).
	Marker string
	// VersionMarker: with Marker, list versions after this version of Marker (versions listing).
	VersionMarker string
	MaxKeys       int // 0 → 1000
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects     []ObjectInfo
	Prefixes    []string
	IsTruncated bool
	// NextMarker is the last key or prefix returned when truncated.
	NextMarker        string
	NextVersionMarker string
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number    int
	Size      int64
	ETag      string
	ModTime   time.Time
	Checksums map[string]string
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number    int
	ETag      string
	Checksums map[string]string
}

// PartOptions control PutObjectPart.
type PartOptions struct {
	Size       int64
	ContentMD5 []byte
	Checksum   *Checksum
	// ETagFunc, when set, is called once the body has been read to EOF and
	// before the part is stored; its result, a hex MD5, is the part's ETag
	// (and goes into the completed object's "-N" ETag) instead of the MD5 of
	// the stored bytes, which the layer then does not compute. It lets a caller
	// that transforms the body (encryption) give the part the digest of what
	// it read. ContentMD5 is then the caller's to check. Unlike
	// PutOptions.ETagFunc there is no fallback: a result that is not a hex MD5
	// fails the part, which is never stored with an ETag nobody computed.
	ETagFunc func() string
}

// UploadInfo describes a multipart upload in progress.
type UploadInfo struct {
	Bucket    string
	Key       string
	UploadID  string
	Initiated time.Time
	Meta      map[string]string
	// ChecksumAlgorithm and ChecksumType chosen at CreateMultipartUpload, if any.
	ChecksumAlgorithm string
	ChecksumType      string
}

// CompleteOptions control CompleteMultipartUpload.
type CompleteOptions struct {
	Conditions Conditions
	// Checksum, when set, is stored as the object's checksum with ChecksumType
	// (the S3 layer computes FULL_OBJECT values by combining the parts' CRCs).
	// Without it the layer stores the COMPOSITE checksum when the upload chose an
	// algorithm that has one.
	Checksum     *Checksum
	ChecksumType string
	// ActualSize: the client's size of an object whose parts were transformed
	// (encrypted); 0 with no internal metadata means "the stored size".
	ActualSize int64
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Upload               UploadInfo
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
}

// ListUploadsOptions control ListMultipartUploads.
type ListUploadsOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	Prefixes           []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// Stats are the object layer's counters, for the server's logs and metrics.
type Stats struct {
	ShardsReconstructed int64 // shard reads that failed and were rebuilt on the fly
	ShardsCorrupt       int64 // of those, bitrot detected
}
