package s3api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cairn-io/cairn/server/internal/iam"
)

// Authorization: after the signature is verified and the request routed, every
// request is put to Config.Authorize as an iam.Request — the IAM action of its
// operation, the bucket and key it addresses and the condition context (client
// address, TLS, listing prefix/delimiter/max-keys, a few request headers). With
// Config.Authorize set, anonymous requests are decided by it too (bucket
// policies), instead of by AllowAnonymous.
//
// Operations map to actions as in AWS (actionOf); an operation missing from the
// map is authorized as "s3:<Operation>". CopyObject and UploadPartCopy also need
// s3:GetObject on the source; DeleteObjects authorizes each key on its own
// (deleteDenials) and reports denied keys as AccessDenied entries.

// AuthorizeFunc decides one request: nil allows it, an error wrapping
// iam.ErrAccessDenied denies it, any other error fails it.
type AuthorizeFunc func(ctx context.Context, req iam.Request) error

// actionOf is the IAM action of an operation.
func actionOf(op string, query map[string][]string) string {
	versioned := len(query["versionId"]) > 0 && query["versionId"][0] != ""
	pick := func(plain, version string) string {
		if versioned {
			return version
		}
		return plain
	}
	switch op {
	case "ListBuckets":
		return iam.ActionListAllMyBuckets
	case "ListObjects", "ListObjectsV2", "HeadBucket":
		return iam.ActionListBucket
	case "ListObjectVersions":
		return iam.ActionListBucketVersions
	case "ListMultipartUploads":
		return iam.ActionListBucketMultipartUploads
	case "DeleteBucketTagging":
		return iam.ActionPutBucketTagging
	case "GetBucketLifecycleConfiguration":
		return iam.ActionGetLifecycleConfiguration
	case "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle":
		return iam.ActionPutLifecycleConfiguration
	case "PostObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "CopyObject", "PutObject":
		return iam.ActionPutObject
	case "ListParts":
		return iam.ActionListMultipartUploadParts
	case "GetObject", "HeadObject":
		return pick(iam.ActionGetObject, iam.ActionGetObjectVersion)
	case "GetObjectAttributes":
		return pick(iam.ActionGetObjectAttributes, iam.ActionGetObjectVersionAttributes)
	case "GetObjectTagging":
		return pick(iam.ActionGetObjectTagging, iam.ActionGetObjectVersionTagging)
	case "PutObjectTagging":
		return pick(iam.ActionPutObjectTagging, iam.ActionPutObjectVersionTagging)
	case "DeleteObjectTagging":
		return pick(iam.ActionDeleteObjectTagging, iam.ActionDeleteObjectVersionTagging)
	case "DeleteObject":
		return pick(iam.ActionDeleteObject, iam.ActionDeleteObjectVersion)
	case "GetObjectAcl":
		return pick(iam.ActionGetObjectAcl, iam.ActionGetObjectVersionAcl)
	case "PutObjectAcl":
		return pick(iam.ActionPutObjectAcl, iam.ActionPutObjectVersionAcl)
	case "GetBucketEncryption":
		return iam.ActionGetEncryptionConfiguration
	case "PutBucketEncryption", "DeleteBucketEncryption":
		return iam.ActionPutEncryptionConfiguration
	case "GetPublicAccessBlock":
		return iam.ActionGetBucketPublicAccessBlock
	case "PutPublicAccessBlock", "DeletePublicAccessBlock":
		return iam.ActionPutBucketPublicAccessBlock
	}
	return "s3:" + op
}

// listingOps are the operations whose condition context has s3:prefix.
func isListing(op string) bool {
	switch op {
	case "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads":
		return true
	}
	return false
}

// conditionHeaders are the request headers offered as s3:<header> condition keys.
func conditionHeaders() []string {
	return []string{
		"X-Amz-Acl", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
		"X-Amz-Copy-Source", "X-Amz-Metadata-Directive", "X-Amz-Storage-Class", "X-Amz-Content-Sha256",
	}
}

// authorize decides the routed request (DeleteObjects: see deleteDenials).
func (s *server) authorize(rq *request) error {
	if s.cfg.Authorize == nil || rq.op == "DeleteObjects" {
		return nil
	}
	if err := s.authorizeAction(rq, actionOf(rq.op, rq.query), rq.bucket, rq.key, rq.query.Get("versionId")); err != nil {
		return err
	}
	if rq.op == "CopyObject" || rq.op == "UploadPartCopy" {
		src, err := parseCopySource(rq.r.Header.Get("X-Amz-Copy-Source"))
		if err != nil {
			return err
		}
		action := iam.ActionGetObject
		if src.versionID != "" {
			action = iam.ActionGetObjectVersion
		}
		return s.authorizeAction(rq, action, src.bucket, src.key, src.versionID)
	}
	return nil
}

// authorizeAction asks Config.Authorize about one action on bucket/key.
func (s *server) authorizeAction(rq *request, action, bucket, key, versionID string) error {
	r := rq.r
	conds := map[string]string{}
	if isListing(rq.op) && bucket == rq.bucket {
		conds[iam.KeyPrefix] = rq.query.Get("prefix")
		if rq.query.Has("delimiter") {
			conds[iam.KeyDelimiter] = rq.query.Get("delimiter")
		}
		if rq.query.Has("max-keys") {
			conds[iam.KeyMaxKeys] = rq.query.Get("max-keys")
		}
	}
	if versionID != "" {
		conds[iam.KeyVersionID] = versionID
	}
	for _, h := range conditionHeaders() {
		if v := r.Header.Get(h); v != "" {
			conds["s3:"+strings.ToLower(h)] = v
		}
	}
	if v := r.UserAgent(); v != "" {
		conds[iam.KeyUserAgent] = v
	}
	if v := r.Referer(); v != "" {
		conds[iam.KeyReferer] = v
	}
	if !rq.anonymous() {
		if r.Header.Get("Authorization") != "" {
			conds[iam.KeyAuthType] = "REST-HEADER"
		} else {
			conds[iam.KeyAuthType] = "REST-QUERY-STRING"
		}
	}
	err := s.cfg.Authorize(r.Context(), iam.Request{
		Action: action, Bucket: bucket, Key: key, AccessKey: rq.accessKey(),
		SourceIP: remoteAddr(r), SecureTransport: r.TLS != nil, Conditions: conds,
	})
	if errors.Is(err, iam.ErrAccessDenied) {
		s.log.Debug("s3api: access denied", "op", rq.op, "request_id", rq.id, "access_key", rq.accessKey(), "reason", err.Error())
		return apiError(codeAccessDenied, "")
	}
	return err
}

// deleteDenials authorizes each key of a DeleteObjects request; the result has
// an AccessDenied error for each denied key (nil when everything is allowed).
func (s *server) deleteDenials(rq *request, objs []deleteObjectID) []error {
	if s.cfg.Authorize == nil {
		return nil
	}
	out := make([]error, len(objs))
	for i, o := range objs {
		action := iam.ActionDeleteObject
		if o.VersionID != "" {
			action = iam.ActionDeleteObjectVersion
		}
		out[i] = s.authorizeAction(rq, action, rq.bucket, o.Key, o.VersionID)
	}
	return out
}

// remoteAddr is the client's address from the connection (forwarded headers are
// not trusted).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a
}
