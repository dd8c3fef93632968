package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// flakyKMS is a KMS that can be switched off.
type flakyKMS struct {
	kms.KMS
	down atomic.Bool
}

func (f *flakyKMS) GenerateKey(ctx context.Context, id string, enc kms.Context) (kms.DataKey, error) {
	if f.down.Load() {
		return kms.DataKey{}, kms.ErrUnavailable
	}
	return f.KMS.GenerateKey(ctx, id, enc)
}

func (f *flakyKMS) Decrypt(ctx context.Context, id string, ct []byte, enc kms.Context) ([]byte, error) {
	if f.down.Load() {
		return nil, kms.ErrUnavailable
	}
	return f.KMS.Decrypt(ctx, id, ct, enc)
}

// countingLayer counts the stored bytes GETs read through the object layer.
type countingLayer struct {
	ObjectLayer
	read atomic.Int64
}

func (c *countingLayer) OpenObject(ctx context.Context, bucket, key string, opts objects.GetOptions) (objects.Object, error) {
	o, err := c.ObjectLayer.OpenObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	return &countingObject{Object: o, n: &c.read}, nil
}

type countingObject struct {
	objects.Object
	n *atomic.Int64
}

func (o *countingObject) WriteRange(ctx context.Context, w io.Writer, off, n int64) error {
	o.n.Add(n)
	return o.Object.WriteRange(ctx, w, off, n)
}

type sseFixture struct {
	*s3
	layer *countingLayer
	real  *objects.Layer
	kms   *flakyKMS
}

func newSSE(t *testing.T, allowHTTP bool) *sseFixture {
	t.Helper()
	mk := make([]byte, 32)
	rand.Read(mk)
	b, err := kms.NewBuiltin(context.Background(), kms.BuiltinConfig{MasterKey: mk, Keys: []string{"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &sseFixture{kms: &flakyKMS{KMS: b}}
	f.s3 = newS3(t, func(c *Config) {
		f.real = c.Objects.(*objects.Layer)
		f.layer = &countingLayer{ObjectLayer: c.Objects}
		c.Objects = f.layer
		c.SSE = sse.New(sse.Config{KMS: f.kms, AllowHTTPCustomerKeys: allowHTTP})
	})
	f.mkBucket("enc")
	return f
}

func ssecHeaders(key []byte) map[string]string {
	sum := md5.Sum(key)
	return map[string]string{
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       base64.StdEncoding.EncodeToString(key),
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   base64.StdEncoding.EncodeToString(sum[:]),
	}
}

func TestSSERangeGETReadsOnlyTheNeededPackages(t *testing.T) {
	f := newSSE(t, false)
	body := make([]byte, 3<<20)
	rand.Read(body)
	f.put("enc", "big", body, map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}).
		header(t, "X-Amz-Server-Side-Encryption", "AES256")
	f.layer.read.Store(0)
	r := f.do(call{method: "GET", target: "/enc/big", header: map[string]string{"Range": "bytes=1500000-1500099"}}).ok(t, 206)
	if !bytes.Equal(r.body, body[1500000:1500100]) {
		t.Fatal("range GET returned the wrong bytes")
	}
	// The header and the one package that holds the range.
	if got, limit := f.layer.read.Load(), int64(sse.HeaderSize+sse.PackageSize+sse.TagSize); got > limit {
		t.Fatalf("a 100-byte range read %d stored bytes, more than %d", got, limit)
	}
	f.layer.read.Store(0)
	r = f.do(call{method: "GET", target: "/enc/big"}).ok(t, 200)
	if !bytes.Equal(r.body, body) || r.Header.Get("Content-Length") != "3145728" {
		t.Fatalf("whole GET: %d bytes, Content-Length %s", len(r.body), r.Header.Get("Content-Length"))
	}
	if got := f.layer.read.Load(); got != sse.EncryptedSize(int64(len(body))) {
		t.Fatalf("whole GET read %d stored bytes, want %d", got, sse.EncryptedSize(int64(len(body))))
	}
}

func TestSSESealedKeyMovedToAnotherObjectIsRefused(t *testing.T) {
	f := newSSE(t, true)
	ctx := context.Background()
	ckey := make([]byte, 32)
	rand.Read(ckey)
	for _, c := range []struct {
		name   string
		put    map[string]string
		get    map[string]string
		status int
		code   string
	}{
		{"SSE-S3", map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}, nil, 500, "InternalError"},
		{"SSE-KMS", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "team-a"}, nil, 500, "InternalError"},
		{"SSE-C", ssecHeaders(ckey), ssecHeaders(ckey), 403, "AccessDenied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			secret := []byte("the secret of " + c.name + strings.Repeat("!", 1000))
			f.put("enc", "a-"+c.name, secret, c.put)
			f.put("enc", "b-"+c.name, []byte("other"), c.put)
			// Copy a's stored bytes and internal metadata (sealed key and all)
			// over b, as someone with access to the drives could.
			obj, err := f.real.OpenObject(ctx, "enc", "a-"+c.name, objects.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			info := obj.Info()
			var stored bytes.Buffer
			if err := obj.WriteRange(ctx, &stored, 0, info.StoredSize); err != nil {
				t.Fatal(err)
			}
			obj.Close()
			if bytes.Contains(stored.Bytes(), secret[:20]) {
				t.Fatal("plaintext stored")
			}
			if _, err := f.real.PutObject(ctx, "enc", "b-"+c.name, &stored, objects.PutOptions{
				Size: info.StoredSize, ActualSize: info.Size, ETag: info.ETag, Internal: info.Internal,
			}); err != nil {
				t.Fatal(err)
			}
			r := f.do(call{method: "GET", target: "/enc/b-" + c.name, header: c.get}).s3err(t, c.status, c.code)
			if bytes.Contains(r.body, secret[:20]) {
				t.Fatal("moved key decrypted")
			}
			// a still reads.
			if r := f.do(call{method: "GET", target: "/enc/a-" + c.name, header: c.get}).ok(t, 200); !bytes.Equal(r.body, secret) {
				t.Fatal("a no longer reads")
			}
		})
	}
}

func TestSSEKMSDown(t *testing.T) {
	f := newSSE(t, false)
	sseS3 := map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}
	f.put("enc", "before", []byte("encrypted before"), sseS3)
	f.kms.down.Store(true)
	f.do(call{method: "PUT", target: "/enc/during", body: []byte("x"), header: sseS3}).s3err(t, 500, "KMS.KMSInternalError")
	f.do(call{method: "HEAD", target: "/enc/during"}).ok(t, 404) // nothing written
	f.do(call{method: "GET", target: "/enc/before"}).s3err(t, 500, "KMS.KMSInternalError")
	f.do(call{method: "POST", target: "/enc/mp?uploads", header: sseS3}).s3err(t, 500, "KMS.KMSInternalError")
	// Plain requests keep working.
	f.put("enc", "plain", []byte("plain"), nil)
	if r := f.do(call{method: "GET", target: "/enc/plain"}).ok(t, 200); string(r.body) != "plain" {
		t.Fatal("plain GET")
	}
	f.kms.down.Store(false)
	if r := f.do(call{method: "GET", target: "/enc/before"}).ok(t, 200); string(r.body) != "encrypted before" {
		t.Fatal("GET after the KMS came back")
	}
}

func TestSSEBucketDefaultEncryption(t *testing.T) {
	f := newSSE(t, false)
	f.do(call{method: "GET", target: "/enc?encryption"}).s3err(t, 404, "ServerSideEncryptionConfigurationNotFoundError")
	f.do(call{method: "PUT", target: "/enc?encryption", body: []byte("<nope")}).s3err(t, 400, "MalformedXML")
	cfg := `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>team-a</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
	f.do(call{method: "PUT", target: "/enc?encryption", body: []byte(cfg)}).ok(t, 200)
	if r := f.do(call{method: "GET", target: "/enc?encryption"}).ok(t, 200); !strings.Contains(string(r.body), "<KMSMasterKeyID>team-a</KMSMasterKeyID>") {
		t.Fatalf("GetBucketEncryption: %s", r.body)
	}
	r := f.put("enc", "defaulted", []byte("hello"), nil)
	r.header(t, "X-Amz-Server-Side-Encryption", "aws:kms")
	r.header(t, "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "team-a")
	f.do(call{method: "HEAD", target: "/enc/defaulted"}).ok(t, 200).header(t, "X-Amz-Server-Side-Encryption", "aws:kms")
	// Headers win over the default.
	f.put("enc", "s3", []byte("hello"), map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}).
		header(t, "X-Amz-Server-Side-Encryption", "AES256")
	f.do(call{method: "DELETE", target: "/enc?encryption"}).ok(t, 204)
	f.do(call{method: "GET", target: "/enc?encryption"}).s3err(t, 404, "ServerSideEncryptionConfigurationNotFoundError")
	f.put("enc", "plain", []byte("hello"), nil).header(t, "X-Amz-Server-Side-Encryption", "")
	// Unknown KMS key: 400 from the KMS.
	f.do(call{method: "PUT", target: "/enc/nokey", body: []byte("x"), header: map[string]string{
		"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "no-such-key",
	}}).s3err(t, 400, "KMS.NotFoundException")
}

func TestSSECustomerKeyRules(t *testing.T) {
	ckey := make([]byte, 32)
	rand.Read(ckey)
	plainHTTP := newSSE(t, false)
	plainHTTP.do(call{method: "PUT", target: "/enc/x", body: []byte("x"), header: ssecHeaders(ckey)}).s3err(t, 400, "InvalidRequest")

	f := newSSE(t, true)
	f.put("enc", "c", []byte("customer data"), ssecHeaders(ckey)).
		header(t, "X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256")
	f.do(call{method: "GET", target: "/enc/c"}).s3err(t, 400, "InvalidRequest")
	f.do(call{method: "HEAD", target: "/enc/c"}).ok(t, 400)
	other := make([]byte, 32)
	rand.Read(other)
	f.do(call{method: "GET", target: "/enc/c", header: ssecHeaders(other)}).s3err(t, 403, "AccessDenied")
	f.do(call{method: "HEAD", target: "/enc/c", header: ssecHeaders(other)}).ok(t, 403)
	r := f.do(call{method: "GET", target: "/enc/c", header: ssecHeaders(ckey)}).ok(t, 200)
	if string(r.body) != "customer data" {
		t.Fatal("SSE-C GET")
	}
	r.header(t, "X-Amz-Server-Side-Encryption-Customer-Key-Md5", ssecHeaders(ckey)["X-Amz-Server-Side-Encryption-Customer-Key-Md5"])
	// SSE-C headers for a plaintext object.
	f.put("enc", "p", []byte("plain"), nil)
	f.do(call{method: "GET", target: "/enc/p", header: ssecHeaders(ckey)}).s3err(t, 400, "InvalidRequest")
}

func TestSSEContentMD5AndETag(t *testing.T) {
	f := newSSE(t, true)
	body := []byte("checked body")
	h := map[string]string{"X-Amz-Server-Side-Encryption": "AES256", "Content-Md5": md5Header(body)}
	f.put("enc", "m", body, h).header(t, "ETag", `"`+md5Hex(body)+`"`)
	h["Content-Md5"] = md5Header([]byte("something else"))
	f.do(call{method: "PUT", target: "/enc/m2", body: body, header: h}).s3err(t, 400, "BadDigest")
	f.do(call{method: "HEAD", target: "/enc/m2"}).ok(t, 404)
	// SSE-S3: the ETag is the plaintext's MD5 without Content-MD5 too, bound
	// after the body was read; SSE-KMS and SSE-C ETags are not MD5s (as S3).
	f.put("enc", "nomd5", body, map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}).header(t, "ETag", `"`+md5Hex(body)+`"`)
	f.do(call{method: "HEAD", target: "/enc/nomd5"}).ok(t, 200).header(t, "ETag", `"`+md5Hex(body)+`"`)
	f.put("enc", "empty", nil, map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}).header(t, "ETag", `"`+md5Hex(nil)+`"`)
	ckey := make([]byte, 32)
	rand.Read(ckey)
	for name, h := range map[string]map[string]string{
		"kms": {"X-Amz-Server-Side-Encryption": "aws:kms"},
		"c":   ssecHeaders(ckey),
	} {
		r := f.put("enc", "etag-"+name, body, h)
		if got := r.Header.Get("ETag"); got == `"`+md5Hex(body)+`"` || len(got) != 34 {
			t.Errorf("%s: ETag %s, want 32 hex digits that are not the MD5", name, got)
		}
	}
	// Checksums are of the plaintext.
	f.put("enc", "crc", body, map[string]string{"X-Amz-Server-Side-Encryption": "AES256", "X-Amz-Checksum-Crc32": crc32Header(body)})
	f.do(call{method: "HEAD", target: "/enc/crc", header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200).
		header(t, "X-Amz-Checksum-Crc32", crc32Header(body))
}

// Part ETags of encrypted uploads: an SSE-S3 part's is its plaintext's MD5
// (UploadPart with or without Content-MD5, and UploadPartCopy), so the object's
// is S3's "-N" ETag over the plaintext; an SSE-KMS or SSE-C part's is not the
// plaintext's MD5. A wrong Content-MD5 is BadDigest for every kind.
func TestSSEPartETags(t *testing.T) {
	f := newSSE(t, true)
	f.put("enc", "src", []byte("0123456789abcdefghij"), nil)
	ckey := make([]byte, 32)
	rand.Read(ckey)
	for _, c := range []struct {
		name    string
		headers map[string]string // CreateMultipartUpload
		part    map[string]string // UploadPart, UploadPartCopy
	}{
		{"SSE-S3", map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}, nil},
		{"SSE-KMS", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms"}, nil},
		{"SSE-C", ssecHeaders(ckey), ssecHeaders(ckey)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var init struct {
				UploadID string `xml:"UploadId"`
			}
			f.do(call{method: "POST", target: "/enc/mp-" + c.name + "?uploads", header: c.headers}).ok(t, 200).decode(t, &init)
			target := func(n int) string {
				return fmt.Sprintf("/enc/mp-%s?partNumber=%d&uploadId=%s", c.name, n, init.UploadID)
			}
			with := func(extra map[string]string) map[string]string {
				h := maps.Clone(c.part)
				if h == nil {
					h = map[string]string{}
				}
				maps.Copy(h, extra)
				return h
			}
			p1 := bytes.Repeat([]byte("part one "), (5<<20)/9+1)
			f.do(call{method: "PUT", target: target(1), body: p1, header: with(map[string]string{"Content-Md5": md5Header([]byte("other"))})}).s3err(t, 400, "BadDigest")
			e1 := f.do(call{method: "PUT", target: target(1), body: p1, header: with(map[string]string{"Content-Md5": md5Header(p1)})}).ok(t, 200).Header.Get("ETag")
			// Uploaded again, without Content-MD5: an SSE-S3 part has the same
			// ETag; the others name this upload of the part (a fresh salt).
			again := f.do(call{method: "PUT", target: target(1), body: p1, header: c.part}).ok(t, 200).Header.Get("ETag")
			if (again == e1) != (c.name == "SSE-S3") {
				t.Errorf("part 1 uploaded again: ETag %s, before %s", again, e1)
			}
			e1 = again
			var cp struct{ ETag string }
			f.do(call{method: "PUT", target: target(2), header: with(map[string]string{"X-Amz-Copy-Source": "/enc/src", "X-Amz-Copy-Source-Range": "bytes=10-19"})}).ok(t, 200).decode(t, &cp)
			plain := [][]byte{p1, []byte("abcdefghij")}
			etags := []string{e1, cp.ETag}
			for i, e := range etags {
				if isMD5 := e == `"`+md5Hex(plain[i])+`"`; isMD5 != (c.name == "SSE-S3") || len(e) != 34 {
					t.Errorf("part %d: ETag %s; the plaintext's MD5 is %s", i+1, e, md5Hex(plain[i]))
				}
			}
			var lp struct{ Part []struct{ ETag string } }
			f.do(call{method: "GET", target: "/enc/mp-" + c.name + "?uploadId=" + init.UploadID}).ok(t, 200).decode(t, &lp)
			if len(lp.Part) != 2 || lp.Part[0].ETag != etags[0] || lp.Part[1].ETag != etags[1] {
				t.Errorf("ListParts: %+v, want ETags %v", lp.Part, etags)
			}
			body := fmt.Sprintf("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>", etags[0], etags[1])
			var res struct{ ETag string }
			f.do(call{method: "POST", target: "/enc/mp-" + c.name + "?uploadId=" + init.UploadID, body: []byte(body)}).ok(t, 200).decode(t, &res)
			h := md5.New()
			for _, e := range etags {
				b, _ := hex.DecodeString(strings.Trim(e, `"`))
				h.Write(b)
			}
			if want := fmt.Sprintf(`"%x-2"`, h.Sum(nil)); res.ETag != want {
				t.Errorf("object ETag %s, want %s", res.ETag, want)
			}
			if r := f.do(call{method: "GET", target: "/enc/mp-" + c.name, header: c.part}).ok(t, 200); !bytes.Equal(r.body, bytes.Join(plain, nil)) {
				t.Error("GET returned other bytes than the parts'")
			}
		})
	}
}
