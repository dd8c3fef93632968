package s3api

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-io/cairn/server/internal/iam"
)

// Bucket policy, ACL and public access block operations, and the authorization
// hook: which action, resource and conditions each request is authorized with.

const publicReadPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/pub/*"}]}`

func TestBucketPolicyOperations(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.do(call{method: "GET", target: "/bkt?policy"}).s3err(t, 404, "NoSuchBucketPolicy")
	c.do(call{method: "GET", target: "/bkt?policyStatus"}).s3err(t, 404, "NoSuchBucketPolicy")
	c.do(call{method: "PUT", target: "/nobkt?policy", body: []byte(strings.ReplaceAll(publicReadPolicy, "bkt", "nobkt"))}).s3err(t, 404, "NoSuchBucket")

	for name, doc := range map[string]string{
		"not json":        `{"Version":`,
		"unknown action":  strings.Replace(publicReadPolicy, "s3:GetObject", "s3:GetObjekt", 1),
		"other bucket":    strings.Replace(publicReadPolicy, "arn:aws:s3:::bkt/", "arn:aws:s3:::other/", 1),
		"no principal":    strings.Replace(publicReadPolicy, `"Principal":"*",`, "", 1),
		"empty":           ``,
		"bad arn":         strings.Replace(publicReadPolicy, "arn:aws:s3:::bkt/pub/*", "bkt/pub/*", 1),
		"too large":       `{"Id":"` + strings.Repeat("x", iam.MaxPolicySize) + `"}`,
		"admin in bucket": strings.Replace(publicReadPolicy, "s3:GetObject", "admin:CreateUser", 1),
	} {
		r := c.do(call{method: "PUT", target: "/bkt?policy", body: []byte(doc)}).s3err(t, 400, "MalformedPolicy")
		if name == "unknown action" && !strings.Contains(string(r.body), "s3:GetObjekt") {
			t.Errorf("%s: message does not name the action: %s", name, r.body)
		}
	}
	c.do(call{method: "GET", target: "/bkt?policy"}).s3err(t, 404, "NoSuchBucketPolicy")

	c.do(call{method: "PUT", target: "/bkt?policy", body: []byte(publicReadPolicy)}).ok(t, 204)
	r := c.do(call{method: "GET", target: "/bkt?policy"}).ok(t, 200)
	if string(r.body) != publicReadPolicy || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GetBucketPolicy = %q (%s)", r.body, r.Header.Get("Content-Type"))
	}
	var st policyStatus
	c.do(call{method: "GET", target: "/bkt?policyStatus"}).ok(t, 200).decode(t, &st)
	if !st.IsPublic {
		t.Error("a public-read policy is not reported public")
	}
	c.do(call{method: "DELETE", target: "/bkt?policy"}).ok(t, 204)
	c.do(call{method: "GET", target: "/bkt?policy"}).s3err(t, 404, "NoSuchBucketPolicy")
}

func TestPublicAccessBlock(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.do(call{method: "GET", target: "/bkt?publicAccessBlock"}).s3err(t, 404, "NoSuchPublicAccessBlockConfiguration")
	c.do(call{method: "PUT", target: "/bkt?publicAccessBlock", body: []byte(`<PublicAccessBlockConfiguration`)}).s3err(t, 400, "MalformedXML")
	pab := `<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls><BlockPublicPolicy>true</BlockPublicPolicy></PublicAccessBlockConfiguration>`
	c.do(call{method: "PUT", target: "/bkt?publicAccessBlock", body: []byte(pab)}).ok(t, 200)
	var got publicAccessBlockConfiguration
	c.do(call{method: "GET", target: "/bkt?publicAccessBlock"}).ok(t, 200).decode(t, &got)
	if !got.BlockPublicAcls || !got.BlockPublicPolicy || got.IgnorePublicAcls || got.RestrictPublicBuckets {
		t.Errorf("GetPublicAccessBlock = %+v", got)
	}
	// BlockPublicPolicy refuses a public policy and accepts a pinned one.
	c.do(call{method: "PUT", target: "/bkt?policy", body: []byte(publicReadPolicy)}).s3err(t, 403, "AccessDenied")
	c.do(call{method: "GET", target: "/bkt?policy"}).s3err(t, 404, "NoSuchBucketPolicy")
	pinned := strings.Replace(publicReadPolicy, `"Resource":"arn:aws:s3:::bkt/pub/*"`, `"Resource":"arn:aws:s3:::bkt/pub/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/16"}}`, 1)
	c.do(call{method: "PUT", target: "/bkt?policy", body: []byte(pinned)}).ok(t, 204)
	c.do(call{method: "DELETE", target: "/bkt?publicAccessBlock"}).ok(t, 204)
	c.do(call{method: "GET", target: "/bkt?publicAccessBlock"}).s3err(t, 404, "NoSuchPublicAccessBlockConfiguration")
	c.do(call{method: "PUT", target: "/bkt?policy", body: []byte(publicReadPolicy)}).ok(t, 204)
}

func TestACLs(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "k", []byte("x"), nil)
	for _, target := range []string{"/bkt?acl", "/bkt/k?acl"} {
		var acl struct {
			Owner  owner `xml:"Owner"`
			Grants []struct {
				Grantee struct {
					Type string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
					ID   string `xml:"ID"`
				} `xml:"Grantee"`
				Permission string `xml:"Permission"`
			} `xml:"AccessControlList>Grant"`
		}
		r := c.do(call{method: "GET", target: target}).ok(t, 200)
		r.decode(t, &acl)
		if len(acl.Grants) != 1 || acl.Grants[0].Permission != "FULL_CONTROL" || acl.Grants[0].Grantee.Type != "CanonicalUser" || acl.Grants[0].Grantee.ID != acl.Owner.ID {
			t.Fatalf("GET %s = %+v\n%s", target, acl, r.body)
		}
		// Writing back what was read, or the canned private ACL, is accepted.
		c.do(call{method: "PUT", target: target, body: r.body}).ok(t, 200)
		c.do(call{method: "PUT", target: target, header: map[string]string{"X-Amz-Acl": "private"}}).ok(t, 200)
		// Anything public is refused clearly.
		for _, h := range []map[string]string{{"X-Amz-Acl": "public-read"}, {"X-Amz-Acl": "authenticated-read"}, {"X-Amz-Grant-Read": `uri="http://acs.amazonaws.com/groups/global/AllUsers"`}} {
			resp := c.do(call{method: "PUT", target: target, header: h}).s3err(t, 400, "AccessControlListNotSupported")
			if !strings.Contains(string(resp.body), "private") {
				t.Errorf("refusal does not say what is supported: %s", resp.body)
			}
		}
		public := strings.Replace(string(r.body), "</AccessControlList>",
			`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList>`, 1)
		c.do(call{method: "PUT", target: target, body: []byte(public)}).s3err(t, 400, "AccessControlListNotSupported")
		c.do(call{method: "PUT", target: target, body: r.body, header: map[string]string{"X-Amz-Acl": "private"}}).s3err(t, 400, "InvalidRequest")
	}
	c.do(call{method: "GET", target: "/nobkt?acl"}).s3err(t, 404, "NoSuchBucket")
	c.do(call{method: "GET", target: "/bkt/nokey?acl"}).s3err(t, 404, "NoSuchKey")
}

// authzRecorder is an Authorize hook that records requests and denies some.
type authzRecorder struct {
	mu   sync.Mutex
	reqs []iam.Request
	deny func(iam.Request) bool
}

func (r *authzRecorder) authorize(_ context.Context, req iam.Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	if r.deny != nil && r.deny(req) {
		return iam.ErrAccessDenied
	}
	return nil
}

func (r *authzRecorder) take() []iam.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

func TestAuthorizeHook(t *testing.T) {
	t.Parallel()
	rec := &authzRecorder{}
	c := newS3(t, func(cfg *Config) { cfg.Authorize = rec.authorize })
	c.mkBucket("bkt")
	c.put("bkt", "a/k", []byte("x"), nil)
	rec.take()

	cases := []struct {
		name       string
		call       call
		action     string
		bucket     string
		key        string
		conditions map[string]string
	}{
		{"list buckets", call{method: "GET", target: "/"}, "s3:ListAllMyBuckets", "", "", nil},
		{"get object", call{method: "GET", target: "/bkt/a/k"}, "s3:GetObject", "bkt", "a/k", nil},
		{"head object", call{method: "HEAD", target: "/bkt/a/k"}, "s3:GetObject", "bkt", "a/k", nil},
		{"get version", call{method: "GET", target: "/bkt/a/k?versionId=null"}, "s3:GetObjectVersion", "bkt", "a/k", map[string]string{"s3:versionid": "null"}},
		{"put object", call{method: "PUT", target: "/bkt/a/k2", body: []byte("y")}, "s3:PutObject", "bkt", "a/k2", nil},
		{"list v2", call{method: "GET", target: "/bkt?list-type=2&prefix=a/&delimiter=/&max-keys=5"}, "s3:ListBucket", "bkt", "", map[string]string{"s3:prefix": "a/", "s3:delimiter": "/", "s3:max-keys": "5"}},
		{"list without prefix", call{method: "GET", target: "/bkt"}, "s3:ListBucket", "bkt", "", map[string]string{"s3:prefix": ""}},
		{"head bucket", call{method: "HEAD", target: "/bkt"}, "s3:ListBucket", "bkt", "", nil},
		{"list versions", call{method: "GET", target: "/bkt?versions&prefix=a/"}, "s3:ListBucketVersions", "bkt", "", map[string]string{"s3:prefix": "a/"}},
		{"delete tagging", call{method: "DELETE", target: "/bkt?tagging"}, "s3:PutBucketTagging", "bkt", "", nil},
		{"put policy", call{method: "PUT", target: "/bkt?policy", body: []byte(publicReadPolicy)}, "s3:PutBucketPolicy", "bkt", "", nil},
		{"get acl", call{method: "GET", target: "/bkt?acl"}, "s3:GetBucketAcl", "bkt", "", nil},
		{"delete public access block", call{method: "DELETE", target: "/bkt?publicAccessBlock"}, "s3:PutBucketPublicAccessBlock", "bkt", "", nil},
		{"create multipart", call{method: "POST", target: "/bkt/a/m?uploads"}, "s3:PutObject", "bkt", "a/m", nil},
		{"delete object", call{method: "DELETE", target: "/bkt/a/k2"}, "s3:DeleteObject", "bkt", "a/k2", nil},
		{"acl header condition", call{method: "PUT", target: "/bkt/a/k3", body: []byte("y"), header: map[string]string{"X-Amz-Acl": "private"}}, "s3:PutObject", "bkt", "a/k3", map[string]string{"s3:x-amz-acl": "private"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.do(tc.call)
			reqs := rec.take()
			if len(reqs) != 1 {
				t.Fatalf("%d authorization calls, want 1: %+v", len(reqs), reqs)
			}
			got := reqs[0]
			if got.Action != tc.action || got.Bucket != tc.bucket || got.Key != tc.key {
				t.Errorf("authorized (%s, %q, %q), want (%s, %q, %q)", got.Action, got.Bucket, got.Key, tc.action, tc.bucket, tc.key)
			}
			if got.AccessKey != testAccessKey || !got.SourceIP.IsLoopback() || got.SecureTransport {
				t.Errorf("identity/context: key %q ip %v tls %v", got.AccessKey, got.SourceIP, got.SecureTransport)
			}
			for k, v := range tc.conditions {
				if got.Conditions[k] != v {
					t.Errorf("condition %s = %q, want %q (all: %v)", k, got.Conditions[k], v, got.Conditions)
				}
			}
			if _, ok := got.Conditions["s3:prefix"]; ok && tc.conditions["s3:prefix"] == "" && !strings.Contains(tc.name, "list") {
				t.Errorf("s3:prefix set for a non-listing request")
			}
		})
	}

	// Denied: AccessDenied and the handler never runs.
	rec.deny = func(r iam.Request) bool { return r.Action == "s3:PutObject" }
	c.do(call{method: "PUT", target: "/bkt/denied", body: []byte("x")}).s3err(t, 403, "AccessDenied")
	c.do(call{method: "GET", target: "/bkt/denied"}).s3err(t, 404, "NoSuchKey")

	// Copy needs GetObject on the source as well.
	rec.deny = func(r iam.Request) bool { return r.Action == "s3:GetObject" && r.Key == "a/k" }
	rec.take()
	c.do(call{method: "PUT", target: "/bkt/copy", header: map[string]string{"X-Amz-Copy-Source": "/bkt/a/k"}}).s3err(t, 403, "AccessDenied")
	reqs := rec.take()
	if len(reqs) != 2 || reqs[0].Action != "s3:PutObject" || reqs[0].Key != "copy" || reqs[1].Action != "s3:GetObject" || reqs[1].Key != "a/k" {
		t.Errorf("copy authorized with %+v", reqs)
	}

	// DeleteObjects authorizes each key; denied keys are reported, not deleted.
	c.put("bkt", "b/1", []byte("x"), nil)
	c.put("bkt", "b/2", []byte("x"), nil)
	rec.deny = func(r iam.Request) bool { return r.Action == "s3:DeleteObject" && r.Key == "b/2" }
	body := []byte(`<Delete><Object><Key>b/1</Key></Object><Object><Key>b/2</Key></Object></Delete>`)
	var res deleteResult
	c.do(call{method: "POST", target: "/bkt?delete", body: body, header: map[string]string{"Content-Md5": md5Header(body)}}).ok(t, 200).decode(t, &res)
	if len(res.Deleted) != 1 || res.Deleted[0].Key != "b/1" || len(res.Errors) != 1 || res.Errors[0].Key != "b/2" || res.Errors[0].Code != "AccessDenied" {
		t.Errorf("DeleteObjects result %+v", res)
	}
	c.do(call{method: "GET", target: "/bkt/b/2"}).ok(t, 200)
	c.do(call{method: "GET", target: "/bkt/b/1"}).s3err(t, 404, "NoSuchKey")

	// Anonymous requests reach the hook (bucket policies decide), with no access key.
	rec.deny = func(r iam.Request) bool { return r.AccessKey == "" && r.Key != "a/k" }
	rec.take()
	c.do(call{method: "GET", target: "/bkt/a/k", anonymous: true}).ok(t, 200)
	c.do(call{method: "GET", target: "/bkt/b/2", anonymous: true}).s3err(t, 403, "AccessDenied")
	if reqs := rec.take(); len(reqs) != 2 || reqs[0].AccessKey != "" {
		t.Errorf("anonymous requests authorized as %+v", reqs)
	}

	// An authorizer failure that is not a denial fails the request.
	rec.deny = nil
	c2 := newS3(t, func(cfg *Config) {
		cfg.Authorize = func(context.Context, iam.Request) error { return errors.New("boom") }
	})
	c2.do(call{method: "GET", target: "/"}).s3err(t, 500, "InternalError")
}
