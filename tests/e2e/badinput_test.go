package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-io/cairn/server/servertest"
)

// rawClient sends hand-built SigV4-signed requests, for what an SDK will not send.
type rawClient struct {
	p      *servertest.Process
	signer *v4.Signer
	hc     *http.Client
}

func newRawClient(p *servertest.Process) *rawClient {
	return &rawClient{p: p, signer: v4.NewSigner(), hc: &http.Client{Timeout: time.Minute}}
}

// unsignedPayload is the X-Amz-Content-Sha256 of a request whose body is not signed.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// request builds a signed request for target (escaped path and optional ?query)
// with Content-Length len(body). payloadHash is the X-Amz-Content-Sha256 to sign:
// "" means the SHA-256 of body.
func (rc *rawClient) request(t *testing.T, method, target string, hdr http.Header, body []byte, payloadHash string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rc.p.URL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	rc.sign(t, req, body, payloadHash)
	return req
}

func (rc *rawClient) sign(t *testing.T, req *http.Request, body []byte, payloadHash string) {
	t.Helper()
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: rc.p.AccessKey, SecretAccessKey: rc.p.SecretKey}
	err := rc.signer.SignHTTP(context.Background(), creds, req, payloadHash, "s3", rc.p.Region, time.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
}

// rawResponse is a complete response.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// errorDoc is the S3 error document.
type errorDoc struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
}

func (rc *rawClient) do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := rc.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the response: %v", req.Method, req.URL.RequestURI(), err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// send builds, signs and sends a request with a complete body.
func (rc *rawClient) send(t *testing.T, method, target string, hdr http.Header, body []byte) rawResponse {
	t.Helper()
	return rc.do(t, rc.request(t, method, target, hdr, body, ""))
}

// sendShort writes req's request line and headers (with its Content-Length) and
// then only the bytes of sent on a fresh connection. With halfClose it shuts the
// write side and returns the response the server sends; otherwise it closes the
// connection at once and returns nil.
func (rc *rawClient) sendShort(t *testing.T, req *http.Request, sent []byte, halfClose bool) *rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", rc.p.Addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.URL.Host, req.ContentLength)
	req.Header.Write(w)
	w.WriteString("\r\n")
	w.Write(sent)
	if err := w.Flush(); err != nil {
		t.Fatalf("writing the short request: %v", err)
	}
	if !halfClose {
		return nil
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("reading the response to a short body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// expectError checks that r is an S3 error with status and code: an XML error
// document naming the code, and a request id header.
func expectError(t *testing.T, what string, r rawResponse, status int, code string) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: %d (server error) %s; want %d %s", what, r.status, r.body, status, code)
		return
	}
	if r.status != status {
		t.Errorf("%s: status %d %s; want %d %s", what, r.status, r.body, status, code)
	}
	var doc errorDoc
	if err := xml.Unmarshal(r.body, &doc); err != nil || doc.Code == "" {
		t.Errorf("%s: body %q is not an S3 error document (%v)", what, r.body, err)
	} else if doc.Code != code {
		t.Errorf("%s: code %s (%s); want %s", what, doc.Code, doc.Message, code)
	}
	if r.header.Get("X-Amz-Request-Id") == "" {
		t.Errorf("%s: no x-amz-request-id header", what)
	}
}

// expectOK checks a 200 response.
func expectOK(t *testing.T, what string, r rawResponse) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Errorf("%s: status %d %s; want 200", what, r.status, r.body)
	}
	if r.header.Get("X-Amz-Request-Id") == "" {
		t.Errorf("%s: no x-amz-request-id header", what)
	}
}

// expectAbsent checks that HEAD of target answers 404.
func (rc *rawClient) expectAbsent(t *testing.T, what, target string) {
	t.Helper()
	if r := rc.send(t, http.MethodHead, target, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("%s: HEAD %s = %d; want 404 (nothing stored)", what, target, r.status)
	}
}

// expectContent checks that GET of target returns want.
func (rc *rawClient) expectContent(t *testing.T, what, target string, want []byte) {
	t.Helper()
	r := rc.send(t, http.MethodGet, target, nil, nil)
	switch {
	case r.status != http.StatusOK:
		t.Errorf("%s: GET %s = %d %s; want 200", what, target, r.status, r.body)
	case !bytes.Equal(r.body, want):
		t.Errorf("%s: GET %s returned %d bytes (SHA-256 %s); want the %d bytes stored (%s)", what, target,
			len(r.body), short(sha256.Sum256(r.body)), len(want), short(sha256.Sum256(want)))
	}
}

// awsChunked encodes data as an unsigned aws-chunked stream
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER) of 64 KiB chunks with the trailer
// x-amz-checksum-crc32 of data. Send it with chunkedHeader.
func awsChunked(data []byte) []byte {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(64<<10, len(data))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	fmt.Fprintf(&b, "0\r\nx-amz-checksum-crc32:%s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
	return b.Bytes()
}

// chunkedHeader is the header of an awsChunked upload declaring size bytes.
func chunkedHeader(size int) http.Header {
	return http.Header{
		"Content-Encoding":             {"aws-chunked"},
		"X-Amz-Decoded-Content-Length": {strconv.Itoa(size)},
		"X-Amz-Trailer":                {"x-amz-checksum-crc32"},
	}
}

// TestBadInputNeverHalfWritten sends malformed, truncated and hostile requests and
// checks that each gets the right S3 error (never a 500), that none leaves an object
// or a file behind, and that the server stays healthy.
func TestBadInputNeverHalfWritten(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ctx := context.Background()
	p := servertest.StartProcess(t, servertest.ProcOptions{Drives: 6})
	c := newClient(p)
	rc := newRawClient(p)
	const bucket = "bad"
	createBucket(t, ctx, c, bucket)
	// want holds what must be in the bucket at the end: key → content.
	want := map[string][]byte{}
	putOK := func(key string, data []byte) {
		t.Helper()
		expectOK(t, "PUT "+key, rc.send(t, http.MethodPut, "/"+bucket+"/"+key, nil, data))
		want[key] = data
	}

	t.Run("body shorter than Content-Length", func(t *testing.T) {
		full := content(1, 1<<20)
		// Connection closed mid-body, unsigned payload, on new keys: one object that
		// would be stored inline, one that would not.
		small := content(8, 64<<10)
		req := rc.request(t, http.MethodPut, "/"+bucket+"/trunc/new-small", nil, small, unsignedPayload)
		rc.sendShort(t, req, small[:10<<10], false)
		req = rc.request(t, http.MethodPut, "/"+bucket+"/trunc/new", nil, full, unsignedPayload)
		rc.sendShort(t, req, full[:100<<10], false)
		// Write side shut mid-body (the server can still answer), signed payload, over
		// an existing object.
		old := content(2, 200<<10)
		putOK("trunc/existing", old)
		req = rc.request(t, http.MethodPut, "/"+bucket+"/trunc/existing", nil, full, "")
		r := rc.sendShort(t, req, full[:100<<10], true)
		expectError(t, "PUT of 100 KiB of a declared 1 MiB, write side shut", *r, http.StatusBadRequest, "IncompleteBody")
		// aws-chunked, connection closed in the third of sixteen chunks.
		enc := awsChunked(full)
		hdr := chunkedHeader(len(full))
		req = rc.request(t, http.MethodPut, "/"+bucket+"/trunc/chunked", hdr, enc, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		rc.sendShort(t, req, enc[:2*(64<<10+16)], false)
		// The same aws-chunked upload, complete, is accepted: the cases around it fail
		// for the reason they are about.
		req = rc.request(t, http.MethodPut, "/"+bucket+"/trunc/chunked-complete", hdr, enc, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		expectOK(t, "complete aws-chunked PUT", rc.do(t, req))
		rc.expectContent(t, "complete aws-chunked PUT", "/"+bucket+"/trunc/chunked-complete", full)
		want["trunc/chunked-complete"] = full
		// aws-chunked, well framed but 100 KiB of a declared 1 MiB: a complete request.
		enc = awsChunked(full[:100<<10])
		req = rc.request(t, http.MethodPut, "/"+bucket+"/trunc/chunked-short", hdr, enc, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		expectError(t, "aws-chunked PUT of 100 KiB declaring 1 MiB", rc.do(t, req), http.StatusBadRequest, "IncompleteBody")
		// Give the server time to finish with the dropped connections.
		time.Sleep(500 * time.Millisecond)
		rc.expectAbsent(t, "after a small PUT cut short", "/"+bucket+"/trunc/new-small")
		rc.expectAbsent(t, "after a PUT cut short", "/"+bucket+"/trunc/new")
		rc.expectAbsent(t, "after an aws-chunked PUT cut short", "/"+bucket+"/trunc/chunked")
		rc.expectAbsent(t, "after a short aws-chunked PUT", "/"+bucket+"/trunc/chunked-short")
		rc.expectContent(t, "after a PUT cut short over an existing object", "/"+bucket+"/trunc/existing", old)
	})

	t.Run("no Content-Length", func(t *testing.T) {
		// A body of unknown length goes out with Transfer-Encoding: chunked.
		req, err := http.NewRequest(http.MethodPut, p.URL+"/"+bucket+"/nolen", io.NopCloser(strings.NewReader("hello")))
		if err != nil {
			t.Fatal(err)
		}
		rc.sign(t, req, []byte("hello"), "")
		expectError(t, "PUT without Content-Length", rc.do(t, req), http.StatusLengthRequired, "MissingContentLength")
		rc.expectAbsent(t, "after a PUT without Content-Length", "/"+bucket+"/nolen")
	})

	t.Run("wrong Content-MD5", func(t *testing.T) {
		data := content(3, 300<<10)
		other := md5.Sum([]byte("something else"))
		hdr := http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(other[:])}}
		expectError(t, "PUT with a wrong Content-MD5", rc.send(t, http.MethodPut, "/"+bucket+"/md5/new", hdr, data), http.StatusBadRequest, "BadDigest")
		rc.expectAbsent(t, "after a PUT with a wrong Content-MD5", "/"+bucket+"/md5/new")
		old := []byte("the old content")
		putOK("md5/existing", old)
		expectError(t, "PUT over an object with a wrong Content-MD5", rc.send(t, http.MethodPut, "/"+bucket+"/md5/existing", hdr, []byte("small new content")), http.StatusBadRequest, "BadDigest")
		rc.expectContent(t, "after a PUT with a wrong Content-MD5 over an existing object", "/"+bucket+"/md5/existing", old)
	})

	t.Run("wrong x-amz-content-sha256", func(t *testing.T) {
		data := content(4, 300<<10)
		sum := sha256.Sum256([]byte("something else"))
		req := rc.request(t, http.MethodPut, "/"+bucket+"/sha/new", nil, data, hex.EncodeToString(sum[:]))
		expectError(t, "PUT with a wrong payload hash", rc.do(t, req), http.StatusBadRequest, "XAmzContentSHA256Mismatch")
		rc.expectAbsent(t, "after a PUT with a wrong payload hash", "/"+bucket+"/sha/new")
	})

	t.Run("malformed CompleteMultipartUpload", func(t *testing.T) {
		key := "mpu/object"
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		data := content(5, 100<<10)
		part, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		if err != nil {
			t.Fatal(err)
		}
		target := "/" + bucket + "/" + key + "?uploadId=" + aws.ToString(up.UploadId)
		for _, body := range []string{
			"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
			"this is not XML",
			"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>" + aws.ToString(part.ETag) + "</ETag></Part></CompleteMultipartUpload>",
		} {
			expectError(t, fmt.Sprintf("CompleteMultipartUpload with %q", body), rc.send(t, http.MethodPost, target, nil, []byte(body)), http.StatusBadRequest, "MalformedXML")
		}
		rc.expectAbsent(t, "after malformed CompleteMultipartUpload requests", "/"+bucket+"/"+key)
		// The upload survived the bad requests and completes normally.
		complete := "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + aws.ToString(part.ETag) + "</ETag></Part></CompleteMultipartUpload>"
		expectOK(t, "CompleteMultipartUpload after malformed attempts", rc.send(t, http.MethodPost, target, nil, []byte(complete)))
		rc.expectContent(t, "completed upload", "/"+bucket+"/"+key, data)
		want[key] = data
	})

	t.Run("dot-dot keys", func(t *testing.T) {
		for _, key := range []string{"../x", "a/../../b", "../../../../outside"} {
			data := []byte("stored under " + key)
			putOK(key, data)
			rc.expectContent(t, "key "+key, "/"+bucket+"/"+key, data)
		}
	})

	t.Run("invalid bucket names", func(t *testing.T) {
		for _, name := range []string{"Bad_Bucket", "ab", "-leading-dash", "192.168.1.1", strings.Repeat("a", 64), "dot..dot"} {
			expectError(t, "CreateBucket "+name, rc.send(t, http.MethodPut, "/"+name, nil, nil), http.StatusBadRequest, "InvalidBucketName")
		}
	})

	t.Run("key length", func(t *testing.T) {
		// 1024 bytes in 100-byte segments is the longest key S3 allows.
		seg := strings.Repeat("k", 100) + "/"
		k1024 := strings.Repeat(seg, 10) + strings.Repeat("z", 1024-10*len(seg))
		if len(k1024) != 1024 {
			t.Fatalf("key is %d bytes", len(k1024))
		}
		putOK(k1024, []byte("longest key"))
		rc.expectContent(t, "1024-byte key", "/"+bucket+"/"+k1024, []byte("longest key"))
		k1025 := k1024 + "z"
		expectError(t, "PUT with a 1025-byte key", rc.send(t, http.MethodPut, "/"+bucket+"/"+k1025, nil, []byte("too long")), http.StatusBadRequest, "KeyTooLongError")
	})

	t.Run("metadata size", func(t *testing.T) {
		// User metadata counts names (without x-amz-meta-) and values: 2048 bytes is allowed.
		ok := http.Header{"X-Amz-Meta-Big": {strings.Repeat("v", 2048-len("big"))}}
		expectOK(t, "PUT with 2 KiB of metadata", rc.send(t, http.MethodPut, "/"+bucket+"/meta/ok", ok, []byte("meta")))
		want["meta/ok"] = []byte("meta")
		big := http.Header{"X-Amz-Meta-Big": {strings.Repeat("v", 2048-len("big")+1)}}
		expectError(t, "PUT with 2 KiB + 1 of metadata", rc.send(t, http.MethodPut, "/"+bucket+"/meta/big", big, []byte("meta")), http.StatusBadRequest, "MetadataTooLarge")
		rc.expectAbsent(t, "after a PUT with too much metadata", "/"+bucket+"/meta/big")
		up := rc.send(t, http.MethodPost, "/"+bucket+"/meta/mpu?uploads", big, nil)
		expectError(t, "CreateMultipartUpload with 2 KiB + 1 of metadata", up, http.StatusBadRequest, "MetadataTooLarge")
	})

	t.Run("unsatisfiable range", func(t *testing.T) {
		data := content(6, 1000)
		putOK("range/obj", data)
		putOK("range/empty", []byte{})
		for _, tc := range []struct{ target, rng string }{
			{"/" + bucket + "/range/obj", "bytes=5000-6000"},
			{"/" + bucket + "/range/obj", "bytes=1000-"},
			{"/" + bucket + "/range/empty", "bytes=0-0"},
		} {
			r := rc.send(t, http.MethodGet, tc.target, http.Header{"Range": {tc.rng}}, nil)
			expectError(t, "GET "+tc.target+" Range: "+tc.rng, r, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
		}
	})

	// Nothing half-written is listed: the bucket holds exactly what succeeded.
	keys, err := listKeys(ctx, c, bucket, "")
	if err != nil {
		t.Fatalf("LIST: %v", err)
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("LIST = %q\nwant   %q", keys, wantKeys)
	}
	for _, k := range wantKeys {
		rc.expectContent(t, "at the end", "/"+bucket+"/"+k, want[k])
	}

	// No key reached outside its bucket directory: the drives' parent holds only the
	// drives, and each drive only the .cairn area and the bucket.
	var dirs []string
	for i := range p.Drives {
		dirs = append(dirs, "d"+strconv.Itoa(i+1))
	}
	slices.Sort(dirs)
	if got := listDir(t, p.Dir); !slices.Equal(got, dirs) {
		t.Errorf("%s holds %q; want only the drives %q", p.Dir, got, dirs)
	}
	for _, d := range p.Drives {
		if got := listDir(t, d); !slices.Equal(got, []string{".cairn", bucket}) {
			t.Errorf("drive %s holds %q; want only [.cairn %s]", d, got, bucket)
		}
	}

	// Failed uploads left no temp data, and no multipart upload is left open.
	for _, d := range p.Drives {
		for _, area := range []string{".cairn/tmp", ".cairn/multipart"} {
			var files []string
			filepath.WalkDir(filepath.Join(d, area), func(path string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					files = append(files, path)
				}
				return nil
			})
			if len(files) > 0 {
				t.Errorf("%s holds %d files after the failed uploads; want none: %q", filepath.Join(d, area), len(files), files)
			}
		}
	}

	// Still healthy: live, running, taking writes, and no panic in its log.
	hr, err := http.Get(p.URL + "/cairn/health/live")
	if err != nil || hr.StatusCode != http.StatusOK {
		t.Errorf("health after the bad requests: %v %v", hr, err)
	}
	if hr != nil {
		hr.Body.Close()
	}
	if running, err := p.Running(); !running {
		t.Errorf("server exited: %v", err)
	}
	o, data := newObject("healthy", 7, 2<<20, false)
	if err := put(ctx, c, bucket, o, data); err != nil {
		t.Errorf("PUT after the bad requests: %v", err)
	} else if msg := check(ctx, c, bucket, o); msg != "" {
		t.Error(msg)
	}
	if log := p.Log.String(); strings.Contains(log, "panic") {
		t.Errorf("server log mentions a panic:\n%s", log)
	}
}
