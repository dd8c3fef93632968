package iam

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// bucketMap is a BucketConfigs over a map.
type bucketMap map[string]objects.BucketConfig

func (m bucketMap) BucketConfig(_ context.Context, b string) (objects.BucketConfig, error) {
	c, ok := m[b]
	if !ok {
		return objects.BucketConfig{}, objects.ErrBucketNotFound
	}
	return c, nil
}

func TestAuthorizer(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newMemBackend(), nil)
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	must[User](t)(s.CreateUser(ctx, "bob", nil))
	must[User](t)(s.CreateUser(ctx, "root-like", []string{PolicyAdmin}))
	must[PolicyInfo](t)(s.CreatePolicy(ctx, "home", []byte(docUserFolder)))
	must[Group](t)(s.CreateGroup(ctx, "readers", []string{"bob"}, []string{PolicyReadOnly}))
	must[User](t)(s.AttachUserPolicy(ctx, "alice", "home"))
	alice, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice"})
	bob, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "bob"})
	bobNarrow, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "bob", Policy: []byte(docReadPhotos)})
	adm, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "root-like"})

	buckets := bucketMap{
		bkt:        {Policy: docPublicRead},
		"photos":   {},
		"locked":   {Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::locked/*"}]}`, PublicAccessBlock: &objects.PublicAccessBlock{RestrictPublicBuckets: true}},
		"private":  {Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"s3:*","Resource":"arn:aws:s3:::private/*"}]}`},
		"iponly":   {Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::iponly/*","Condition":{"IpAddress":{"aws:SourceIp":"10.1.0.0/16"}}}]}`},
		"tlsonly":  {Policy: docRequireTLS},
		"listable": {Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::listable","Condition":{"StringEquals":{"s3:prefix":"public/"}}}]}`},
	}
	buckets["tlsonly"] = objects.BucketConfig{Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tlsonly","arn:aws:s3:::tlsonly/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`}
	a := NewAuthorizer(s, buckets, nil)

	cases := []struct {
		name  string
		req   Request
		allow bool
	}{
		{"root does anything", Request{Action: "s3:DeleteBucket", Bucket: "photos", AccessKey: testRootAK}, true},
		{"root administers", Request{Action: ActionAdminCreateUser, Resource: "*", AccessKey: testRootAK}, true},
		{"unknown key", Request{Action: "s3:GetObject", Bucket: "photos", Key: "x", AccessKey: "nope"}, false},
		{"alice in her folder", Request{Action: "s3:PutObject", Bucket: bkt, Key: "alice/x", AccessKey: alice.AccessKey}, true},
		{"alice outside her folder", Request{Action: "s3:PutObject", Bucket: bkt, Key: "bob/x", AccessKey: alice.AccessKey}, false},
		{"alice lists her prefix", Request{Action: "s3:ListBucket", Bucket: bkt, AccessKey: alice.AccessKey, Conditions: map[string]string{"s3:prefix": "alice/"}}, true},
		{"alice lists another prefix", Request{Action: "s3:ListBucket", Bucket: bkt, AccessKey: alice.AccessKey, Conditions: map[string]string{"S3:Prefix": "bob/"}}, false},
		{"alice reads public objects via the bucket policy", Request{Action: "s3:GetObject", Bucket: bkt, Key: "bob/x", AccessKey: alice.AccessKey}, true},
		{"alice is no admin", Request{Action: ActionAdminListUsers, Resource: "*", AccessKey: alice.AccessKey}, false},
		{"bob reads through his group", Request{Action: "s3:GetObject", Bucket: "photos", Key: "x", AccessKey: bob.AccessKey}, true},
		{"bob cannot write", Request{Action: "s3:PutObject", Bucket: "photos", Key: "x", AccessKey: bob.AccessKey}, false},
		{"bob denied by bucket policy despite group allow", Request{Action: "s3:GetObject", Bucket: "private", Key: "x", AccessKey: bob.AccessKey}, false},
		{"bob's narrow key reads photos", Request{Action: "s3:GetObject", Bucket: "photos", Key: "x", AccessKey: bobNarrow.AccessKey}, true},
		{"bob's narrow key cannot read elsewhere", Request{Action: "s3:GetObject", Bucket: "other", Key: "x", AccessKey: bobNarrow.AccessKey}, false},
		{"admin policy administers", Request{Action: ActionAdminCreateUser, Resource: "*", AccessKey: adm.AccessKey}, true},
		{"anonymous public read", Request{Action: "s3:GetObject", Bucket: bkt, Key: "x"}, true},
		{"anonymous write", Request{Action: "s3:PutObject", Bucket: bkt, Key: "x"}, false},
		{"anonymous on a bucket without policy", Request{Action: "s3:GetObject", Bucket: "photos", Key: "x"}, false},
		{"anonymous on a missing bucket", Request{Action: "s3:GetObject", Bucket: "missing", Key: "x"}, false},
		{"anonymous ListBuckets", Request{Action: "s3:ListAllMyBuckets"}, false},
		{"RestrictPublicBuckets blocks anonymous", Request{Action: "s3:GetObject", Bucket: "locked", Key: "x"}, false},
		{"anonymous from an allowed network", Request{Action: "s3:GetObject", Bucket: "iponly", Key: "x", SourceIP: netip.MustParseAddr("10.1.2.3")}, true},
		{"anonymous from another network", Request{Action: "s3:GetObject", Bucket: "iponly", Key: "x", SourceIP: netip.MustParseAddr("10.2.2.3")}, false},
		{"anonymous IPv4-mapped address", Request{Action: "s3:GetObject", Bucket: "iponly", Key: "x", SourceIP: netip.MustParseAddr("::ffff:10.1.2.3")}, true},
		{"TLS-only bucket over http", Request{Action: "s3:GetObject", Bucket: "tlsonly", Key: "x", AccessKey: bob.AccessKey}, false},
		{"TLS-only bucket over https", Request{Action: "s3:GetObject", Bucket: "tlsonly", Key: "x", AccessKey: bob.AccessKey, SecureTransport: true}, true},
		{"anonymous listing of the public prefix", Request{Action: "s3:ListBucket", Bucket: "listable", Conditions: map[string]string{"s3:prefix": "public/"}}, true},
		{"anonymous listing of the root", Request{Action: "s3:ListBucket", Bucket: "listable", Conditions: map[string]string{"s3:prefix": ""}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Authorize(ctx, tc.req)
			if tc.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tc.allow && !errors.Is(err, ErrAccessDenied) {
				t.Fatalf("error %v, want access denied", err)
			}
		})
	}

	// A bucket configuration that cannot be read is an error, not a decision.
	boom := errors.New("read quorum lost")
	a2 := NewAuthorizer(s, failingBuckets{boom}, nil)
	if err := a2.Authorize(ctx, Request{Action: "s3:GetObject", Bucket: "photos", Key: "x", AccessKey: bob.AccessKey}); !errors.Is(err, boom) {
		t.Errorf("with failing bucket configs: %v, want %v", err, boom)
	}
}

type failingBuckets struct{ err error }

func (f failingBuckets) BucketConfig(context.Context, string) (objects.BucketConfig, error) {
	return objects.BucketConfig{}, f.err
}
