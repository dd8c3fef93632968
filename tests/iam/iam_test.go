// Package iam proves Cairn's access control end to end: an in-process server
// (servertest), set up through the admin API client, serving several users over
// aws-sdk-go-v2 and anonymous clients over plain net/http. It checks allowed and
// denied actions per built-in and managed policy, users confined to their own
// prefix by ${aws:username}, explicit Deny overriding Allow (identity and bucket
// policy), disabled users, expired and restricted access keys, presigned URLs,
// a public-read prefix through a bucket policy and RestrictPublicBuckets, and
// that all of it survives a restart.
package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server/admin"
	"github.com/cairn-io/cairn/server/servertest"
)

// Managed policies of the test.
const (
	// Each user works in home/<user>/ only, and may list the top of the bucket.
	policyHomeDirs = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "ListTopAndOwnFolder", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::home",
	     "Condition": {"StringEquals": {"s3:prefix": ["", "${aws:username}/"], "s3:delimiter": "/"}}},
	    {"Sid": "ListInsideOwnFolder", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::home",
	     "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}}},
	    {"Sid": "OwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
	     "Resource": "arn:aws:s3:::home/${aws:username}/*"}
	  ]
	}`
	// Nobody in the group touches shared/secret/, whatever else allows it.
	policyDenySecret = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::shared/secret/*"},
	    {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::shared",
	     "Condition": {"StringLike": {"s3:prefix": "secret/*"}}}
	  ]
	}`
	// Inline key policy: reading only.
	policyGetOnly = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}`
	// Bucket policy of "public": anyone may read pub/, nothing else.
	bucketPolicyPublic = `{
	  "Version": "2012-10-17",
	  "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
	                 "Resource": "arn:aws:s3:::public/pub/*"}]
	}`
	// Bucket policy of "shared": carol may not delete, whatever her policies say.
	bucketPolicyNoDeleteCarol = `{
	  "Version": "2012-10-17",
	  "Statement": [{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/carol"},
	                 "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::shared/*"}]
	}`
)

type env struct {
	t     *testing.T
	srv   *servertest.Server
	admin *admin.Client
	root  *s3.Client
	keys  map[string]*admin.AccessKeyCredentials // user → key
}

func newEnv(t *testing.T, dir string) *env {
	srv := servertest.New(t, servertest.Options{Dir: dir})
	adm, err := admin.New(srv.URL, admin.Options{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, admin: adm, root: srv.Client(), keys: map[string]*admin.AccessKeyCredentials{}}
}

// as returns an S3 client signing with the given credentials.
func (e *env) as(ak, sk string) *s3.Client {
	return e.srv.Client(func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, "")
		o.RetryMaxAttempts = 1
	})
}

func (e *env) user(name string) *s3.Client {
	k := e.keys[name]
	return e.as(k.AccessKey.AccessKey, k.SecretKey)
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// status is the HTTP status of an SDK error (0 when it has none).
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// op is one S3 call a user makes.
type op struct {
	name string
	run  func(ctx context.Context, c *s3.Client) error
}

func put(bucket, key string) op {
	return op{"PutObject " + bucket + "/" + key, func(ctx context.Context, c *s3.Client) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("data of " + key)})
		return err
	}}
}

func get(bucket, key string) op {
	return op{"GetObject " + bucket + "/" + key, func(ctx context.Context, c *s3.Client) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err == nil {
			_, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
		return err
	}}
}

func del(bucket, key string) op {
	return op{"DeleteObject " + bucket + "/" + key, func(ctx context.Context, c *s3.Client) error {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
		return err
	}}
}

func list(bucket, prefix, delimiter string) op {
	return op{"ListObjectsV2 " + bucket + "?prefix=" + prefix + "&delimiter=" + delimiter, func(ctx context.Context, c *s3.Client) error {
		in := &s3.ListObjectsV2Input{Bucket: &bucket}
		if prefix != "" {
			in.Prefix = &prefix
		}
		if delimiter != "" {
			in.Delimiter = &delimiter
		}
		_, err := c.ListObjectsV2(ctx, in)
		return err
	}}
}

func mkbucket(bucket string) op {
	return op{"CreateBucket " + bucket, func(ctx context.Context, c *s3.Client) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
		return err
	}}
}

func listBuckets() op {
	return op{"ListBuckets", func(ctx context.Context, c *s3.Client) error {
		_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	}}
}

// expect runs ops as user and checks each is allowed (allow) or denied with 403.
func (e *env) expect(user string, allow bool, ops ...op) {
	e.t.Helper()
	c := e.user(user)
	for _, o := range ops {
		err := o.run(context.Background(), c)
		switch {
		case allow && err != nil:
			e.t.Errorf("%s: %s denied: %v", user, o.name, err)
		case !allow && err == nil:
			e.t.Errorf("%s: %s allowed, want 403", user, o.name)
		case !allow && status(err) != http.StatusForbidden:
			e.t.Errorf("%s: %s failed with %v, want 403", user, o.name, err)
		}
	}
}

// setup creates buckets, objects, policies, users, a group and access keys.
func (e *env) setup() {
	t, ctx := e.t, context.Background()
	for _, b := range []string{"shared", "home", "public"} {
		if _, err := e.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"shared/doc", "shared/secret/plans", "home/alice/notes", "home/bob/notes", "public/pub/index.html", "public/private/ledger"} {
		bucket, key, _ := strings.Cut(k, "/")
		if _, err := e.root.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("content of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	must[*admin.Policy](t)(e.admin.CreatePolicy(ctx, "home-dirs", []byte(policyHomeDirs)))
	must[*admin.Policy](t)(e.admin.CreatePolicy(ctx, "deny-secret", []byte(policyDenySecret)))
	users := []admin.CreateUserRequest{
		{Name: "alice", Policies: []string{"home-dirs"}},
		{Name: "bob", Policies: []string{"home-dirs"}},
		{Name: "reader", Policies: []string{"readonly"}},
		{Name: "writer", Policies: []string{"writeonly"}},
		{Name: "carol", Policies: []string{"readwrite"}},
		{Name: "nobody"},
	}
	for _, u := range users {
		must[*admin.User](t)(e.admin.CreateUser(ctx, u))
		e.keys[u.Name] = must[*admin.AccessKeyCredentials](t)(e.admin.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: u.Name}))
	}
	must[*admin.Group](t)(e.admin.CreateGroup(ctx, admin.CreateGroupRequest{Name: "auditors", Members: []string{"reader"}, Policies: []string{"deny-secret"}}))
}

func TestIAM(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEnv(t, dir)
	e.setup()

	t.Run("root may do everything", func(t *testing.T) {
		e.t = t
		c := e.root
		for _, o := range []op{get("shared", "secret/plans"), put("home", "x"), list("home", "", ""), del("home", "x"), listBuckets()} {
			if err := o.run(ctx, c); err != nil {
				t.Errorf("root: %s: %v", o.name, err)
			}
		}
	})

	t.Run("built-in policies per action", func(t *testing.T) {
		e.t = t
		e.expect("reader", true, get("shared", "doc"), list("shared", "", ""), list("home", "", ""), listBuckets(), get("home", "bob/notes"))
		e.expect("reader", false, put("shared", "r"), del("shared", "doc"), mkbucket("reader-bucket"))
		e.expect("writer", true, put("shared", "w"), put("home", "anywhere"))
		e.expect("writer", false, get("shared", "doc"), list("shared", "", ""), del("shared", "w"), listBuckets())
		e.expect("carol", true, put("shared", "c"), get("shared", "c"), del("shared", "c"), list("shared", "", ""), mkbucket("carols"))
		e.expect("nobody", false, get("shared", "doc"), put("shared", "n"), list("shared", "", ""), listBuckets())
	})

	t.Run("users confined to their prefix by ${aws:username}", func(t *testing.T) {
		e.t = t
		e.expect("alice", true, put("home", "alice/new"), get("home", "alice/notes"), get("home", "alice/new"), del("home", "alice/new"),
			list("home", "alice/", ""), list("home", "alice/", "/"), list("home", "", "/"))
		e.expect("alice", false, put("home", "bob/intruder"), get("home", "bob/notes"), del("home", "bob/notes"),
			put("home", "alicebob/x"), list("home", "bob/", ""), list("home", "", ""), get("shared", "doc"))
		e.expect("bob", true, get("home", "bob/notes"), list("home", "bob/", "/"))
		e.expect("bob", false, get("home", "alice/notes"), list("home", "alice/", ""))
	})

	t.Run("deny overrides allow", func(t *testing.T) {
		e.t = t
		// The group's Deny beats the reader's readonly Allow.
		e.expect("reader", false, get("shared", "secret/plans"), list("shared", "secret/", ""))
		e.expect("reader", true, get("shared", "doc"), list("shared", "", "/"))
		// A bucket policy Deny beats carol's readwrite Allow.
		if _, err := e.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(bucketPolicyNoDeleteCarol)}); err != nil {
			t.Fatal(err)
		}
		e.expect("carol", false, del("shared", "doc"))
		e.expect("carol", true, get("shared", "doc"), put("shared", "carol-still-writes"))
		// Bulk delete: each key is authorized; the denied one is reported and kept.
		out, err := e.user("carol").DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("shared"), Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("doc")}}}})
		if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
			t.Errorf("carol's DeleteObjects: %+v, %v", out, err)
		}
		if err := get("shared", "doc").run(ctx, e.root); err != nil {
			t.Errorf("a denied bulk delete deleted: %v", err)
		}
		if _, err := e.root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("shared")}); err != nil {
			t.Fatal(err)
		}
		e.expect("carol", true, put("shared", "tmp"), del("shared", "tmp"))
	})

	t.Run("disabled user", func(t *testing.T) {
		e.t = t
		must[*admin.User](t)(e.admin.SetUserStatus(ctx, "carol", admin.StatusDisabled))
		err := get("shared", "doc").run(ctx, e.user("carol"))
		if status(err) != http.StatusForbidden || code(err) != "InvalidAccessKeyId" {
			t.Errorf("disabled user: %v, want 403 InvalidAccessKeyId", err)
		}
		must[*admin.User](t)(e.admin.SetUserStatus(ctx, "carol", admin.StatusEnabled))
		e.expect("carol", true, get("shared", "doc"))
	})

	t.Run("restricted and expiring access keys", func(t *testing.T) {
		e.t = t
		// An inline policy restricts the key below the user's own permissions.
		ro := must[*admin.AccessKeyCredentials](t)(e.admin.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{
			User: "alice", Name: "read-only laptop", Policy: json.RawMessage(policyGetOnly)}))
		c := e.as(ro.AccessKey.AccessKey, ro.SecretKey)
		if err := get("home", "alice/notes").run(ctx, c); err != nil {
			t.Errorf("restricted key cannot read: %v", err)
		}
		if err := put("home", "alice/by-ro-key").run(ctx, c); status(err) != http.StatusForbidden {
			t.Errorf("restricted key writes: %v", err)
		}
		// …and never beyond the user's: the inline policy allows reading
		// everything, alice may not read bob's folder.
		if err := get("home", "bob/notes").run(ctx, c); status(err) != http.StatusForbidden {
			t.Errorf("restricted key reads beyond its user: %v", err)
		}

		exp := time.Now().Add(3 * time.Second)
		short := must[*admin.AccessKeyCredentials](t)(e.admin.CreateAccessKey(ctx, admin.CreateAccessKeyRequest{User: "alice", Expiration: &exp}))
		sc := e.as(short.AccessKey.AccessKey, short.SecretKey)
		if err := get("home", "alice/notes").run(ctx, sc); err != nil {
			t.Fatalf("fresh expiring key: %v", err)
		}
		time.Sleep(time.Until(exp) + 200*time.Millisecond)
		if err := get("home", "alice/notes").run(ctx, sc); status(err) != http.StatusForbidden {
			t.Errorf("expired key: %v, want 403", err)
		}
		k := must[*admin.AccessKey](t)(e.admin.GetAccessKey(ctx, short.AccessKey.AccessKey))
		if !k.Expired {
			t.Error("the admin API does not report the key expired")
		}
	})

	t.Run("presigned URLs carry the signer's permissions", func(t *testing.T) {
		e.t = t
		ps := s3.NewPresignClient(e.user("alice"))
		own := must[*v4Req](t)(presignGet(ctx, ps, "home", "alice/notes"))
		other := must[*v4Req](t)(presignGet(ctx, ps, "home", "bob/notes"))
		if st, body := fetch(t, own.URL); st != 200 || body != "content of home/alice/notes" {
			t.Errorf("presigned own object: %d %q", st, body)
		}
		if st, _ := fetch(t, other.URL); st != 403 {
			t.Errorf("presigned other's object: %d, want 403", st)
		}
	})

	t.Run("anonymous public-read prefix via bucket policy", func(t *testing.T) {
		e.t = t
		base := e.srv.URL + "/public/"
		if st, _ := fetch(t, base+"pub/index.html"); st != 403 {
			t.Errorf("anonymous read before any policy: %d, want 403", st)
		}
		if _, err := e.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("public"), Policy: aws.String(bucketPolicyPublic)}); err != nil {
			t.Fatal(err)
		}
		if st, body := fetch(t, base+"pub/index.html"); st != 200 || body != "content of public/pub/index.html" {
			t.Errorf("anonymous public read: %d %q", st, body)
		}
		for _, u := range []string{base + "private/ledger", base, base + "?list-type=2", e.srv.URL + "/", e.srv.URL + "/shared/doc"} {
			if st, _ := fetch(t, u); st != 403 {
				t.Errorf("anonymous GET %s: %d, want 403", u, st)
			}
		}
		req, _ := http.NewRequest(http.MethodPut, base+"pub/defaced.html", strings.NewReader("x"))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("anonymous PUT: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// Users still need their own permissions outside the public prefix.
		e.expect("nobody", true, get("public", "pub/index.html"))
		e.expect("nobody", false, get("public", "private/ledger"))

		// RestrictPublicBuckets shuts anonymous access off; BlockPublicPolicy
		// refuses public policies.
		_, err := e.root.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("public"),
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true), BlockPublicPolicy: aws.Bool(true)}})
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := fetch(t, base+"pub/index.html"); st != 403 {
			t.Errorf("anonymous read with RestrictPublicBuckets: %d, want 403", st)
		}
		_, err = e.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("public"), Policy: aws.String(bucketPolicyPublic)})
		if status(err) != 403 {
			t.Errorf("public policy with BlockPublicPolicy: %v, want 403", err)
		}
		if _, err := e.root.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("public")}); err != nil {
			t.Fatal(err)
		}
		if st, _ := fetch(t, base+"pub/index.html"); st != 200 {
			t.Errorf("anonymous read after removing the block: %d, want 200", st)
		}
		// Bucket policy and ACL answers as S3 gives them.
		got, err := e.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("public")})
		if err != nil || aws.ToString(got.Policy) != strings.TrimSpace(bucketPolicyPublic) {
			t.Errorf("GetBucketPolicy: %v", err)
		}
		if _, err := e.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("home")}); code(err) != "NoSuchBucketPolicy" {
			t.Errorf("GetBucketPolicy without one: %v", err)
		}
		_, err = e.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("home"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::home/*"}]}`)})
		if code(err) != "MalformedPolicy" {
			t.Errorf("malformed bucket policy: %v", err)
		}
		if _, err := e.root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("public"), ACL: types.BucketCannedACLPrivate}); err != nil {
			t.Errorf("PutBucketAcl private: %v", err)
		}
		if _, err := e.root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("public"), ACL: types.BucketCannedACLPublicRead}); code(err) != "AccessControlListNotSupported" {
			t.Errorf("PutBucketAcl public-read: %v", err)
		}
		acl, err := e.root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("public")})
		if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
			t.Errorf("GetBucketAcl: %+v, %v", acl, err)
		}
	})

	t.Run("admin API is for root and admins only", func(t *testing.T) {
		e.t = t
		k := e.keys["carol"] // readwrite: every S3 action, no admin action
		c, err := admin.New(e.srv.URL, admin.Options{AccessKey: k.AccessKey.AccessKey, SecretKey: k.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateUser(ctx, admin.CreateUserRequest{Name: "mallory"}); !isCode(err, admin.CodeAccessDenied) {
			t.Errorf("readwrite user creating users: %v", err)
		}
		if _, err := e.admin.GetUser(ctx, "mallory"); !admin.IsNotFound(err) {
			t.Errorf("denied admin call created a user: %v", err)
		}
		info := must[*admin.ServerInfo](t)(e.admin.Info(ctx))
		if info.Layout.DataShards != 4 || info.Layout.ParityShards != 2 || len(info.Drives) != 6 || info.Drives[0].State != "ok" {
			t.Errorf("Info: %+v", info)
		}
		for _, ak := range must[[]admin.AccessKey](t)(e.admin.ListAccessKeys(ctx, "")) {
			b, _ := json.Marshal(ak)
			for _, cred := range e.keys {
				if bytes.Contains(b, []byte(cred.SecretKey)) {
					t.Errorf("ListAccessKeys shows a secret: %s", b)
				}
			}
		}
	})

	// Everything survives a restart on the same drives.
	t.Run("restart", func(t *testing.T) {
		e.srv.Close()
		e2 := newEnv(t, dir)
		e2.keys = e.keys
		e2.expect("alice", true, get("home", "alice/notes"), list("home", "alice/", ""))
		e2.expect("alice", false, get("home", "bob/notes"))
		e2.expect("reader", false, get("shared", "secret/plans"))
		e2.expect("reader", true, get("shared", "doc"))
		if st, _ := fetch(t, e2.srv.URL+"/public/pub/index.html"); st != 200 {
			t.Errorf("public read after restart: %d", st)
		}
		if st, _ := fetch(t, e2.srv.URL+"/public/private/ledger"); st != 403 {
			t.Errorf("private read after restart: %d", st)
		}
	})
}

func isCode(err error, c string) bool {
	var ae *admin.Error
	return errors.As(err, &ae) && ae.Code == c
}

type v4Req struct{ URL string }

func presignGet(ctx context.Context, ps *s3.PresignClient, bucket, key string) (*v4Req, error) {
	r, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		return nil, err
	}
	return &v4Req{URL: r.URL}, nil
}

// fetch GETs url with plain net/http (no credentials) and returns status and body.
func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
