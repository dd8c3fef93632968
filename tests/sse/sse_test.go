package sse

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-io/cairn/server"
	"github.com/cairn-io/cairn/server/servertest"
)

func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newServer starts an in-process server with the built-in KMS. SSE-C over the
// test's plain HTTP is allowed here; process_test.go uses TLS as S3 requires.
func newServer(t *testing.T) *servertest.Server {
	return servertest.New(t, servertest.Options{KMS: server.KMSConfig{
		MasterKey: randomBytes(32), Keys: []string{"team-a"}, AllowHTTPCustomerKeys: true,
	}})
}

// marked returns n bytes of random data with marker written every 64 KiB.
func marked(marker string, n int) []byte {
	b := randomBytes(n)
	for i := 0; i+len(marker) <= n; i += 64 << 10 {
		copy(b[i:], marker)
	}
	return b
}

// scanDrives fails the test if any file on any drive contains marker.
func scanDrives(t *testing.T, drives []string, marker string) {
	t.Helper()
	files := 0
	for _, d := range drives {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("plaintext marker found in %s", p)
			}
			return nil
		})
	}
	if files == 0 {
		t.Fatal("no files on the drives")
	}
}

// customerKey is an SSE-C key and its headers' values.
type customerKey struct{ key, b64, md5 string }

func newCustomerKey() customerKey {
	k := randomBytes(32)
	sum := md5.Sum(k)
	return customerKey{key: string(k), b64: base64.StdEncoding.EncodeToString(k), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

// encKind is one kind of encryption as the SDK's inputs spell it.
type encKind struct {
	name string
	// set fills the destination encryption fields of any input; src the
	// copy-source ones.
	put  func(*s3.PutObjectInput)
	get  func(*s3.GetObjectInput)
	head func(*s3.HeadObjectInput)
	attr func(*s3.GetObjectAttributesInput)
	mpu  func(*s3.CreateMultipartUploadInput)
	part func(*s3.UploadPartInput)
	dst  func(*s3.CopyObjectInput)
	src  func(*s3.CopyObjectInput)
	// want checks the encryption a response reports.
	want func(t *testing.T, what string, sse types.ServerSideEncryption, kmsKey, ssecAlg *string)
	// copyPart fills the destination encryption fields of an UploadPartCopy.
	copyPart func(*s3.UploadPartCopyInput)
}

func kinds() []encKind {
	ck := newCustomerKey()
	none := func(*s3.GetObjectInput) {}
	return []encKind{
		{
			name: "SSE-S3",
			put:  func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 },
			get:  none, head: func(*s3.HeadObjectInput) {}, attr: func(*s3.GetObjectAttributesInput) {},
			mpu:  func(in *s3.CreateMultipartUploadInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 },
			part: func(*s3.UploadPartInput) {},
			dst:  func(in *s3.CopyObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 },
			src:  func(*s3.CopyObjectInput) {},
			want: func(t *testing.T, what string, sse types.ServerSideEncryption, _, _ *string) {
				if sse != types.ServerSideEncryptionAes256 {
					t.Errorf("%s: x-amz-server-side-encryption %q, want AES256", what, sse)
				}
			},
			copyPart: func(*s3.UploadPartCopyInput) {},
		},
		{
			name: "SSE-KMS",
			put: func(in *s3.PutObjectInput) {
				in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("team-a")
				in.SSEKMSEncryptionContext = aws.String(base64.StdEncoding.EncodeToString([]byte(`{"project":"cairn"}`)))
			},
			get: none, head: func(*s3.HeadObjectInput) {}, attr: func(*s3.GetObjectAttributesInput) {},
			mpu: func(in *s3.CreateMultipartUploadInput) {
				in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("team-a")
			},
			part: func(*s3.UploadPartInput) {},
			dst: func(in *s3.CopyObjectInput) {
				in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("team-a")
			},
			src: func(*s3.CopyObjectInput) {},
			want: func(t *testing.T, what string, sse types.ServerSideEncryption, kmsKey, _ *string) {
				if sse != types.ServerSideEncryptionAwsKms || aws.ToString(kmsKey) != "team-a" {
					t.Errorf("%s: encryption %q key %q, want aws:kms team-a", what, sse, aws.ToString(kmsKey))
				}
			},
			copyPart: func(*s3.UploadPartCopyInput) {},
		},
		{
			name: "SSE-C",
			put: func(in *s3.PutObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			get: func(in *s3.GetObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			head: func(in *s3.HeadObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			attr: func(in *s3.GetObjectAttributesInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			mpu: func(in *s3.CreateMultipartUploadInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			part: func(in *s3.UploadPartInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			dst: func(in *s3.CopyObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			src: func(in *s3.CopyObjectInput) {
				in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
			want: func(t *testing.T, what string, _ types.ServerSideEncryption, _, alg *string) {
				if aws.ToString(alg) != "AES256" {
					t.Errorf("%s: SSE-C algorithm %q, want AES256", what, aws.ToString(alg))
				}
			},
			copyPart: func(in *s3.UploadPartCopyInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(ck.b64), aws.String(ck.md5)
			},
		},
	}
}

func getBytes(t *testing.T, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s %v: %v", aws.ToString(in.Key), aws.ToString(in.Range), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}

// driveBytesRead sums cairn_drive_read_bytes_total from /metrics.
func driveBytesRead(t *testing.T, srv *servertest.Server) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+server.MetricsToken(srv.AccessKey, srv.SecretKey))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "cairn_drive_read_bytes_total{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSSEWithTheAWSSDK(t *testing.T) {
	srv := newServer(t)
	c := srv.Client()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("enc")}); err != nil {
		t.Fatal(err)
	}
	ks := kinds()
	var markers []string
	for i, k := range ks {
		t.Run(k.name, func(t *testing.T) {
			marker := fmt.Sprintf("CAIRN-PLAINTEXT-MARKER-%s-%x", k.name, randomBytes(6))
			markers = append(markers, marker)
			key := "obj-" + k.name
			body := marked(marker, 8<<20+12345)

			// PUT.
			pin := &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String(key), Body: bytes.NewReader(body)}
			k.put(pin)
			pout, err := c.PutObject(ctx, pin)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			k.want(t, "PUT", pout.ServerSideEncryption, pout.SSEKMSKeyId, pout.SSECustomerAlgorithm)

			// GET.
			gin := &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String(key)}
			k.get(gin)
			got, gout := getBytes(t, c, gin)
			if !bytes.Equal(got, body) {
				t.Fatalf("GET: %d bytes differ from the %d put", len(got), len(body))
			}
			k.want(t, "GET", gout.ServerSideEncryption, gout.SSEKMSKeyId, gout.SSECustomerAlgorithm)

			// Range GET: the bytes, and far fewer drive reads than the object.
			before := driveBytesRead(t, srv)
			gin.Range = aws.String("bytes=4000000-4000099")
			got, _ = getBytes(t, c, gin)
			if !bytes.Equal(got, body[4000000:4000100]) {
				t.Fatal("range GET returned the wrong bytes")
			}
			if read := driveBytesRead(t, srv) - before; read > 3<<20 {
				t.Errorf("a 100-byte range of an 8 MiB object read %.0f bytes from the drives", read)
			}
			gin.Range = nil

			// HEAD.
			hin := &s3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String(key)}
			k.head(hin)
			hout, err := c.HeadObject(ctx, hin)
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToInt64(hout.ContentLength) != int64(len(body)) {
				t.Errorf("HEAD Content-Length %d, want %d", aws.ToInt64(hout.ContentLength), len(body))
			}
			k.want(t, "HEAD", hout.ServerSideEncryption, hout.SSEKMSKeyId, hout.SSECustomerAlgorithm)

			// Copy into every kind (and plaintext).
			for _, to := range append(ks, encKind{name: "plain"}) {
				cin := &s3.CopyObjectInput{Bucket: aws.String("enc"), Key: aws.String("copy-" + k.name + "-to-" + to.name), CopySource: aws.String("enc/" + key)}
				k.src(cin)
				if to.dst != nil {
					to.dst(cin)
				}
				cout, err := c.CopyObject(ctx, cin)
				if err != nil {
					t.Fatalf("CopyObject to %s: %v", to.name, err)
				}
				if to.want != nil {
					to.want(t, "copy to "+to.name, cout.ServerSideEncryption, cout.SSEKMSKeyId, cout.SSECustomerAlgorithm)
				}
				g := &s3.GetObjectInput{Bucket: cin.Bucket, Key: cin.Key}
				if to.get != nil {
					to.get(g)
				}
				if got, _ := getBytes(t, c, g); !bytes.Equal(got, body) {
					t.Fatalf("copy %s → %s differs", k.name, to.name)
				}
				if to.name == "plain" {
					c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: cin.Bucket, Key: cin.Key}) // its plaintext is on disk
				}
			}

			// Multipart: two parts, GET across the boundary and part 2 alone.
			mkey := "mp-" + k.name
			min := &s3.CreateMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String(mkey)}
			k.mpu(min)
			mout, err := c.CreateMultipartUpload(ctx, min)
			if err != nil {
				t.Fatalf("CreateMultipartUpload: %v", err)
			}
			k.want(t, "CreateMultipartUpload", mout.ServerSideEncryption, mout.SSEKMSKeyId, mout.SSECustomerAlgorithm)
			parts := [][]byte{marked(marker, 5<<20), marked(marker, 1<<20+7)}
			var done []types.CompletedPart
			for i, p := range parts {
				uin := &s3.UploadPartInput{Bucket: aws.String("enc"), Key: aws.String(mkey), UploadId: mout.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)}
				k.part(uin)
				uout, err := c.UploadPart(ctx, uin)
				if err != nil {
					t.Fatalf("UploadPart %d: %v", i+1, err)
				}
				done = append(done, types.CompletedPart{ETag: uout.ETag, PartNumber: aws.Int32(int32(i + 1))})
			}
			lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("enc"), Key: aws.String(mkey), UploadId: mout.UploadId})
			if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != int64(len(parts[1])) {
				t.Fatalf("ListParts: %v", err)
			}
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("enc"), Key: aws.String(mkey), UploadId: mout.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
			}); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			whole := append(append([]byte(nil), parts[0]...), parts[1]...)
			g := &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String(mkey)}
			k.get(g)
			if got, _ := getBytes(t, c, g); !bytes.Equal(got, whole) {
				t.Fatal("multipart GET differs")
			}
			g.Range = aws.String(fmt.Sprintf("bytes=%d-%d", 5<<20-10, 5<<20+9))
			if got, _ := getBytes(t, c, g); !bytes.Equal(got, whole[5<<20-10:5<<20+10]) {
				t.Fatal("multipart range across parts differs")
			}
			g.Range, g.PartNumber = nil, aws.Int32(2)
			if got, _ := getBytes(t, c, g); !bytes.Equal(got, parts[1]) {
				t.Fatal("multipart GET ?partNumber=2 differs")
			}
			ain := &s3.GetObjectAttributesInput{Bucket: aws.String("enc"), Key: aws.String(mkey),
				ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesObjectSize}}
			k.attr(ain)
			attrs, err := c.GetObjectAttributes(ctx, ain)
			if err != nil {
				t.Fatalf("GetObjectAttributes: %v", err)
			}
			if aws.ToInt64(attrs.ObjectSize) != int64(len(whole)) || attrs.ObjectParts == nil || len(attrs.ObjectParts.Parts) != 2 ||
				aws.ToInt64(attrs.ObjectParts.Parts[1].Size) != int64(len(parts[1])) {
				t.Errorf("GetObjectAttributes: size %d, parts %+v", aws.ToInt64(attrs.ObjectSize), attrs.ObjectParts)
			}
			_ = i
		})
	}

	t.Run("wrong SSE-C key", func(t *testing.T) {
		other := newCustomerKey()
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String("obj-SSE-C"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other.b64), SSECustomerKeyMD5: aws.String(other.md5)})
		if apiCode(err) != "AccessDenied" {
			t.Fatalf("wrong key: %v, want AccessDenied", err)
		}
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String("obj-SSE-C")})
		if apiCode(err) != "InvalidRequest" {
			t.Fatalf("no key: %v, want InvalidRequest", err)
		}
	})

	t.Run("bucket default encryption", func(t *testing.T) {
		_, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("enc")})
		if apiCode(err) != "ServerSideEncryptionConfigurationNotFoundError" {
			t.Fatalf("GetBucketEncryption on none: %v", err)
		}
		if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("enc"),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
			}}}}); err != nil {
			t.Fatal(err)
		}
		ge, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("enc")})
		if err != nil || ge.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
			t.Fatalf("GetBucketEncryption: %v", err)
		}
		marker := "CAIRN-PLAINTEXT-MARKER-DEFAULT"
		markers = append(markers, marker)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("defaulted"), Body: bytes.NewReader(marked(marker, 1000))})
		if err != nil || out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("PUT under the default: %v %q", err, out.ServerSideEncryption)
		}
		if _, err := c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("enc")}); err != nil {
			t.Fatal(err)
		}
	})

	// Every file on every drive: no plaintext.
	for _, m := range markers {
		scanDrives(t, srv.Drives, m)
	}
}
