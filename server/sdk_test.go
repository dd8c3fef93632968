package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server/servertest"
)

// These tests drive a real in-process server with aws-sdk-go-v2, the way
// applications use Cairn.

func payload(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func getBody(t *testing.T, c *s3.Client, in *s3.GetObjectInput) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("get %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSDKObjectLifecycle(t *testing.T) {
	t.Parallel()
	for _, style := range []string{"path", "virtual-host"} {
		t.Run(style, func(t *testing.T) {
			opts := servertest.Options{Domain: "localhost"}
			srv := servertest.New(t, opts)
			c := srv.Client()
			if style == "virtual-host" {
				// bucket.localhost resolves to loopback on this machine's resolver
				// only sometimes; send to the listener and set Host via the endpoint.
				c = srv.Client(func(o *s3.Options) {
					o.UsePathStyle = false
					o.BaseEndpoint = aws.String("http://localhost:" + strings.Split(srv.Addr, ":")[1])
					o.HTTPClient = &http.Client{Transport: &http.Transport{
						DialContext: dialTo(srv.Addr),
					}}
				})
			}
			ctx := context.Background()
			mustBucket(t, c, "docs")
			data := payload(1, 300<<10)
			put, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt"), Body: bytes.NewReader(data),
				ContentType: aws.String("text/plain"), Metadata: map[string]string{"color": "blue"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("\"%x\"", md5.Sum(data)); aws.ToString(put.ETag) != want {
				t.Fatalf("etag %s want %s", aws.ToString(put.ETag), want)
			}
			got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt")})
			if !bytes.Equal(got, data) {
				t.Fatal("body differs")
			}
			got = getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt"), Range: aws.String("bytes=-10")})
			if !bytes.Equal(got, data[len(data)-10:]) {
				t.Fatal("suffix range differs")
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt")})
			if err != nil || aws.ToString(head.ContentType) != "text/plain" || head.Metadata["color"] != "blue" || aws.ToInt64(head.ContentLength) != int64(len(data)) {
				t.Fatalf("head %+v %v", head, err)
			}
			list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("docs"), Delimiter: aws.String("/")})
			if err != nil || len(list.CommonPrefixes) != 1 || aws.ToString(list.CommonPrefixes[0].Prefix) != "a/" {
				t.Fatalf("list %+v %v", list, err)
			}
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("docs")}); apiCode(err) != "BucketNotEmpty" {
				t.Fatalf("delete non-empty bucket: %v", err)
			}
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("a/b c+d.txt")}); apiCode(err) != "NoSuchKey" {
				t.Fatalf("get deleted: %v", err)
			}
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("docs")}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSDKPresigned(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	c := srv.Client()
	mustBucket(t, c, "share")
	ps := s3.NewPresignClient(c)
	ctx := context.Background()
	req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("share"), Key: aws.String("up/load.bin")}, s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	data := payload(2, 5000)
	hr, _ := http.NewRequest(http.MethodPut, req.URL, bytes.NewReader(data))
	for k, v := range req.SignedHeader {
		hr.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %v %v", err, resp)
	}
	resp.Body.Close()
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("share"), Key: aws.String("up/load.bin")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: %d", resp.StatusCode)
	}
	// Tampering with the URL breaks the signature.
	resp, err = http.Get(strings.Replace(get.URL, "load.bin", "load.bix", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("tampered presigned URL: %d", resp.StatusCode)
	}
	// More than 7 days is refused by the server.
	long, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("share"), Key: aws.String("up/load.bin")}, s3.WithPresignExpires(8*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(long.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 { // AuthorizationQueryParametersError, as S3
		t.Fatalf("presigned URL valid for 8 days: %d", resp.StatusCode)
	}
}

// dialTo sends every connection to addr, so virtual-host names need no DNS.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

func TestSDKMultipart(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	c := srv.Client()
	ctx := context.Background()
	mustBucket(t, c, "mpu")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), ContentType: aws.String("video/mp4")})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{payload(10, 5<<20), payload(11, 5<<20), payload(12, 777)}
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId})
	if err != nil || len(lp.Parts) != 3 {
		t.Fatalf("list parts %v %v", lp, err)
	}
	cmp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(aws.ToString(cmp.ETag), `"`), "-3") {
		t.Fatalf("etag %s", aws.ToString(cmp.ETag))
	}
	want := bytes.Join(parts, nil)
	if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")}); !bytes.Equal(got, want) {
		t.Fatal("multipart object differs")
	}
	if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), Range: aws.String("bytes=5242870-5242889")}); !bytes.Equal(got, want[5242870:5242890]) {
		t.Fatal("range across the part boundary differs")
	}
	// Copy a range of it into a new upload.
	up2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("copy")})
	cp, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("copy"), UploadId: up2.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String("mpu/big"), CopySourceRange: aws.String("bytes=100-1099")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("copy"), UploadId: up2.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: cp.CopyPartResult.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("copy")}); !bytes.Equal(got, want[100:1100]) {
		t.Fatal("UploadPartCopy range differs")
	}
	// Abort leaves no upload behind.
	up3, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone")})
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: up3.UploadId}); err != nil {
		t.Fatal(err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads left: %+v %v", lu, err)
	}
}

func TestSDKVersioning(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	c := srv.Client()
	ctx := context.Background()
	mustBucket(t, c, "ver")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 3; i++ {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), Body: strings.NewReader(fmt.Sprint("v", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc")})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("delete: %+v %v", del, err)
	}
	for i, id := range ids {
		if got := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: aws.String(id)}); string(got) != fmt.Sprint("v", i) {
			t.Fatalf("version %d: %q", i, got)
		}
	}
	vs, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if err != nil || len(vs.Versions) != 3 || len(vs.DeleteMarkers) != 1 || !aws.ToBool(vs.DeleteMarkers[0].IsLatest) {
		t.Fatalf("versions %+v %v", vs, err)
	}
	// Deleting every version and the marker empties the bucket.
	for _, v := range vs.Versions {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: v.Key, VersionId: v.VersionId}); err != nil {
			t.Fatal(err)
		}
	}
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("doc"), VersionId: vs.DeleteMarkers[0].VersionId})
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("ver")}); err != nil {
		t.Fatalf("delete emptied versioned bucket: %v", err)
	}
}

func TestSDKConditionalWrites(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	c := srv.Client()
	ctx := context.Background()
	mustBucket(t, c, "locks")
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locks"), Key: aws.String("lease"), Body: strings.NewReader(fmt.Sprint(i)), IfNoneMatch: aws.String("*")})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				codes["200"]++
			} else {
				codes[apiCode(err)]++
			}
		}()
	}
	wg.Wait()
	if codes["200"] != 1 || codes["PreconditionFailed"] != 49 {
		t.Fatalf("50 concurrent If-None-Match PUTs: %v", codes)
	}
	head, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locks"), Key: aws.String("lease")})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locks"), Key: aws.String("lease"), Body: strings.NewReader("x"), IfMatch: aws.String(`"0123"`)}); apiCode(err) != "PreconditionFailed" {
		t.Fatalf("If-Match mismatch: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locks"), Key: aws.String("lease"), Body: strings.NewReader("x"), IfMatch: head.ETag}); err != nil {
		t.Fatalf("If-Match match: %v", err)
	}
}

func TestSDKChecksums(t *testing.T) {
	t.Parallel()
	srv := servertest.New(t, servertest.Options{})
	c := srv.Client()
	ctx := context.Background()
	mustBucket(t, c, "sums")
	data := payload(5, 200<<10)
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		key := "k-" + string(alg)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(data), ChecksumAlgorithm: alg}); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		var got *string
		switch alg {
		case types.ChecksumAlgorithmCrc32:
			got = head.ChecksumCRC32
		case types.ChecksumAlgorithmCrc32c:
			got = head.ChecksumCRC32C
		case types.ChecksumAlgorithmSha1:
			got = head.ChecksumSHA1
		case types.ChecksumAlgorithmSha256:
			got = head.ChecksumSHA256
		case types.ChecksumAlgorithmCrc64nvme:
			got = head.ChecksumCRC64NVME
		}
		if aws.ToString(got) == "" {
			t.Fatalf("%s: checksum not returned", alg)
		}
	}
	// A wrong checksum is refused and nothing is stored.
	var sum [4]byte
	crc := crc32.ChecksumIEEE(data) + 1
	sum[0], sum[1], sum[2], sum[3] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad"), Body: bytes.NewReader(data), ChecksumCRC32: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
	if err == nil {
		t.Fatal("wrong CRC32 accepted")
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")}); err == nil {
		t.Fatal("object with wrong checksum stored")
	}
}
