package s3api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// target is what a request addresses.
type target uint8

const (
	targetService target = iota // "/"
	targetBucket                // "/bucket"
	targetObject                // "/bucket/key"
)

func (t target) String() string {
	switch t {
	case targetService:
		return "service"
	case targetBucket:
		return "bucket"
	}
	return "object"
}

// handlerFunc handles one routed request. It writes the success response itself
// and returns any failure; it never writes an error response.
type handlerFunc func(w http.ResponseWriter, rq *request) error

// route is one row of the route table.
type route struct {
	method string
	target target
	// query lists the query parameters that must be present: "name" or "name=value".
	query []string
	// header, if set, must be present (x-amz-copy-source tells copies from puts).
	header string
	op     string
	fn     handlerFunc
}

// routeTable is THE route table. Rows are tried in order; the first whose method,
// target, query parameters and header all match wins, so the more specific rows of
// a method and target come first. Query parameters not listed are ignored, except
// the unsupported subresources in notImplementedSubresources.
func (s *server) routeTable() []route {
	return []route{
		// Service.
		{method: http.MethodGet, target: targetService, op: "ListBuckets", fn: s.listBuckets},

		// Bucket.
		{method: http.MethodGet, target: targetBucket, query: q("location"), op: "GetBucketLocation", fn: s.getBucketLocation},
		{method: http.MethodGet, target: targetBucket, query: q("versioning"), op: "GetBucketVersioning", fn: s.getBucketVersioning},
		{method: http.MethodGet, target: targetBucket, query: q("lifecycle"), op: "GetBucketLifecycleConfiguration", fn: s.getBucketLifecycle},
		{method: http.MethodGet, target: targetBucket, query: q("tagging"), op: "GetBucketTagging", fn: s.getBucketTagging},
		{method: http.MethodGet, target: targetBucket, query: q("versions"), op: "ListObjectVersions", fn: s.listObjectVersions},
		{method: http.MethodGet, target: targetBucket, query: q("policy"), op: "GetBucketPolicy", fn: s.getBucketPolicy},
		{method: http.MethodGet, target: targetBucket, query: q("policyStatus"), op: "GetBucketPolicyStatus", fn: s.getBucketPolicyStatus},
		{method: http.MethodGet, target: targetBucket, query: q("acl"), op: "GetBucketAcl", fn: s.getBucketAcl},
		{method: http.MethodGet, target: targetBucket, query: q("encryption"), op: "GetBucketEncryption", fn: s.getBucketEncryption},
		{method: http.MethodGet, target: targetBucket, query: q("publicAccessBlock"), op: "GetPublicAccessBlock", fn: s.getPublicAccessBlock},
		{method: http.MethodGet, target: targetBucket, query: q("uploads"), op: "ListMultipartUploads", fn: s.listMultipartUploads},
		{method: http.MethodGet, target: targetBucket, query: q("list-type=2"), op: "ListObjectsV2", fn: s.listObjectsV2},
		{method: http.MethodGet, target: targetBucket, op: "ListObjects", fn: s.listObjectsV1},
		{method: http.MethodHead, target: targetBucket, op: "HeadBucket", fn: s.headBucket},
		{method: http.MethodPut, target: targetBucket, query: q("versioning"), op: "PutBucketVersioning", fn: s.putBucketVersioning},
		{method: http.MethodPut, target: targetBucket, query: q("lifecycle"), op: "PutBucketLifecycleConfiguration", fn: s.putBucketLifecycle},
		{method: http.MethodPut, target: targetBucket, query: q("tagging"), op: "PutBucketTagging", fn: s.putBucketTagging},
		{method: http.MethodPut, target: targetBucket, query: q("policy"), op: "PutBucketPolicy", fn: s.putBucketPolicy},
		{method: http.MethodPut, target: targetBucket, query: q("acl"), op: "PutBucketAcl", fn: s.putBucketAcl},
		{method: http.MethodPut, target: targetBucket, query: q("encryption"), op: "PutBucketEncryption", fn: s.putBucketEncryption},
		{method: http.MethodPut, target: targetBucket, query: q("publicAccessBlock"), op: "PutPublicAccessBlock", fn: s.putPublicAccessBlock},
		{method: http.MethodPut, target: targetBucket, op: "CreateBucket", fn: s.createBucket},
		{method: http.MethodDelete, target: targetBucket, query: q("tagging"), op: "DeleteBucketTagging", fn: s.deleteBucketTagging},
		{method: http.MethodDelete, target: targetBucket, query: q("lifecycle"), op: "DeleteBucketLifecycle", fn: s.deleteBucketLifecycle},
		{method: http.MethodDelete, target: targetBucket, query: q("policy"), op: "DeleteBucketPolicy", fn: s.deleteBucketPolicy},
		{method: http.MethodDelete, target: targetBucket, query: q("encryption"), op: "DeleteBucketEncryption", fn: s.deleteBucketEncryption},
		{method: http.MethodDelete, target: targetBucket, query: q("publicAccessBlock"), op: "DeletePublicAccessBlock", fn: s.deletePublicAccessBlock},
		{method: http.MethodDelete, target: targetBucket, op: "DeleteBucket", fn: s.deleteBucket},
		{method: http.MethodPost, target: targetBucket, query: q("delete"), op: "DeleteObjects", fn: s.deleteObjects},
		{method: http.MethodPost, target: targetBucket, op: "PostObject", fn: notImplemented},

		// Object.
		{method: http.MethodGet, target: targetObject, query: q("tagging"), op: "GetObjectTagging", fn: s.getObjectTagging},
		{method: http.MethodGet, target: targetObject, query: q("acl"), op: "GetObjectAcl", fn: s.getObjectAcl},
		{method: http.MethodGet, target: targetObject, query: q("uploadId"), op: "ListParts", fn: s.listParts},
		{method: http.MethodGet, target: targetObject, query: q("attributes"), op: "GetObjectAttributes", fn: s.getObjectAttributes},
		{method: http.MethodGet, target: targetObject, op: "GetObject", fn: s.getObject},
		{method: http.MethodHead, target: targetObject, op: "HeadObject", fn: s.headObject},
		{method: http.MethodPut, target: targetObject, query: q("tagging"), op: "PutObjectTagging", fn: s.putObjectTagging},
		{method: http.MethodPut, target: targetObject, query: q("acl"), op: "PutObjectAcl", fn: s.putObjectAcl},
		{method: http.MethodPut, target: targetObject, query: q("partNumber", "uploadId"), header: "X-Amz-Copy-Source", op: "UploadPartCopy", fn: s.uploadPartCopy},
		{method: http.MethodPut, target: targetObject, query: q("partNumber", "uploadId"), op: "UploadPart", fn: s.uploadPart},
		{method: http.MethodPut, target: targetObject, header: "X-Amz-Copy-Source", op: "CopyObject", fn: s.copyObject},
		{method: http.MethodPut, target: targetObject, op: "PutObject", fn: s.putObject},
		{method: http.MethodPost, target: targetObject, query: q("uploads"), op: "CreateMultipartUpload", fn: s.createMultipartUpload},
		{method: http.MethodPost, target: targetObject, query: q("uploadId"), op: "CompleteMultipartUpload", fn: s.completeMultipartUpload},
		{method: http.MethodPost, target: targetObject, query: q("restore"), op: "RestoreObject", fn: s.restoreObject},
		{method: http.MethodDelete, target: targetObject, query: q("tagging"), op: "DeleteObjectTagging", fn: s.deleteObjectTagging},
		{method: http.MethodDelete, target: targetObject, query: q("uploadId"), op: "AbortMultipartUpload", fn: s.abortMultipartUpload},
		{method: http.MethodDelete, target: targetObject, op: "DeleteObject", fn: s.deleteObject},
	}
}

func q(params ...string) []string { return params }

// notImplementedSubresources are S3 subresources Cairn does not implement (yet). A
// request naming any of them answers NotImplemented instead of being mistaken for
// the plain operation (GET /bucket?acl is not a listing).
func isNotImplementedSubresource(name string) bool {
	switch name {
	case "accelerate", "acl", "analytics", "cors", "encryption",
		"intelligent-tiering", "inventory", "legal-hold", "lifecycle", "logging",
		"metadataConfiguration", "metadataTable", "metrics", "notification",
		"object-lock", "ownershipControls", "policy", "policyStatus",
		"publicAccessBlock", "renameObject", "replication", "requestPayment",
		"restore", "retention", "select", "session", "torrent", "website":
		return true
	}
	return false
}

// routesSubresource reports whether a route of the table handles the subresource
// name for method and target (?acl, ?policy, … are implemented for some methods).
func (s *server) routesSubresource(method string, t target, name string) bool {
	for _, rt := range s.routes {
		if rt.method == method && rt.target == t && slices.Contains(rt.query, name) {
			return true
		}
	}
	return false
}

// routeMatch is the outcome of routing a request.
type routeMatch struct {
	op      string
	target  target
	bucket  string
	key     string
	query   url.Values
	handler handlerFunc
}

// match resolves the request to a route. On error the match still carries what
// was understood (op, bucket, key) for logging and the anonymous-access check.
func (s *server) match(r *http.Request) (routeMatch, error) {
	var m routeMatch
	m.bucket, m.key = s.splitBucketKey(r)
	m.query = r.URL.Query()
	switch {
	case m.bucket == "" && m.key == "":
		m.target = targetService
	case m.key == "":
		m.target = targetBucket
	default:
		m.target = targetObject
	}

	for name := range m.query {
		if isNotImplementedSubresource(name) && !s.routesSubresource(r.Method, m.target, name) {
			m.op = "NotImplemented"
			return m, apiError(codeNotImplemented, "The ?"+name+" subresource is not implemented.")
		}
	}
	var rt *route
	for i := range s.routes {
		if s.routes[i].matches(r, m.target, m.query) {
			rt = &s.routes[i]
			break
		}
	}
	if rt == nil {
		m.op = "Unknown"
		return m, apiError(codeMethodNotAllowed, "")
	}
	m.op, m.handler = rt.op, rt.fn

	if m.target != targetService {
		if m.bucket == "" {
			return m, apiError(codeInvalidBucketName, "The bucket name is empty.")
		}
		if err := validateBucketName(m.bucket); err != nil {
			return m, err
		}
	}
	if m.target == targetObject {
		if err := validateObjectKey(m.key); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (rt *route) matches(r *http.Request, t target, query url.Values) bool {
	if rt.method != r.Method || rt.target != t {
		return false
	}
	for _, p := range rt.query {
		name, want, hasValue := strings.Cut(p, "=")
		if !query.Has(name) {
			return false
		}
		if hasValue && query.Get(name) != want {
			return false
		}
	}
	return rt.header == "" || r.Header.Get(rt.header) != ""
}

// splitBucketKey finds the bucket and key of a request: from the Host header for
// virtual-host style, else from the first path segment.
func (s *server) splitBucketKey(r *http.Request) (bucket, key string) {
	path := r.URL.Path
	if bucket, ok := s.virtualHostBucket(r.Host); ok {
		return bucket, strings.TrimPrefix(path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

// virtualHostBucket returns the bucket named by a Host of bucket.<domain>.
func (s *server) virtualHostBucket(host string) (string, bool) {
	if len(s.domains) == 0 || host == "" {
		return "", false
	}
	host = strings.ToLower(stripPort(host))
	best := ""
	for _, d := range s.domains {
		if host == d {
			return "", false // the endpoint itself: path-style
		}
		if len(d) > len(best) && len(host) > len(d)+1 && strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.' {
			best = d // the longest domain wins: s3.example.com over example.com
		}
	}
	if best == "" {
		return "", false
	}
	return host[:len(host)-len(best)-1], true
}

// notImplemented answers operations that are recognised but not implemented.
func notImplemented(http.ResponseWriter, *request) error {
	return apiError(codeNotImplemented, "")
}
