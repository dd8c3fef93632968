package s3api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	s := newServer(Config{Domains: []string{"s3.example.com", "example.com", "localhost:9000"}})
	tests := []struct {
		name     string
		method   string
		target   string // path and query
		host     string // "" = "127.0.0.1:9000"
		header   map[string]string
		op       string
		bucket   string
		key      string
		wantCode string // expected routing error code, "" for none
	}{
		{name: "list buckets", method: "GET", target: "/", op: "ListBuckets"},
		{name: "list objects v1", method: "GET", target: "/bkt", op: "ListObjects", bucket: "bkt"},
		{name: "list objects v1 trailing slash", method: "GET", target: "/bkt/", op: "ListObjects", bucket: "bkt"},
		{name: "list objects v1 explicit list-type", method: "GET", target: "/bkt?list-type=1", op: "ListObjects", bucket: "bkt"},
		{name: "list objects v2", method: "GET", target: "/bkt?list-type=2&prefix=a", op: "ListObjectsV2", bucket: "bkt"},
		{name: "list versions", method: "GET", target: "/bkt?versions", op: "ListObjectVersions", bucket: "bkt"},
		{name: "list uploads", method: "GET", target: "/bkt?uploads", op: "ListMultipartUploads", bucket: "bkt"},
		{name: "location", method: "GET", target: "/bkt?location", op: "GetBucketLocation", bucket: "bkt"},
		{name: "get versioning", method: "GET", target: "/bkt?versioning", op: "GetBucketVersioning", bucket: "bkt"},
		{name: "put versioning", method: "PUT", target: "/bkt?versioning", op: "PutBucketVersioning", bucket: "bkt"},
		{name: "get bucket tagging", method: "GET", target: "/bkt?tagging", op: "GetBucketTagging", bucket: "bkt"},
		{name: "put bucket tagging", method: "PUT", target: "/bkt?tagging", op: "PutBucketTagging", bucket: "bkt"},
		{name: "delete bucket tagging", method: "DELETE", target: "/bkt?tagging", op: "DeleteBucketTagging", bucket: "bkt"},
		{name: "create bucket", method: "PUT", target: "/bkt", op: "CreateBucket", bucket: "bkt"},
		{name: "head bucket", method: "HEAD", target: "/bkt", op: "HeadBucket", bucket: "bkt"},
		{name: "delete bucket", method: "DELETE", target: "/bkt", op: "DeleteBucket", bucket: "bkt"},
		{name: "delete objects", method: "POST", target: "/bkt?delete", op: "DeleteObjects", bucket: "bkt"},
		{name: "post object form", method: "POST", target: "/bkt", op: "PostObject", bucket: "bkt"},
		{name: "get object", method: "GET", target: "/bkt/a/b/c.txt", op: "GetObject", bucket: "bkt", key: "a/b/c.txt"},
		{name: "get object keeps double slash", method: "GET", target: "/bkt/a//b/", op: "GetObject", bucket: "bkt", key: "a//b/"},
		{name: "get object escaped key", method: "GET", target: "/bkt/a%20b%3Fc", op: "GetObject", bucket: "bkt", key: "a b?c"},
		{name: "get object version", method: "GET", target: "/bkt/k?versionId=v1", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "get object part", method: "GET", target: "/bkt/k?partNumber=2", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "head object", method: "HEAD", target: "/bkt/k", op: "HeadObject", bucket: "bkt", key: "k"},
		{name: "put object", method: "PUT", target: "/bkt/k", op: "PutObject", bucket: "bkt", key: "k"},
		{name: "copy object", method: "PUT", target: "/bkt/k", header: map[string]string{"X-Amz-Copy-Source": "/src/k"}, op: "CopyObject", bucket: "bkt", key: "k"},
		{name: "upload part", method: "PUT", target: "/bkt/k?partNumber=1&uploadId=u", op: "UploadPart", bucket: "bkt", key: "k"},
		{name: "upload part copy", method: "PUT", target: "/bkt/k?partNumber=1&uploadId=u", header: map[string]string{"X-Amz-Copy-Source": "src/k"}, op: "UploadPartCopy", bucket: "bkt", key: "k"},
		{name: "put object tagging", method: "PUT", target: "/bkt/k?tagging", op: "PutObjectTagging", bucket: "bkt", key: "k"},
		{name: "get object tagging", method: "GET", target: "/bkt/k?tagging&versionId=v", op: "GetObjectTagging", bucket: "bkt", key: "k"},
		{name: "delete object tagging", method: "DELETE", target: "/bkt/k?tagging", op: "DeleteObjectTagging", bucket: "bkt", key: "k"},
		{name: "create upload", method: "POST", target: "/bkt/k?uploads", op: "CreateMultipartUpload", bucket: "bkt", key: "k"},
		{name: "complete upload", method: "POST", target: "/bkt/k?uploadId=u", op: "CompleteMultipartUpload", bucket: "bkt", key: "k"},
		{name: "abort upload", method: "DELETE", target: "/bkt/k?uploadId=u", op: "AbortMultipartUpload", bucket: "bkt", key: "k"},
		{name: "list parts", method: "GET", target: "/bkt/k?uploadId=u", op: "ListParts", bucket: "bkt", key: "k"},
		{name: "delete object", method: "DELETE", target: "/bkt/k", op: "DeleteObject", bucket: "bkt", key: "k"},

		// Virtual-host style.
		{name: "vhost list objects", method: "GET", target: "/", host: "bkt.example.com", op: "ListObjects", bucket: "bkt"},
		{name: "vhost get object", method: "GET", target: "/dir/k", host: "bkt.example.com", op: "GetObject", bucket: "bkt", key: "dir/k"},
		{name: "vhost with port", method: "GET", target: "/k", host: "bkt.example.com:9000", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "vhost domain with port in config", method: "GET", target: "/k", host: "bkt.localhost:9000", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "vhost dotted bucket", method: "PUT", target: "/", host: "my.dotted.bkt.example.com", op: "CreateBucket", bucket: "my.dotted.bkt"},
		{name: "vhost longest domain wins", method: "GET", target: "/k", host: "bkt.s3.example.com", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "vhost uppercase host", method: "GET", target: "/k", host: "BKT.Example.COM", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "domain itself is path style", method: "GET", target: "/bkt/k", host: "s3.example.com", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "domain itself service", method: "GET", target: "/", host: "example.com:443", op: "ListBuckets"},
		{name: "unknown host is path style", method: "GET", target: "/bkt/k", host: "other.org", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "ip host is path style", method: "GET", target: "/bkt/k", host: "[::1]:9000", op: "GetObject", bucket: "bkt", key: "k"},

		// Errors.
		{name: "website not implemented", method: "GET", target: "/bkt?website", op: "NotImplemented", bucket: "bkt", wantCode: "NotImplemented"},
		{name: "object torrent not implemented", method: "PUT", target: "/bkt/k?torrent", op: "NotImplemented", bucket: "bkt", key: "k", wantCode: "NotImplemented"},
		{name: "replication not implemented", method: "PUT", target: "/bkt?replication", op: "NotImplemented", bucket: "bkt", wantCode: "NotImplemented"},
		{name: "lifecycle", method: "GET", target: "/bkt?lifecycle", op: "GetBucketLifecycleConfiguration", bucket: "bkt"},
		{name: "delete lifecycle is not delete bucket", method: "DELETE", target: "/bkt?lifecycle", op: "DeleteBucketLifecycle", bucket: "bkt"},
		{name: "object lifecycle not implemented", method: "PUT", target: "/bkt/k?lifecycle", op: "NotImplemented", bucket: "bkt", key: "k", wantCode: "NotImplemented"},
		{name: "bucket acl", method: "GET", target: "/bkt?acl", op: "GetBucketAcl", bucket: "bkt"},
		{name: "object acl", method: "PUT", target: "/bkt/k?acl", op: "PutObjectAcl", bucket: "bkt", key: "k"},
		{name: "policy", method: "PUT", target: "/bkt?policy", op: "PutBucketPolicy", bucket: "bkt"},
		{name: "public access block", method: "DELETE", target: "/bkt?publicAccessBlock", op: "DeletePublicAccessBlock", bucket: "bkt"},
		{name: "delete acl is not delete bucket", method: "DELETE", target: "/bkt?acl", op: "NotImplemented", bucket: "bkt", wantCode: "NotImplemented"},
		{name: "delete object acl is not delete object", method: "DELETE", target: "/bkt/k?acl", op: "NotImplemented", bucket: "bkt", key: "k", wantCode: "NotImplemented"},
		{name: "post policy is not post object", method: "POST", target: "/bkt?policy", op: "NotImplemented", bucket: "bkt", wantCode: "NotImplemented"},
		{name: "unknown param ignored", method: "GET", target: "/bkt/k?x-id=GetObject", op: "GetObject", bucket: "bkt", key: "k"},
		{name: "patch not allowed", method: "PATCH", target: "/bkt/k", op: "Unknown", bucket: "bkt", key: "k", wantCode: "MethodNotAllowed"},
		{name: "post object without subresource", method: "POST", target: "/bkt/k", op: "Unknown", bucket: "bkt", key: "k", wantCode: "MethodNotAllowed"},
		{name: "put on service", method: "PUT", target: "/", op: "Unknown", wantCode: "MethodNotAllowed"},
		{name: "invalid bucket name", method: "GET", target: "/Bad_Bucket/k", op: "GetObject", bucket: "Bad_Bucket", key: "k", wantCode: "InvalidBucketName"},
		{name: "short bucket name", method: "PUT", target: "/ab", op: "CreateBucket", bucket: "ab", wantCode: "InvalidBucketName"},
		{name: "empty bucket with key", method: "GET", target: "//k", op: "GetObject", key: "k", wantCode: "InvalidBucketName"},
		{name: "key too long", method: "PUT", target: "/bkt/" + strings.Repeat("k", 1025), op: "PutObject", bucket: "bkt", key: strings.Repeat("k", 1025), wantCode: "KeyTooLongError"},
		{name: "key 1024 ok", method: "PUT", target: "/bkt/" + strings.Repeat("k", 1024), op: "PutObject", bucket: "bkt", key: strings.Repeat("k", 1024)},
		{name: "key not utf8", method: "GET", target: "/bkt/a%ffb", op: "GetObject", bucket: "bkt", key: "a\xffb", wantCode: "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, "http://placeholder"+tc.target, nil)
			r.Host = tc.host
			if r.Host == "" {
				r.Host = "127.0.0.1:9000"
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			m, err := s.match(r)
			if m.op != tc.op || m.bucket != tc.bucket || m.key != tc.key {
				t.Errorf("match = (op %q, bucket %q, key %q), want (%q, %q, %q)", m.op, m.bucket, m.key, tc.op, tc.bucket, tc.key)
			}
			gotCode := ""
			if err != nil {
				gotCode = errorResponse(err).Code
			}
			if gotCode != tc.wantCode {
				t.Errorf("error code = %q (%v), want %q", gotCode, err, tc.wantCode)
			}
			if err == nil && m.handler == nil {
				t.Error("matched route has no handler")
			}
		})
	}
}

// Every route must be reachable: no row may be shadowed by an earlier, less
// specific one.
func TestRouteTableHasNoShadowedRows(t *testing.T) {
	t.Parallel()
	s := newServer(Config{})
	for i, rt := range s.routes {
		path := "/bkt/key"
		switch rt.target {
		case targetService:
			path = "/"
		case targetBucket:
			path = "/bkt"
		}
		var query []string
		for _, p := range rt.query {
			if !strings.Contains(p, "=") {
				p += "=x"
			}
			query = append(query, p)
		}
		r := httptest.NewRequest(rt.method, path+"?"+strings.Join(query, "&"), nil)
		if rt.header != "" {
			r.Header.Set(rt.header, "/src/key")
		}
		m, err := s.match(r)
		if err != nil || m.op != rt.op {
			t.Errorf("row %d (%s): request built for it routes to %q (err %v)", i, rt.op, m.op, err)
		}
	}
}

func TestHealthPathsAreExact(t *testing.T) {
	t.Parallel()
	s := newServer(Config{Domains: []string{"example.com"}})
	tests := []struct {
		name, method, target, host string
		want                       bool
	}{
		{"live", http.MethodGet, "/cairn/health/live", "", true},
		{"ready", http.MethodGet, "/cairn/health/ready", "", true},
		{"head live", http.MethodHead, "/cairn/health/live", "", true},
		{"put is an object write", http.MethodPut, "/cairn/health/live", "", false},
		{"with query is an object read", http.MethodGet, "/cairn/health/live?versionId=1", "", false},
		{"other key", http.MethodGet, "/cairn/health/other", "", false},
		{"trailing slash", http.MethodGet, "/cairn/health/live/", "", false},
		{"virtual host bucket", http.MethodGet, "/cairn/health/live", "bkt.example.com", false},
		{"endpoint host", http.MethodGet, "/cairn/health/live", "example.com", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if tc.host != "" {
				r.Host = tc.host
			}
			if got := s.isHealthCheck(r); got != tc.want {
				t.Errorf("isHealthCheck = %v, want %v", got, tc.want)
			}
		})
	}
}
