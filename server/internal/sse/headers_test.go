package sse

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	ctxB64 := base64.StdEncoding.EncodeToString([]byte(`{"dept":"eng"}`))
	_, ch := customer(t)
	for _, c := range []struct {
		name string
		h    map[string]string
		kind Kind
		err  error
	}{
		{"none", nil, None, nil},
		{"sse-s3", map[string]string{HeaderSSE: "AES256"}, S3, nil},
		{"sse-kms", map[string]string{HeaderSSE: "aws:kms", HeaderKMSKeyID: "k1", HeaderContext: ctxB64}, KMS, nil},
		{"dsse", map[string]string{HeaderSSE: "aws:kms:dsse"}, None, ErrNotImplemented},
		{"unknown alg", map[string]string{HeaderSSE: "AES128"}, None, ErrInvalidHeaders},
		{"key id without kms", map[string]string{HeaderKMSKeyID: "k1"}, None, ErrInvalidHeaders},
		{"key id with AES256", map[string]string{HeaderSSE: "AES256", HeaderKMSKeyID: "k1"}, None, ErrInvalidHeaders},
		{"bad context", map[string]string{HeaderSSE: "aws:kms", HeaderContext: "!!"}, None, ErrInvalidHeaders},
		{"context not strings", map[string]string{HeaderSSE: "aws:kms", HeaderContext: base64.StdEncoding.EncodeToString([]byte(`{"a":1}`))}, None, ErrInvalidHeaders},
		{"reserved context", map[string]string{HeaderSSE: "aws:kms", HeaderContext: base64.StdEncoding.EncodeToString([]byte(`{"aws:s3:arn":"x"}`))}, None, ErrInvalidHeaders},
		{"sse-c", map[string]string{HeaderCustomerAlg: ch.Get(HeaderCustomerAlg), HeaderCustomerKey: ch.Get(HeaderCustomerKey), HeaderCustomerMD5: ch.Get(HeaderCustomerMD5)}, C, nil},
		{"sse-c bad md5", map[string]string{HeaderCustomerAlg: "AES256", HeaderCustomerKey: ch.Get(HeaderCustomerKey), HeaderCustomerMD5: "AAAAAAAAAAAAAAAAAAAAAA=="}, None, ErrInvalidHeaders},
		{"sse-c short key", map[string]string{HeaderCustomerAlg: "AES256", HeaderCustomerKey: "AAAA", HeaderCustomerMD5: ch.Get(HeaderCustomerMD5)}, None, ErrInvalidHeaders},
		{"sse-c no alg", map[string]string{HeaderCustomerKey: ch.Get(HeaderCustomerKey), HeaderCustomerMD5: ch.Get(HeaderCustomerMD5)}, None, ErrInvalidHeaders},
		{"sse-c and sse-s3", map[string]string{HeaderSSE: "AES256", HeaderCustomerAlg: "AES256", HeaderCustomerKey: ch.Get(HeaderCustomerKey), HeaderCustomerMD5: ch.Get(HeaderCustomerMD5)}, None, ErrInvalidHeaders},
	} {
		h := http.Header{}
		for k, v := range c.h {
			h.Set(k, v)
		}
		p, err := ParseHeaders(h)
		if !errors.Is(err, c.err) || (err == nil && p.Kind != c.kind) {
			t.Errorf("%s: kind %v err %v, want %v %v", c.name, p.Kind, err, c.kind, c.err)
		}
		var se *Error
		if err != nil && (!errors.As(err, &se) || se.Message == "" || strings.Contains(se.Message, ch.Get(HeaderCustomerKey))) {
			t.Errorf("%s: error %v has no client message, or leaks the key", c.name, err)
		}
	}
	// Copy-source variants.
	h := http.Header{}
	for _, n := range []string{HeaderCustomerAlg, HeaderCustomerKey, HeaderCustomerMD5} {
		h.Set(strings.Replace(n, "X-Amz-", "X-Amz-Copy-Source-", 1), ch.Get(n))
	}
	if p, err := ParseCopySourceHeaders(h); err != nil || p.Kind != C {
		t.Fatalf("copy source: %v %v", p.Kind, err)
	}
	if p, err := ParseHeaders(h); err != nil || p.Kind != None {
		t.Fatalf("copy-source headers are not the destination's: %v %v", p.Kind, err)
	}
}

func TestBucketConfig(t *testing.T) {
	good := `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>team-a</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
	c, err := ParseBucketConfig([]byte(good))
	if err != nil || c.Kind != KMS || c.KeyID != "team-a" || !c.BucketKey {
		t.Fatalf("%+v %v", c, err)
	}
	again, err := ParseBucketConfig(c.Marshal())
	if err != nil || again != c {
		t.Fatalf("Marshal round trip: %+v %v", again, err)
	}
	for _, bad := range []string{
		`<x/>`, `not xml`,
		`<ServerSideEncryptionConfiguration></ServerSideEncryptionConfiguration>`,
		`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`,
		`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>x</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`,
	} {
		if _, err := ParseBucketConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
