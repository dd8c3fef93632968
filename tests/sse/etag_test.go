package sse

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// headerRecorder is the SDK's HTTP client, recording the request headers.
type headerRecorder struct {
	next s3.HTTPClient
	mu   sync.Mutex
	seen []http.Header
}

func (r *headerRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Clone())
	r.mu.Unlock()
	return r.next.Do(req)
}

// TestSSEETags checks S3's ETag rules through the AWS SDK, which sends no
// Content-MD5 with a PutObject (it sends a CRC32 checksum): an SSE-S3 object's
// ETag is the hex MD5 of its plaintext (PUT, HEAD, GET, and the destination of
// a copy); SSE-KMS and SSE-C ETags are not.
func TestSSEETags(t *testing.T) {
	srv := newServer(t)
	rec := &headerRecorder{}
	c := srv.Client(func(o *s3.Options) { rec.next, o.HTTPClient = o.HTTPClient, rec })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("etag")}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 70 << 10, 2<<20 + 12345} { // empty, one package, two, across erasure blocks
		body := randomBytes(size)
		sum := md5.Sum(body)
		want := `"` + hex.EncodeToString(sum[:]) + `"`
		for _, k := range kinds() {
			key := k.name + "/" + strings.Repeat("x", 1+size%7)
			in := &s3.PutObjectInput{Bucket: aws.String("etag"), Key: aws.String(key), Body: bytes.NewReader(body)}
			k.put(in)
			rec.seen = nil
			out, err := c.PutObject(ctx, in)
			if err != nil {
				t.Fatalf("%s %d bytes: %v", k.name, size, err)
			}
			if len(rec.seen) == 0 || rec.seen[len(rec.seen)-1].Get("Content-Md5") != "" {
				t.Fatalf("%s: the SDK sent Content-MD5 (or nothing was recorded)", k.name)
			}
			hin := &s3.HeadObjectInput{Bucket: aws.String("etag"), Key: aws.String(key)}
			k.head(hin)
			head, err := c.HeadObject(ctx, hin)
			if err != nil {
				t.Fatalf("%s %d bytes: HEAD: %v", k.name, size, err)
			}
			gin := &s3.GetObjectInput{Bucket: aws.String("etag"), Key: aws.String(key)}
			k.get(gin)
			got, gout := getBytes(t, c, gin)
			if !bytes.Equal(got, body) {
				t.Fatalf("%s %d bytes: GET returned other bytes", k.name, size)
			}
			etags := []string{aws.ToString(out.ETag), aws.ToString(head.ETag), aws.ToString(gout.ETag)}
			for _, e := range etags {
				if e != etags[0] {
					t.Errorf("%s %d bytes: ETags differ: PUT %s, HEAD %s, GET %s", k.name, size, etags[0], etags[1], etags[2])
				}
			}
			if k.name == "SSE-S3" {
				if etags[0] != want {
					t.Errorf("SSE-S3 %d bytes: ETag %s, want the plaintext's MD5 %s", size, etags[0], want)
				}
				continue
			}
			if etags[0] == want || len(etags[0]) != 34 {
				t.Errorf("%s %d bytes: ETag %s, want 32 hex digits that are not the plaintext's MD5", k.name, size, etags[0])
			}
		}
	}
	// A copy into SSE-S3 gets the plaintext's MD5 too, whatever the source's encryption.
	body := randomBytes(300 << 10)
	sum := md5.Sum(body)
	for _, k := range kinds() {
		in := &s3.PutObjectInput{Bucket: aws.String("etag"), Key: aws.String("src-" + k.name), Body: bytes.NewReader(body)}
		k.put(in)
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
		cin := &s3.CopyObjectInput{Bucket: aws.String("etag"), Key: aws.String("copy-" + k.name), CopySource: aws.String("etag/src-" + k.name)}
		k.src(cin)
		kinds()[0].dst(cin)
		out, err := c.CopyObject(ctx, cin)
		if err != nil {
			t.Fatalf("copy from %s: %v", k.name, err)
		}
		if got := aws.ToString(out.CopyObjectResult.ETag); got != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("copy from %s into SSE-S3: ETag %s, want the plaintext's MD5", k.name, got)
		}
	}
}
