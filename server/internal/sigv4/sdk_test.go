package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Cross-checks against aws-sdk-go-v2: what the SDK's signer and S3 client
// produce must verify, both when the request is handed to Verify directly
// and after it has crossed a real HTTP connection into net/http's server.

const (
	sdkAccessKey = "AKIDCAIRNTEST"
	sdkSecret    = "s3cr3t/with+odd=chars"
	sdkRegion    = "eu-central-1"
)

var sdkTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func sdkCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: sdkAccessKey, SecretAccessKey: sdkSecret}
}

func sdkVerifier(now time.Time) *Verifier {
	v := &Verifier{Creds: staticCreds{sdkAccessKey: sdkSecret}, Region: sdkRegion}
	if !now.IsZero() {
		v.Now = func() time.Time { return now }
	}
	return v
}

// s3Signer signs like the S3 client: the path is sent already escaped and is
// not escaped a second time.
var s3Signer = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// escapePath escapes an object key the way the AWS SDKs put it on the wire:
// everything except unreserved characters and '/'.
func escapePath(p string) string {
	var b []byte
	for _, seg := range strings.Split(p, "/") {
		if b != nil {
			b = append(b, '/')
		} else {
			b = []byte{}
		}
		b = uriEncode(b, seg)
	}
	return string(b)
}

// record is what the test server saw of one request.
type record struct {
	host   string
	path   string // as received
	header http.Header
	res    *Result
	body   []byte
	err    error // from Verify or from reading Body
}

// testServer verifies every request with v and records the outcome. Errors
// are answered with an S3 error document, so SDK clients see the code.
type testServer struct {
	*httptest.Server
	mu      sync.Mutex
	records []record
}

func newTestServer(t *testing.T, v *Verifier, useTLS bool) *testServer {
	ts := &testServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := record{host: r.Host, path: r.URL.EscapedPath(), header: r.Header.Clone()}
		rec.res, rec.err = v.Verify(r)
		if rec.err == nil {
			rec.body, rec.err = io.ReadAll(rec.res.Body)
			rec.res.Body.Close()
		}
		ts.mu.Lock()
		ts.records = append(ts.records, rec)
		ts.mu.Unlock()
		if rec.err != nil {
			code, status, ok := S3Code(rec.err)
			if !ok {
				code, status = "InternalError", http.StatusInternalServerError
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", code, code)
			return
		}
		if r.URL.Query().Has("list-type") {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
			return
		}
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		if r.Method == http.MethodGet {
			io.WriteString(w, "ok")
		}
	})
	if useTLS {
		ts.Server = httptest.NewTLSServer(h)
	} else {
		ts.Server = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) last(t *testing.T) record {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.records) == 0 {
		t.Fatal("the server saw no request")
	}
	return ts.records[len(ts.records)-1]
}

func (ts *testServer) send(t *testing.T, r *http.Request) record {
	t.Helper()
	resp, err := ts.Client().Do(r)
	if err != nil {
		t.Fatalf("sending request: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return ts.last(t)
}

type sdkCase struct {
	name    string
	method  string
	key     string // object key, escaped like the SDK does; "" = bucket request
	rawPath string // if set, sent as is instead of the escaped key
	query   string
	host    string // virtual host; "" = the server's address
	headers []string
	body    string
	payload string // x-amz-content-sha256; "" = SHA-256 of body
}

var sdkCases = []sdkCase{
	{name: "plain GET", method: "GET", key: "photos/2024/cat.jpg", payload: UnsignedPayload},
	{name: "space and unicode key", method: "GET", key: "dir/a b/ünï©ødé ключ 日本.txt"},
	{name: "plus percent tilde", method: "GET", key: "a+b%20c~d%/e"},
	{name: "reserved characters", method: "GET", key: "!$&'()*,;=:@[]{}\"<>^`|\\#?"},
	{name: "double slash and dot segments", method: "GET", key: "a//b/./c/../d/"},
	{name: "unescaped path as net/http sends it", method: "GET", rawPath: "/bkt/a+b,c=d;e@f:g$h"},
	{name: "query with several values", method: "GET", query: "list-type=2&prefix=b&prefix=a&prefix=a-b&prefix=a%2Fb&delimiter=%2F&start-after=x%20y&fetch-owner"},
	{name: "query with reserved and unicode", method: "GET", key: "k", query: "versionId=%E2%9C%93&q=a%2Bb&sp=a+b&tilde=~&star=%2A&empty="},
	{name: "subresource without value", method: "GET", query: "lifecycle"},
	{name: "virtual host", method: "GET", key: "key with space", host: "mybucket.s3.cairn.test:9000"},
	{name: "virtual host without port", method: "HEAD", key: "k", host: "mybucket.s3.cairn.test"},
	{name: "headers with spaces and multiple values", method: "GET", key: "k", headers: []string{
		"X-Amz-Meta-A", "  two   spaces  here ",
		"X-Amz-Meta-Multi", "v1",
		"X-Amz-Meta-Multi", "v2",
		"Range", "bytes=0-9",
		"If-None-Match", `"etag"`,
	}},
	{name: "PUT signed payload", method: "PUT", key: "up/load.bin", body: "hello, signed world", headers: []string{
		"Content-Type", "text/plain; charset=utf-8",
		"X-Amz-Meta-Color", "red",
		"X-Amz-Storage-Class", "STANDARD",
	}},
	{name: "PUT unsigned payload", method: "PUT", key: "up/unsigned", body: "hello, unsigned world", payload: UnsignedPayload},
	{name: "PUT empty signed payload", method: "PUT", key: "empty", body: ""},
	{name: "copy with source header", method: "PUT", key: "dst", headers: []string{"X-Amz-Copy-Source", "/src/a%20b%2Bc"}},
	{name: "POST multipart complete", method: "POST", key: "big", query: "uploadId=2~abc%2Fdef", body: "<CompleteMultipartUpload></CompleteMultipartUpload>"},
}

// build makes the request of c against base (the server URL).
func (c sdkCase) build(t *testing.T, base string) *http.Request {
	t.Helper()
	path := c.rawPath
	if path == "" {
		path = "/bkt"
		if c.host != "" {
			path = ""
		}
		if c.key != "" || c.host != "" {
			path += "/" + escapePath(c.key)
		}
	}
	u := base + path
	if c.query != "" {
		u += "?" + c.query
	}
	var body io.Reader
	if c.body != "" || c.method == "PUT" || c.method == "POST" {
		body = strings.NewReader(c.body)
	}
	r := newRequest(t, c.method, u, body, c.headers...)
	if c.host != "" {
		r.Host = c.host
	}
	payload := c.payload
	if payload == "" {
		s := sha256.Sum256([]byte(c.body))
		payload = hex.EncodeToString(s[:])
	}
	r.Header.Set("X-Amz-Content-Sha256", payload)
	return r
}

func TestSDKSignHTTP(t *testing.T) {
	ts := newTestServer(t, sdkVerifier(sdkTime.Add(2*time.Minute)), false)
	for _, tc := range sdkCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build(t, ts.URL)
			payload := r.Header.Get("X-Amz-Content-Sha256")
			if err := s3Signer.SignHTTP(context.Background(), sdkCreds(), r, payload, "s3", sdkRegion, sdkTime); err != nil {
				t.Fatal(err)
			}

			// Directly.
			res, err := sdkVerifier(sdkTime.Add(2 * time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s\nURL: %s", err, r.Header.Get("Authorization"), r.URL)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil || string(got) != tc.body {
				t.Fatalf("body = %q, %v; want %q", got, err, tc.body)
			}
			if res.AccessKey != sdkAccessKey {
				t.Fatalf("AccessKey = %q", res.AccessKey)
			}

			// Over the wire.
			if r.GetBody != nil {
				r.Body, _ = r.GetBody()
			}
			rec := ts.send(t, r)
			if rec.err != nil {
				t.Fatalf("server: %v\nrequest header: %v", rec.err, rec.header)
			}
			if string(rec.body) != tc.body || rec.res.AccessKey != sdkAccessKey {
				t.Fatalf("server got body %q as %q", rec.body, rec.res.AccessKey)
			}
		})
	}
}

func TestSDKPresignHTTP(t *testing.T) {
	ts := newTestServer(t, sdkVerifier(sdkTime.Add(time.Hour)), false)
	for _, tc := range sdkCases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build(t, ts.URL)
			r.Header.Del("X-Amz-Content-Sha256")
			q := r.URL.Query()
			q.Set("X-Amz-Expires", "7200")
			r.URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			signedURL, signedHeader, err := s3Signer.PresignHTTP(context.Background(), sdkCreds(), r, UnsignedPayload, "s3", sdkRegion, sdkTime)
			if err != nil {
				t.Fatal(err)
			}
			mk := func() *http.Request {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				pr, err := http.NewRequest(tc.method, signedURL, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, vs := range signedHeader {
					if strings.EqualFold(k, "host") {
						pr.Host = vs[0]
						continue
					}
					pr.Header[k] = vs
				}
				return pr
			}

			res, err := sdkVerifier(sdkTime.Add(time.Hour)).Verify(mk())
			if err != nil {
				t.Fatalf("Verify: %v\nURL: %s\nheaders: %v", err, signedURL, signedHeader)
			}
			if got, _ := io.ReadAll(res.Body); string(got) != tc.body || res.AccessKey != sdkAccessKey {
				t.Fatalf("body %q as %q", got, res.AccessKey)
			}
			rec := ts.send(t, mk())
			if rec.err != nil {
				t.Fatalf("server: %v\nURL: %s", rec.err, signedURL)
			}
		})
	}
}

// TestSDKS3Client drives the real S3 client against a TLS test server. Over
// TLS current SDKs upload with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32
// trailer, so this checks the decoder against the SDK's own encoder.
func TestSDKS3Client(t *testing.T) {
	ts := newTestServer(t, sdkVerifier(time.Time{}), true)
	ctx := context.Background()
	newClient := func(secret string, pathStyle bool, hc aws.HTTPClient, endpoint string) *s3.Client {
		return s3.New(s3.Options{
			Region:           sdkRegion,
			Credentials:      credentials.NewStaticCredentialsProvider(sdkAccessKey, secret, ""),
			HTTPClient:       hc,
			BaseEndpoint:     aws.String(endpoint),
			UsePathStyle:     pathStyle,
			RetryMaxAttempts: 1,
			// What config.LoadDefaultConfig gives current SDKs.
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		})
	}
	client := newClient(sdkSecret, true, ts.Client(), ts.URL)

	payload := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16+7) // ~200 KiB, several chunks
	crc32Of := func(data []byte, tab *crc32.Table) string {
		return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, tab)))
	}
	checkPutOf := func(t *testing.T, rec record, data []byte, trailer, sum string) {
		t.Helper()
		if rec.err != nil {
			t.Fatalf("server: %v", rec.err)
		}
		if !bytes.Equal(rec.body, data) {
			t.Fatalf("server got %d bytes, want %d", len(rec.body), len(data))
		}
		if rec.res.ContentLength != int64(len(data)) {
			t.Fatalf("ContentLength = %d", rec.res.ContentLength)
		}
		// Current SDKs upload over TLS with an unsigned payload and a
		// checksum trailer; make sure that path is what was exercised.
		if mode := rec.header.Get("X-Amz-Content-Sha256"); mode != StreamingUnsignedPayloadTrailer {
			t.Fatalf("x-amz-content-sha256 = %q, want %s", mode, StreamingUnsignedPayloadTrailer)
		}
		if got := rec.res.Trailer().Get(trailer); got != sum {
			t.Fatalf("trailer %s = %q, want %q (all: %v)", trailer, got, sum, rec.res.Trailer())
		}
	}
	checkPut := func(t *testing.T, rec record) {
		t.Helper()
		checkPutOf(t, rec, payload, "X-Amz-Checksum-Crc32", crc32Of(payload, crc32.IEEETable))
	}

	keys := []string{"plain.txt", "dir/a b+c%d~e.bin", "ünïcødé/日本語 ключ", "x!'()*&$,;=@:"}
	for _, key := range keys {
		t.Run("PutObject seekable "+key, func(t *testing.T) {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: bytes.NewReader(payload)})
			if err != nil {
				t.Fatal(err)
			}
			checkPut(t, ts.last(t))
		})
	}
	t.Run("PutObject unseekable", func(t *testing.T) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("bkt"), Key: aws.String("stream"),
			Body: io.MultiReader(bytes.NewReader(payload)), ContentLength: aws.Int64(int64(len(payload))),
		})
		if err != nil {
			t.Fatal(err)
		}
		checkPut(t, ts.last(t))
	})
	t.Run("PutObject CRC32C", func(t *testing.T) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("bkt"), Key: aws.String("crc32c"), Body: bytes.NewReader(payload),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		})
		if err != nil {
			t.Fatal(err)
		}
		checkPutOf(t, ts.last(t), payload, "X-Amz-Checksum-Crc32c", crc32Of(payload, crc32.MakeTable(crc32.Castagnoli)))
	})
	t.Run("PutObject large with Expect 100-continue", func(t *testing.T) {
		big := testPayload(3 << 20)
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big"), Body: bytes.NewReader(big)})
		if err != nil {
			t.Fatal(err)
		}
		rec := ts.last(t)
		checkPutOf(t, rec, big, "X-Amz-Checksum-Crc32", crc32Of(big, crc32.IEEETable))
		if rec.header.Get("Expect") != "100-continue" {
			t.Logf("note: the SDK sent no Expect header (%v)", rec.header.Get("Expect"))
		}
	})
	t.Run("PutObject empty", func(t *testing.T) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("empty"), Body: bytes.NewReader(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if rec := ts.last(t); rec.err != nil || len(rec.body) != 0 {
			t.Fatalf("server: %v, %d bytes", rec.err, len(rec.body))
		}
	})
	t.Run("GetObject range", func(t *testing.T) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a b"), Range: aws.String("bytes=0-9")})
		if err != nil {
			t.Fatal(err)
		}
		out.Body.Close()
	})
	t.Run("ListObjectsV2", func(t *testing.T) {
		_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a b/ü+"), Delimiter: aws.String("/"), StartAfter: aws.String("a b/x~y")})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("presigned GET and PUT", func(t *testing.T) {
		pc := s3.NewPresignClient(client)
		get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a b/ü+~%")})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(get.Method, get.URL, nil)
		r.Header = get.SignedHeader.Clone()
		if rec := ts.send(t, r); rec.err != nil || rec.res.AccessKey != sdkAccessKey {
			t.Fatalf("presigned GET: %v", rec.err)
		}
		put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("up load"), ContentType: aws.String("text/plain")})
		if err != nil {
			t.Fatal(err)
		}
		r, _ = http.NewRequest(put.Method, put.URL, strings.NewReader("presigned body"))
		for k, vs := range put.SignedHeader {
			if !strings.EqualFold(k, "host") {
				r.Header[k] = vs
			}
		}
		if rec := ts.send(t, r); rec.err != nil || string(rec.body) != "presigned body" {
			t.Fatalf("presigned PUT: %v, body %q", rec.err, rec.body)
		}
	})
	t.Run("virtual-host style", func(t *testing.T) {
		addr := ts.Listener.Addr().String()
		_, port, _ := net.SplitHostPort(addr)
		hc := &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}}
		vc := newClient(sdkSecret, false, hc, "https://s3.cairn.test:"+port)
		_, err := vc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("v host/ü"), Body: bytes.NewReader(payload)})
		if err != nil {
			t.Fatal(err)
		}
		rec := ts.last(t)
		checkPut(t, rec)
		if want := "bkt.s3.cairn.test:" + port; rec.host != want || rec.path != "/v%20host/%C3%BC" {
			t.Fatalf("server saw Host %q path %q, want %q and /v%%20host/%%C3%%BC", rec.host, rec.path, want)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		bad := newClient("not-the-secret", true, ts.Client(), ts.URL)
		_, err := bad.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
			t.Fatalf("err = %v, want SignatureDoesNotMatch", err)
		}
	})
}
