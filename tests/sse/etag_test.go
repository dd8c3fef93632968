package sse

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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

// multipartETag is S3's ETag of a multipart object: the MD5 of its parts'
// binary MD5s, "-N".
func multipartETag(t *testing.T, partETags []string) string {
	t.Helper()
	h := md5.New()
	for _, e := range partETags {
		b, err := hex.DecodeString(strings.Trim(e, `"`))
		if err != nil || len(b) != md5.Size {
			t.Fatalf("part ETag %s is not a hex MD5", e)
		}
		h.Write(b)
	}
	return fmt.Sprintf(`"%x-%d"`, h.Sum(nil), len(partETags))
}

func md5ETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// TestSSEMultipartETags checks S3's multipart ETag rules through the AWS SDK.
// An SSE-S3 part's ETag is the hex MD5 of its plaintext, for UploadPart and for
// UploadPartCopy from a plaintext object; ListParts shows the same ETags,
// CompleteMultipartUpload takes them, and the object's ETag is the MD5 of the
// parts' binary MD5s, "-N" — what a client hashing its parts computes. SSE-KMS
// and SSE-C part ETags are not MD5s of the plaintext, and the object's ETag is
// the same formula over them. A wrong Content-MD5 is BadDigest for every kind
// (it is checked against the plaintext), and the drives hold no plaintext.
func TestSSEMultipartETags(t *testing.T) {
	srv := newServer(t)
	c := srv.Client()
	ctx := context.Background()
	const bucket = "mpetag"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// The plaintext copy source (it holds no marker: it is stored in the clear).
	src := randomBytes(5<<20 + 300)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain-src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	var markers []string
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			marker := fmt.Sprintf("CAIRN-MULTIPART-MARKER-%s-%x", k.name, randomBytes(6))
			markers = append(markers, marker)
			key := "mp-" + k.name
			cin := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
			k.mpu(cin)
			up, err := c.CreateMultipartUpload(ctx, cin)
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			// Part 1 uploaded, part 2 copied from bytes 100… of the plaintext
			// object, part 3 (the last, small) uploaded with Content-MD5.
			parts := [][]byte{marked(marker, 5<<20), src[100 : 100+5<<20], marked(marker, 70<<10+11)}
			uploadPart := func(n int32, body []byte, contentMD5 []byte) (*s3.UploadPartOutput, error) {
				in := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
					PartNumber: aws.Int32(n), Body: bytes.NewReader(body)}
				if contentMD5 != nil {
					in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(contentMD5))
				}
				k.part(in)
				return c.UploadPart(ctx, in)
			}
			etags := make([]string, len(parts))
			p1, err := uploadPart(1, parts[0], nil)
			if err != nil {
				t.Fatalf("UploadPart 1: %v", err)
			}
			etags[0] = aws.ToString(p1.ETag)
			pcin := &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(2), CopySource: aws.String(bucket + "/plain-src"),
				CopySourceRange: aws.String(fmt.Sprintf("bytes=100-%d", 100+5<<20-1))}
			k.copyPart(pcin)
			p2, err := c.UploadPartCopy(ctx, pcin)
			if err != nil {
				t.Fatalf("UploadPartCopy 2: %v", err)
			}
			etags[1] = aws.ToString(p2.CopyPartResult.ETag)
			wrong := md5.Sum([]byte("not the part"))
			if _, err := uploadPart(3, parts[2], wrong[:]); apiCode(err) != "BadDigest" {
				t.Fatalf("UploadPart 3 with a wrong Content-MD5: %v, want BadDigest", err)
			}
			right := md5.Sum(parts[2])
			p3, err := uploadPart(3, parts[2], right[:])
			if err != nil {
				t.Fatalf("UploadPart 3 with its Content-MD5: %v", err)
			}
			etags[2] = aws.ToString(p3.ETag)

			for i, e := range etags {
				plainMD5 := md5ETag(parts[i])
				if k.name == "SSE-S3" {
					if e != plainMD5 {
						t.Errorf("part %d: ETag %s, want the plaintext's MD5 %s", i+1, e, plainMD5)
					}
				} else if e == plainMD5 || len(e) != 34 {
					t.Errorf("part %d: ETag %s, want 32 hex digits that are not the plaintext's MD5", i+1, e)
				}
			}
			if etags[0] == etags[2] {
				t.Errorf("parts 1 and 3 have the same ETag %s", etags[0])
			}

			lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
			if err != nil {
				t.Fatalf("ListParts: %v", err)
			}
			if len(lp.Parts) != len(parts) {
				t.Fatalf("ListParts: %d parts, want %d", len(lp.Parts), len(parts))
			}
			done := make([]types.CompletedPart, len(parts))
			for i, p := range lp.Parts {
				if aws.ToInt32(p.PartNumber) != int32(i+1) || aws.ToString(p.ETag) != etags[i] || aws.ToInt64(p.Size) != int64(len(parts[i])) {
					t.Errorf("ListParts part %d: number %d, ETag %s, size %d; want ETag %s, size %d",
						i+1, aws.ToInt32(p.PartNumber), aws.ToString(p.ETag), aws.ToInt64(p.Size), etags[i], len(parts[i]))
				}
				done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: p.ETag}
			}

			out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
			})
			if err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			want := multipartETag(t, etags)
			if k.name == "SSE-S3" {
				// What a client computes from its plaintext parts alone.
				plain := make([]string, len(parts))
				for i, p := range parts {
					plain[i] = md5ETag(p)
				}
				want = multipartETag(t, plain)
			}
			if got := aws.ToString(out.ETag); got != want {
				t.Errorf("CompleteMultipartUpload: ETag %s, want %s", got, want)
			}

			whole := bytes.Join(parts, nil)
			gin := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
			k.get(gin)
			got, gout := getBytes(t, c, gin)
			if !bytes.Equal(got, whole) {
				t.Fatal("GET returned other bytes than the parts'")
			}
			if aws.ToString(gout.ETag) != want {
				t.Errorf("GET: ETag %s, want %s", aws.ToString(gout.ETag), want)
			}
			for _, n := range []int32{0, 2} { // the object, and one part: S3 sends the object's ETag for both
				hin := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
				if n > 0 {
					hin.PartNumber = aws.Int32(n)
				}
				k.head(hin)
				head, err := c.HeadObject(ctx, hin)
				if err != nil {
					t.Fatalf("HEAD partNumber=%d: %v", n, err)
				}
				if aws.ToString(head.ETag) != want || aws.ToInt32(head.PartsCount) != int32(len(parts)) {
					t.Errorf("HEAD partNumber=%d: ETag %s, %d parts; want %s, %d", n, aws.ToString(head.ETag), aws.ToInt32(head.PartsCount), want, len(parts))
				}
				if n > 0 && aws.ToInt64(head.ContentLength) != int64(len(parts[n-1])) {
					t.Errorf("HEAD partNumber=%d: Content-Length %d, want %d", n, aws.ToInt64(head.ContentLength), len(parts[n-1]))
				}
			}
			gin.PartNumber = aws.Int32(2)
			if got, _ := getBytes(t, c, gin); !bytes.Equal(got, parts[1]) {
				t.Error("GET partNumber=2 returned other bytes than the copied part's")
			}
			ain := &s3.GetObjectAttributesInput{Bucket: aws.String(bucket), Key: aws.String(key),
				ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectParts}}
			k.attr(ain)
			attrs, err := c.GetObjectAttributes(ctx, ain)
			if err != nil {
				t.Fatalf("GetObjectAttributes: %v", err)
			}
			if `"`+aws.ToString(attrs.ETag)+`"` != want || attrs.ObjectParts == nil || aws.ToInt32(attrs.ObjectParts.TotalPartsCount) != int32(len(parts)) {
				t.Errorf("GetObjectAttributes: ETag %s (unquoted), object parts %v; want %s, %d parts", aws.ToString(attrs.ETag), attrs.ObjectParts != nil, want, len(parts))
			}
		})
	}
	// The parts were stored encrypted.
	for _, m := range markers {
		scanDrives(t, srv.Drives, m)
	}
}
