package s3api

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// End-to-end tests: signed HTTP requests through NewHandler to a real
// *objects.Layer on temp-dir drives.

// newRealLayer builds an object layer over n temp-dir drives.
func newRealLayer(t *testing.T, n, parity int) *objects.Layer {
	t.Helper()
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	for i := range n {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		ds = append(ds, d)
	}
	l, err := objects.New(objects.Config{Sets: [][]drive.Drive{ds}, Parity: parity, DeploymentID: "s3api-test"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// s3 is a test client of a server over a real object layer.
type s3 struct {
	t   *testing.T
	srv *httptest.Server
	h   http.Handler // srv's handler, for tests that need the raw header map
}

func newS3(t *testing.T, mutate func(*Config)) *s3 {
	t.Helper()
	cfg := Config{
		Objects: newRealLayer(t, 4, 2),
		Auth:    &sigv4.Verifier{Creds: staticCreds{testAccessKey: testSecret}, Region: testRegion},
		Region:  testRegion,
		Domains: []string{"s3.test"},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h := NewHandler(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	srv.Client().Timeout = time.Minute
	return &s3{t: t, srv: srv, h: h}
}

// call is one request. Bodies are signed (hex SHA-256 payload hash) unless anonymous.
type call struct {
	method, target string
	body           []byte
	header         map[string]string
	host           string
	anonymous      bool
}

type response struct {
	*http.Response
	body []byte
}

func (c *s3) do(cl call) response {
	c.t.Helper()
	r, err := http.NewRequest(cl.method, c.srv.URL+cl.target, bytes.NewReader(cl.body))
	if err != nil {
		c.t.Fatal(err)
	}
	if cl.host != "" {
		r.Host = cl.host
	}
	for k, v := range cl.header {
		r.Header.Set(k, v)
	}
	if !cl.anonymous {
		sum := sha256.Sum256(cl.body)
		if err := sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), hex.EncodeToString(sum[:])); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.send(r)
}

func (c *s3) send(r *http.Request) response {
	c.t.Helper()
	resp, err := c.srv.Client().Do(r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", r.Method, r.URL, err)
	}
	checkIDs(c.t, resp)
	return response{resp, b}
}

// ok fails the test unless the response has status want.
func (r response) ok(t *testing.T, want int) response {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
	return r
}

// s3err fails the test unless the response is the S3 error code with status.
func (r response) s3err(t *testing.T, status int, code string) response {
	t.Helper()
	r.ok(t, status)
	if r.Request.Method == http.MethodHead {
		return r
	}
	var e errorBody
	if err := xml.Unmarshal(r.body, &e); err != nil || e.Code != code {
		t.Fatalf("%s %s: error %q (%v), want %s; body: %s", r.Request.Method, r.Request.URL.Path, e.Code, err, code, r.body)
	}
	return r
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := xml.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, r.body)
	}
}

func (r response) header(t *testing.T, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("%s %s: %s = %q, want %q", r.Request.Method, r.Request.URL.Path, name, got, want)
	}
}

func md5Header(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func crc32Header(b []byte) string { return b64u32(crc32.ChecksumIEEE(b)) }

func sha256Header(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (c *s3) mkBucket(name string) {
	c.t.Helper()
	c.do(call{method: "PUT", target: "/" + name}).ok(c.t, 200)
}

func (c *s3) put(bucket, key string, body []byte, header map[string]string) response {
	c.t.Helper()
	return c.do(call{method: "PUT", target: "/" + bucket + "/" + key, body: body, header: header}).ok(c.t, 200)
}

func TestS3Buckets(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.do(call{method: "PUT", target: "/bkt"}).ok(t, 200).header(t, "Location", "/bkt")
	c.do(call{method: "PUT", target: "/bkt"}).s3err(t, 409, "BucketAlreadyOwnedByYou")
	c.do(call{method: "HEAD", target: "/bkt"}).ok(t, 200).header(t, "X-Amz-Bucket-Region", testRegion)
	if r := c.do(call{method: "HEAD", target: "/nobkt"}).ok(t, 404); len(r.body) != 0 {
		t.Errorf("HEAD error has a body: %q", r.body)
	}
	c.do(call{method: "PUT", target: "/bkt2", body: []byte(`<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`)}).ok(t, 200)

	var lb struct {
		Owner   owner `xml:"Owner"`
		Buckets []struct {
			Name, CreationDate string
		} `xml:"Buckets>Bucket"`
	}
	c.do(call{method: "GET", target: "/"}).ok(t, 200).decode(t, &lb)
	if len(lb.Buckets) != 2 || lb.Buckets[0].Name != "bkt" || lb.Buckets[1].Name != "bkt2" || lb.Owner.ID == "" {
		t.Errorf("ListBuckets = %+v", lb)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", lb.Buckets[0].CreationDate); err != nil {
		t.Errorf("CreationDate %q: %v", lb.Buckets[0].CreationDate, err)
	}
	var page struct {
		Buckets           []struct{ Name string } `xml:"Buckets>Bucket"`
		ContinuationToken string
	}
	c.do(call{method: "GET", target: "/?max-buckets=1"}).ok(t, 200).decode(t, &page)
	if len(page.Buckets) != 1 || page.ContinuationToken == "" {
		t.Fatalf("first page = %+v", page)
	}
	token := page.ContinuationToken
	page.Buckets, page.ContinuationToken = nil, ""
	c.do(call{method: "GET", target: "/?max-buckets=1&continuation-token=" + token}).ok(t, 200).decode(t, &page)
	if len(page.Buckets) != 1 || page.Buckets[0].Name != "bkt2" || page.ContinuationToken != "" {
		t.Fatalf("second page = %+v", page)
	}

	var loc struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Region  string   `xml:",chardata"`
	}
	c.do(call{method: "GET", target: "/bkt?location"}).ok(t, 200).decode(t, &loc)
	if loc.Region != "" {
		t.Errorf("us-east-1 location = %q, want empty", loc.Region)
	}
	if r := c.do(call{method: "GET", target: "/bkt?versioning"}).ok(t, 200); strings.Contains(string(r.body), "<Status>") {
		t.Errorf("never-versioned bucket: %s", r.body)
	}

	c.put("bkt", "k", []byte("x"), nil)
	c.do(call{method: "DELETE", target: "/bkt"}).s3err(t, 409, "BucketNotEmpty")
	c.do(call{method: "DELETE", target: "/bkt/k"}).ok(t, 204)
	c.do(call{method: "DELETE", target: "/bkt"}).ok(t, 204)
	c.do(call{method: "GET", target: "/bkt?list-type=2"}).s3err(t, 404, "NoSuchBucket")
	c.do(call{method: "PUT", target: "/bkt/k", body: []byte("x")}).s3err(t, 404, "NoSuchBucket")
}

func TestS3PutGetHead(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	data := []byte("hello, cairn object world")
	size := fmt.Sprint(len(data))
	put := c.put("bkt", "dir/file.txt", data, map[string]string{
		"Content-Type":         "text/plain",
		"Cache-Control":        "max-age=60",
		"X-Amz-Meta-Color":     "blue",
		"X-Amz-Tagging":        "a=1&b=2",
		"Content-Md5":          md5Header(data),
		"X-Amz-Checksum-Crc32": crc32Header(data),
	})
	put.header(t, "ETag", `"`+md5Hex(data)+`"`)
	put.header(t, "X-Amz-Checksum-Crc32", crc32Header(data))
	put.header(t, "X-Amz-Version-Id", "") // never-versioned bucket

	get := c.do(call{method: "GET", target: "/bkt/dir/file.txt"}).ok(t, 200)
	if !bytes.Equal(get.body, data) {
		t.Fatalf("GET body = %q", get.body)
	}
	for name, want := range map[string]string{
		"ETag": `"` + md5Hex(data) + `"`, "Content-Type": "text/plain", "Cache-Control": "max-age=60",
		"X-Amz-Meta-Color": "blue", "X-Amz-Tagging-Count": "2", "Accept-Ranges": "bytes",
		"Content-Length": size, "X-Amz-Version-Id": "", "X-Amz-Checksum-Crc32": "",
	} {
		get.header(t, name, want)
	}
	if _, err := http.ParseTime(get.Header.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified: %v", err)
	}
	lastModified := get.Header.Get("Last-Modified")

	c.do(call{method: "GET", target: "/bkt/dir/file.txt", header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200).
		header(t, "X-Amz-Checksum-Crc32", crc32Header(data))

	head := c.do(call{method: "HEAD", target: "/bkt/dir/file.txt"}).ok(t, 200)
	if len(head.body) != 0 {
		t.Errorf("HEAD body = %q", head.body)
	}
	head.header(t, "Content-Length", size)
	head.header(t, "X-Amz-Meta-Color", "blue")

	tests := []struct {
		name   string
		header map[string]string
		target string
		status int
		body   string
		check  map[string]string
	}{
		{name: "range", header: map[string]string{"Range": "bytes=0-4"}, status: 206, body: "hello", check: map[string]string{"Content-Range": "bytes 0-4/" + size, "Content-Length": "5"}},
		{name: "suffix range", header: map[string]string{"Range": "bytes=-5"}, status: 206, body: "world"},
		{name: "open range", header: map[string]string{"Range": "bytes=20-"}, status: 206, body: "world"},
		{name: "multi range served whole", header: map[string]string{"Range": "bytes=0-1,3-4"}, status: 200, body: string(data)},
		{name: "if-none-match hit", header: map[string]string{"If-None-Match": `"` + md5Hex(data) + `"`}, status: 304, check: map[string]string{"ETag": `"` + md5Hex(data) + `"`}},
		{name: "if-none-match miss", header: map[string]string{"If-None-Match": `"nope"`}, status: 200, body: string(data)},
		{name: "if-modified-since not modified", header: map[string]string{"If-Modified-Since": lastModified}, status: 304},
		{name: "if-unmodified-since ok", header: map[string]string{"If-Unmodified-Since": lastModified}, status: 200, body: string(data)},
		{name: "response overrides", target: "?response-content-type=application/json&response-content-disposition=attachment", status: 200, body: string(data), check: map[string]string{"Content-Type": "application/json", "Content-Disposition": "attachment"}},
		{name: "part number 1 of a simple object", target: "?partNumber=1", status: 200, body: string(data)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(call{method: "GET", target: "/bkt/dir/file.txt" + tc.target, header: tc.header}).ok(t, tc.status)
			if string(r.body) != tc.body {
				t.Errorf("body = %q, want %q", r.body, tc.body)
			}
			for k, v := range tc.check {
				r.header(t, k, v)
			}
		})
	}
	c.do(call{method: "GET", target: "/bkt/dir/file.txt", header: map[string]string{"Range": "bytes=100-"}}).
		s3err(t, 416, "InvalidRange").header(t, "Content-Range", "bytes */"+size)
	c.do(call{method: "GET", target: "/bkt/dir/file.txt", header: map[string]string{"If-Match": `"nope"`}}).s3err(t, 412, "PreconditionFailed")
	c.do(call{method: "GET", target: "/bkt/dir/file.txt?partNumber=2"}).s3err(t, 416, "InvalidPartNumber")
	c.do(call{method: "GET", target: "/bkt/missing"}).s3err(t, 404, "NoSuchKey")

	// Failed writes leave the object as it was.
	c.do(call{method: "PUT", target: "/bkt/dir/file.txt", body: []byte("other"), header: map[string]string{"Content-Md5": md5Header(data)}}).s3err(t, 400, "BadDigest")
	r := c.do(call{method: "PUT", target: "/bkt/dir/file.txt", body: []byte("other"), header: map[string]string{"X-Amz-Checksum-Crc32": crc32Header(data)}}).s3err(t, 400, "BadDigest")
	if !strings.Contains(string(r.body), "CRC32") {
		t.Errorf("checksum mismatch message does not name the algorithm: %s", r.body)
	}
	c.do(call{method: "PUT", target: "/bkt/dir/file.txt", body: []byte("other"), header: map[string]string{"If-None-Match": "*"}}).s3err(t, 412, "PreconditionFailed")
	c.do(call{method: "PUT", target: "/bkt/dir/file.txt", body: []byte("other"), header: map[string]string{"If-Match": `"nope"`}}).s3err(t, 412, "PreconditionFailed")
	if r := c.do(call{method: "GET", target: "/bkt/dir/file.txt"}).ok(t, 200); !bytes.Equal(r.body, data) {
		t.Fatalf("object changed by failed writes: %q", r.body)
	}
	c.put("bkt", "dir/file.txt", []byte("new"), map[string]string{"If-Match": `"` + md5Hex(data) + `"`})

	// Defaults and the empty object.
	c.put("bkt", "empty", nil, nil)
	empty := c.do(call{method: "GET", target: "/bkt/empty"}).ok(t, 200)
	empty.header(t, "Content-Type", "binary/octet-stream")
	empty.header(t, "Content-Length", "0")
	c.do(call{method: "GET", target: "/bkt/empty", header: map[string]string{"Range": "bytes=0-"}}).s3err(t, 416, "InvalidRange")

	// SHA256 checksum computed from the algorithm header alone.
	c.put("bkt", "computed", data, map[string]string{"X-Amz-Sdk-Checksum-Algorithm": "SHA256"}).
		header(t, "X-Amz-Checksum-Sha256", sha256Header(data))
}

func TestS3ChunkedUploads(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	data := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // 160 KB, several chunks
	crc32c := b64u32(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	tests := []struct {
		name     string
		opts     sigv4.ChunkedOptions
		status   int
		code     string
		checksum string
	}{
		{name: "signed chunks", opts: sigv4.ChunkedOptions{ChunkSize: 64 << 10}, status: 200},
		{name: "signed chunks with checksum trailer", opts: sigv4.ChunkedOptions{Trailer: http.Header{"X-Amz-Checksum-Crc32c": {crc32c}}}, status: 200, checksum: crc32c},
		{name: "unsigned with checksum trailer", opts: sigv4.ChunkedOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32c": {crc32c}}}, status: 200, checksum: crc32c},
		{name: "wrong checksum trailer", opts: sigv4.ChunkedOptions{Unsigned: true, Trailer: http.Header{"X-Amz-Checksum-Crc32c": {b64u32(1)}}}, status: 400, code: "BadDigest"},
		{name: "unsigned without trailer", opts: sigv4.ChunkedOptions{Unsigned: true}, status: 400, code: "InvalidRequest"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("/bkt/obj%d", i)
			r, err := http.NewRequest("PUT", c.srv.URL+key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := sigv4.SignChunkedRequest(r, testAccessKey, testSecret, testRegion, time.Now(), data, tc.opts); err != nil {
				t.Fatal(err)
			}
			resp := c.send(r)
			if tc.code != "" {
				resp.s3err(t, tc.status, tc.code)
				c.do(call{method: "HEAD", target: key}).ok(t, 404)
				return
			}
			resp.ok(t, tc.status)
			if tc.checksum != "" {
				resp.header(t, "X-Amz-Checksum-Crc32c", tc.checksum)
			}
			get := c.do(call{method: "GET", target: key, header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
			if !bytes.Equal(get.body, data) {
				t.Fatal("GET returned different bytes")
			}
			get.header(t, "Content-Encoding", "") // aws-chunked is not stored
			if tc.checksum != "" {
				get.header(t, "X-Amz-Checksum-Crc32c", tc.checksum)
			}
		})
	}
}

// entries are the Version and DeleteMarker elements, in document order.
func (l listVersionsXML) entries() []string {
	var out []string
	for _, e := range l.Entries {
		if e.XMLName.Local == "Version" || e.XMLName.Local == "DeleteMarker" {
			out = append(out, fmt.Sprintf("%s:%s:%v", e.XMLName.Local, e.VersionID, e.IsLatest))
		}
	}
	return out
}

type listVersionsXML struct {
	Entries []struct {
		XMLName   xml.Name
		Key       string
		VersionID string `xml:"VersionId"`
		IsLatest  bool
	} `xml:",any"`
	IsTruncated bool
}

func TestS3Versioning(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.do(call{method: "PUT", target: "/bkt?versioning", body: []byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`)}).ok(t, 200)
	var vc struct{ Status string }
	c.do(call{method: "GET", target: "/bkt?versioning"}).ok(t, 200).decode(t, &vc)
	if vc.Status != "Enabled" {
		t.Fatalf("versioning = %q", vc.Status)
	}
	v1 := c.put("bkt", "k", []byte("one"), nil).Header.Get("X-Amz-Version-Id")
	v2 := c.put("bkt", "k", []byte("two"), nil).Header.Get("X-Amz-Version-Id")
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	r := c.do(call{method: "GET", target: "/bkt/k?versionId=" + v1}).ok(t, 200)
	r.header(t, "X-Amz-Version-Id", v1)
	if string(r.body) != "one" {
		t.Fatalf("old version = %q", r.body)
	}

	del := c.do(call{method: "DELETE", target: "/bkt/k"}).ok(t, 204)
	del.header(t, "X-Amz-Delete-Marker", "true")
	dm := del.Header.Get("X-Amz-Version-Id")
	if dm == "" {
		t.Fatal("delete marker has no version id")
	}
	g := c.do(call{method: "GET", target: "/bkt/k"}).s3err(t, 404, "NoSuchKey")
	g.header(t, "X-Amz-Delete-Marker", "true")
	g.header(t, "X-Amz-Version-Id", dm)
	c.do(call{method: "HEAD", target: "/bkt/k"}).ok(t, 404).header(t, "X-Amz-Delete-Marker", "true")
	g = c.do(call{method: "GET", target: "/bkt/k?versionId=" + dm}).s3err(t, 405, "MethodNotAllowed")
	g.header(t, "X-Amz-Delete-Marker", "true")
	c.do(call{method: "GET", target: "/bkt/k?versionId=not-a-version"}).s3err(t, 400, "InvalidArgument")

	var lv listVersionsXML
	c.do(call{method: "GET", target: "/bkt?versions"}).ok(t, 200).decode(t, &lv)
	got := lv.entries()
	want := []string{"DeleteMarker:" + dm + ":true", "Version:" + v2 + ":false", "Version:" + v1 + ":false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	// Paging through versions one at a time yields the same list.
	var paged []string
	for km, vm := "", ""; ; {
		var page struct {
			listVersionsXML
			NextKeyMarker, NextVersionIdMarker string
		}
		target := "/bkt?versions&max-keys=1"
		if km != "" {
			target += "&key-marker=" + km + "&version-id-marker=" + vm
		}
		c.do(call{method: "GET", target: target}).ok(t, 200).decode(t, &page)
		paged = append(paged, page.entries()...)
		if !page.IsTruncated {
			break
		}
		km, vm = page.NextKeyMarker, page.NextVersionIdMarker
		if len(paged) > 10 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(paged) != fmt.Sprint(want) {
		t.Fatalf("paged versions = %v, want %v", paged, want)
	}

	c.do(call{method: "DELETE", target: "/bkt/k?versionId=" + dm}).ok(t, 204).header(t, "X-Amz-Delete-Marker", "true")
	if r := c.do(call{method: "GET", target: "/bkt/k"}).ok(t, 200); string(r.body) != "two" {
		t.Fatalf("after removing the marker: %q", r.body)
	}
	c.do(call{method: "DELETE", target: "/bkt/k?versionId=" + v1}).ok(t, 204).header(t, "X-Amz-Version-Id", v1)
	c.do(call{method: "GET", target: "/bkt/k?versionId=" + v1}).s3err(t, 404, "NoSuchVersion")

	c.do(call{method: "PUT", target: "/bkt?versioning", body: []byte(`<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`)}).ok(t, 200)
	c.put("bkt", "k", []byte("three"), nil).header(t, "X-Amz-Version-Id", "null")

	// Object lock turns versioning on for good.
	c.do(call{method: "PUT", target: "/locked", header: map[string]string{"X-Amz-Bucket-Object-Lock-Enabled": "true"}}).ok(t, 200)
	c.do(call{method: "GET", target: "/locked?versioning"}).ok(t, 200).decode(t, &vc)
	if vc.Status != "Enabled" {
		t.Fatalf("object lock bucket versioning = %q", vc.Status)
	}
	c.do(call{method: "PUT", target: "/locked?versioning", body: []byte(`<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`)}).s3err(t, 409, "InvalidBucketState")
}

func TestS3Copy(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("src")
	c.mkBucket("dst")
	data := []byte("copy me, please")
	c.put("src", "a b+c.txt", data, map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Origin": "src", "X-Amz-Tagging": "t=1", "X-Amz-Checksum-Crc32": crc32Header(data)})
	source := "/src/" + "a%20b%2Bc.txt"

	var res struct {
		ETag, LastModified, ChecksumCRC32 string
	}
	c.do(call{method: "PUT", target: "/dst/copy", header: map[string]string{"X-Amz-Copy-Source": source}}).ok(t, 200).decode(t, &res)
	if res.ETag != `"`+md5Hex(data)+`"` || res.ChecksumCRC32 != crc32Header(data) {
		t.Errorf("CopyObjectResult = %+v", res)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", res.LastModified); err != nil {
		t.Errorf("LastModified %q: %v", res.LastModified, err)
	}
	g := c.do(call{method: "GET", target: "/dst/copy"}).ok(t, 200)
	if !bytes.Equal(g.body, data) {
		t.Fatalf("copied body = %q", g.body)
	}
	g.header(t, "Content-Type", "text/plain")
	g.header(t, "X-Amz-Meta-Origin", "src")
	g.header(t, "X-Amz-Tagging-Count", "1")

	c.do(call{method: "PUT", target: "/dst/replaced", header: map[string]string{
		"X-Amz-Copy-Source": source, "X-Amz-Metadata-Directive": "REPLACE", "Content-Type": "application/x-new",
		"X-Amz-Meta-New": "yes", "X-Amz-Tagging-Directive": "REPLACE", "X-Amz-Tagging": "x=1&y=2",
	}}).ok(t, 200)
	g = c.do(call{method: "HEAD", target: "/dst/replaced"}).ok(t, 200)
	g.header(t, "Content-Type", "application/x-new")
	g.header(t, "X-Amz-Meta-Origin", "")
	g.header(t, "X-Amz-Meta-New", "yes")
	g.header(t, "X-Amz-Tagging-Count", "2")

	c.do(call{method: "PUT", target: "/src/a%20b%2Bc.txt", header: map[string]string{"X-Amz-Copy-Source": source}}).s3err(t, 400, "InvalidRequest")
	// Copying onto itself with REPLACE works (and does not deadlock on the source's read lock).
	c.do(call{method: "PUT", target: "/src/a%20b%2Bc.txt", header: map[string]string{"X-Amz-Copy-Source": source, "X-Amz-Metadata-Directive": "REPLACE", "X-Amz-Meta-Again": "1"}}).ok(t, 200)
	g = c.do(call{method: "GET", target: "/src/a%20b%2Bc.txt"}).ok(t, 200)
	if !bytes.Equal(g.body, data) {
		t.Fatalf("self copy body = %q", g.body)
	}
	g.header(t, "X-Amz-Meta-Again", "1")

	c.do(call{method: "PUT", target: "/dst/x", header: map[string]string{"X-Amz-Copy-Source": source, "X-Amz-Copy-Source-If-Match": `"nope"`}}).s3err(t, 412, "PreconditionFailed")
	c.do(call{method: "PUT", target: "/dst/x", header: map[string]string{"X-Amz-Copy-Source": source, "X-Amz-Copy-Source-If-None-Match": `"` + md5Hex(data) + `"`}}).s3err(t, 412, "PreconditionFailed")
	c.do(call{method: "PUT", target: "/dst/x", header: map[string]string{"X-Amz-Copy-Source": "/src/missing"}}).s3err(t, 404, "NoSuchKey")
	c.do(call{method: "PUT", target: "/dst/x", header: map[string]string{"X-Amz-Copy-Source": "/nobucket/k"}}).s3err(t, 404, "NoSuchBucket")
}

func TestS3Multipart(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "source", []byte("0123456789abcdefghij"), nil)

	var init struct {
		UploadID string `xml:"UploadId"`
	}
	cr := c.do(call{method: "POST", target: "/bkt/big?uploads", header: map[string]string{"X-Amz-Checksum-Algorithm": "SHA256", "Content-Type": "video/mp4"}}).ok(t, 200)
	cr.header(t, "X-Amz-Checksum-Algorithm", "SHA256")
	cr.decode(t, &init)
	if init.UploadID == "" {
		t.Fatal("no upload id")
	}
	q := "?uploadId=" + init.UploadID

	part1 := bytes.Repeat([]byte{'p'}, 5<<20)
	c.do(call{method: "PUT", target: "/bkt/big?partNumber=1&uploadId=" + init.UploadID, body: []byte("short"), header: map[string]string{"X-Amz-Checksum-Sha256": sha256Header(part1)}}).s3err(t, 400, "BadDigest")
	p1 := c.do(call{method: "PUT", target: "/bkt/big?partNumber=1&uploadId=" + init.UploadID, body: part1, header: map[string]string{"X-Amz-Checksum-Sha256": sha256Header(part1), "Content-Md5": md5Header(part1)}}).ok(t, 200)
	p1.header(t, "ETag", `"`+md5Hex(part1)+`"`)

	var cp struct{ ETag, ChecksumSHA256 string }
	pc := c.do(call{method: "PUT", target: "/bkt/big?partNumber=2&uploadId=" + init.UploadID, header: map[string]string{"X-Amz-Copy-Source": "/bkt/source", "X-Amz-Copy-Source-Range": "bytes=10-19"}}).ok(t, 200)
	pc.decode(t, &cp)
	if cp.ETag != `"`+md5Hex([]byte("abcdefghij"))+`"` || cp.ChecksumSHA256 != sha256Header([]byte("abcdefghij")) {
		t.Fatalf("CopyPartResult = %+v", cp)
	}
	c.do(call{method: "PUT", target: "/bkt/big?partNumber=3&uploadId=" + init.UploadID, header: map[string]string{"X-Amz-Copy-Source": "/bkt/source", "X-Amz-Copy-Source-Range": "bytes=10-99"}}).s3err(t, 416, "InvalidRange")

	var lp struct {
		Parts []struct {
			PartNumber     int
			ETag           string
			Size           int64
			ChecksumSHA256 string
		} `xml:"Part"`
		ChecksumAlgorithm string
		IsTruncated       bool
	}
	c.do(call{method: "GET", target: "/bkt/big" + q}).ok(t, 200).decode(t, &lp)
	if len(lp.Parts) != 2 || lp.Parts[0].Size != 5<<20 || lp.Parts[1].Size != 10 || lp.ChecksumAlgorithm != "SHA256" || lp.Parts[1].ChecksumSHA256 == "" {
		t.Fatalf("ListParts = %+v", lp)
	}
	lp.Parts = nil
	c.do(call{method: "GET", target: "/bkt/big" + q + "&max-parts=1"}).ok(t, 200).decode(t, &lp)
	if len(lp.Parts) != 1 || !lp.IsTruncated {
		t.Fatalf("ListParts max-parts=1 = %+v", lp)
	}

	var lu struct {
		Uploads []struct {
			Key      string
			UploadID string `xml:"UploadId"`
		} `xml:"Upload"`
	}
	c.do(call{method: "GET", target: "/bkt?uploads"}).ok(t, 200).decode(t, &lu)
	if len(lu.Uploads) != 1 || lu.Uploads[0].UploadID != init.UploadID || lu.Uploads[0].Key != "big" {
		t.Fatalf("ListMultipartUploads = %+v", lu)
	}

	complete := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"%s"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`,
		md5Hex(part1), md5Hex([]byte("abcdefghij")))
	var done struct {
		Location, Bucket, Key, ETag, ChecksumSHA256, ChecksumType string
	}
	c.do(call{method: "POST", target: "/bkt/big" + q, body: []byte(complete)}).ok(t, 200).decode(t, &done)
	raw1, _ := hex.DecodeString(md5Hex(part1))
	raw2, _ := hex.DecodeString(md5Hex([]byte("abcdefghij")))
	wantETag := `"` + md5Hex(append(raw1, raw2...)) + `-2"`
	wantSum, _ := compositeChecksum(algSHA256, []string{sha256Header(part1), sha256Header([]byte("abcdefghij"))})
	if done.ETag != wantETag || done.Bucket != "bkt" || done.Key != "big" || done.ChecksumSHA256 != wantSum || done.ChecksumType != "COMPOSITE" {
		t.Fatalf("CompleteMultipartUploadResult = %+v, want ETag %s checksum %s", done, wantETag, wantSum)
	}
	g := c.do(call{method: "GET", target: "/bkt/big", header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
	if len(g.body) != 5<<20+10 || string(g.body[5<<20:]) != "abcdefghij" {
		t.Fatalf("multipart object is %d bytes", len(g.body))
	}
	g.header(t, "ETag", wantETag)
	g.header(t, "Content-Type", "video/mp4")
	g.header(t, "X-Amz-Mp-Parts-Count", "2")
	g.header(t, "X-Amz-Checksum-Sha256", wantSum)
	g.header(t, "X-Amz-Checksum-Type", "COMPOSITE")
	r := c.do(call{method: "GET", target: "/bkt/big", header: map[string]string{"Range": "bytes=5242870-5242889"}}).ok(t, 206)
	if string(r.body) != "ppppppppppabcdefghij" {
		t.Fatalf("range across parts = %q", r.body)
	}
	c.do(call{method: "POST", target: "/bkt/big" + q, body: []byte(complete)}).s3err(t, 404, "NoSuchUpload")

	// A small first part is refused at Complete.
	c.do(call{method: "POST", target: "/bkt/small?uploads"}).ok(t, 200).decode(t, &init)
	for n := 1; n <= 2; n++ {
		c.do(call{method: "PUT", target: fmt.Sprintf("/bkt/small?partNumber=%d&uploadId=%s", n, init.UploadID), body: []byte("tiny")}).ok(t, 200)
	}
	small := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`, md5Hex([]byte("tiny")), md5Hex([]byte("tiny")))
	c.do(call{method: "POST", target: "/bkt/small?uploadId=" + init.UploadID, body: []byte(small)}).s3err(t, 400, "EntityTooSmall")
	wrongETag := strings.Replace(small, md5Hex([]byte("tiny")), md5Hex([]byte("other")), 1)
	c.do(call{method: "POST", target: "/bkt/small?uploadId=" + init.UploadID, body: []byte(wrongETag)}).s3err(t, 400, "InvalidPart")
	c.do(call{method: "DELETE", target: "/bkt/small?uploadId=" + init.UploadID}).ok(t, 204)
	c.do(call{method: "GET", target: "/bkt/small?uploadId=" + init.UploadID}).s3err(t, 404, "NoSuchUpload")
	c.do(call{method: "PUT", target: "/bkt/small?partNumber=1&uploadId=" + init.UploadID, body: []byte("x")}).s3err(t, 404, "NoSuchUpload")
}

func TestS3DeleteObjects(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "a", []byte("1"), nil)
	c.put("bkt", "b", []byte("2"), nil)
	long := strings.Repeat("k", 1025)
	body := []byte(`<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Object><Key>missing</Key></Object><Object><Key>` + long + `</Key></Object></Delete>`)
	var res struct {
		Deleted []struct{ Key string }       `xml:"Deleted"`
		Errors  []struct{ Key, Code string } `xml:"Error"`
	}
	c.do(call{method: "POST", target: "/bkt?delete", body: body, header: map[string]string{"Content-Md5": md5Header(body)}}).ok(t, 200).decode(t, &res)
	if len(res.Deleted) != 3 || len(res.Errors) != 1 || res.Errors[0].Code != "KeyTooLongError" {
		t.Fatalf("DeleteResult = %+v", res)
	}
	c.do(call{method: "GET", target: "/bkt/a"}).s3err(t, 404, "NoSuchKey")

	c.put("bkt", "c", []byte("3"), nil)
	quiet := []byte(`<Delete><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>`)
	r := c.do(call{method: "POST", target: "/bkt?delete", body: quiet, header: map[string]string{"X-Amz-Checksum-Crc32": crc32Header(quiet)}}).ok(t, 200)
	if strings.Contains(string(r.body), "<Deleted>") {
		t.Fatalf("quiet result lists deletions: %s", r.body)
	}
	c.do(call{method: "POST", target: "/nobucket?delete", body: quiet, header: map[string]string{"Content-Md5": md5Header(quiet)}}).s3err(t, 404, "NoSuchBucket")
}

type listV2XML struct {
	KeyCount              int
	IsTruncated           bool
	NextContinuationToken string
	EncodingType          string
	Contents              []struct {
		Key   string
		ETag  string
		Size  int64
		Owner *owner
	}
	CommonPrefixes []struct{ Prefix string }
}

func TestS3Listing(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	keys := []string{"a/1", "a/2", "b/1", "c", "sp ace+plus"}
	for _, k := range keys {
		c.put("bkt", strings.ReplaceAll(strings.ReplaceAll(k, " ", "%20"), "+", "%2B"), []byte(k), nil)
	}

	var l listV2XML
	c.do(call{method: "GET", target: "/bkt?list-type=2&delimiter=/"}).ok(t, 200).decode(t, &l)
	if l.KeyCount != 4 || len(l.CommonPrefixes) != 2 || l.CommonPrefixes[0].Prefix != "a/" || len(l.Contents) != 2 || l.Contents[0].Key != "c" || l.Contents[0].Owner != nil {
		t.Fatalf("delimited listing = %+v", l)
	}
	if l.Contents[0].ETag != `"`+md5Hex([]byte("c"))+`"` || l.Contents[0].Size != 1 {
		t.Errorf("entry = %+v", l.Contents[0])
	}

	var all []string
	token := ""
	for range 10 {
		target := "/bkt?list-type=2&max-keys=2&fetch-owner=true"
		if token != "" {
			target += "&continuation-token=" + token
		}
		var page listV2XML
		c.do(call{method: "GET", target: target}).ok(t, 200).decode(t, &page)
		for _, o := range page.Contents {
			if o.Owner == nil {
				t.Error("fetch-owner=true but no Owner")
			}
			all = append(all, o.Key)
		}
		if !page.IsTruncated {
			break
		}
		token = page.NextContinuationToken
	}
	if fmt.Sprint(all) != fmt.Sprint(keys) {
		t.Fatalf("paged keys = %q, want %q", all, keys)
	}

	l = listV2XML{}
	c.do(call{method: "GET", target: "/bkt?list-type=2&start-after=b/1"}).ok(t, 200).decode(t, &l)
	if len(l.Contents) != 2 || l.Contents[0].Key != "c" {
		t.Fatalf("start-after listing = %+v", l)
	}
	l = listV2XML{}
	c.do(call{method: "GET", target: "/bkt?list-type=2&prefix=sp&encoding-type=url"}).ok(t, 200).decode(t, &l)
	if len(l.Contents) != 1 || l.Contents[0].Key != "sp%20ace%2Bplus" || l.EncodingType != "url" {
		t.Fatalf("url-encoded listing = %+v", l)
	}
	l = listV2XML{}
	c.do(call{method: "GET", target: "/bkt?list-type=2&max-keys=0"}).ok(t, 200).decode(t, &l)
	if len(l.Contents) != 0 || l.IsTruncated {
		t.Fatalf("max-keys=0 listing = %+v", l)
	}

	var v1 struct {
		IsTruncated bool
		NextMarker  string
		Contents    []struct {
			Key   string
			Owner *owner
		}
	}
	c.do(call{method: "GET", target: "/bkt?delimiter=/&max-keys=1"}).ok(t, 200).decode(t, &v1)
	if !v1.IsTruncated || v1.NextMarker != "a/" {
		t.Fatalf("v1 with delimiter = %+v", v1)
	}
	v1.Contents, v1.NextMarker = nil, ""
	c.do(call{method: "GET", target: "/bkt?marker=a/2&max-keys=1"}).ok(t, 200).decode(t, &v1)
	if !v1.IsTruncated || v1.NextMarker != "" || len(v1.Contents) != 1 || v1.Contents[0].Key != "b/1" || v1.Contents[0].Owner == nil {
		t.Fatalf("v1 without delimiter = %+v", v1)
	}
}

func TestS3Tagging(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "k", []byte("x"), nil)
	var tg struct {
		Tags []tag `xml:"TagSet>Tag"`
	}
	c.do(call{method: "GET", target: "/bkt/k?tagging"}).ok(t, 200).decode(t, &tg)
	if len(tg.Tags) != 0 {
		t.Fatalf("fresh object tags = %v", tg.Tags)
	}
	body := []byte(`<Tagging><TagSet><Tag><Key>env</Key><Value>prod</Value></Tag><Tag><Key>team</Key><Value>a b</Value></Tag></TagSet></Tagging>`)
	c.do(call{method: "PUT", target: "/bkt/k?tagging", body: body}).ok(t, 200)
	tg.Tags = nil
	c.do(call{method: "GET", target: "/bkt/k?tagging"}).ok(t, 200).decode(t, &tg)
	if fmt.Sprint(tg.Tags) != "[{env prod} {team a b}]" {
		t.Fatalf("object tags = %v", tg.Tags)
	}
	c.do(call{method: "HEAD", target: "/bkt/k"}).ok(t, 200).header(t, "X-Amz-Tagging-Count", "2")
	c.do(call{method: "DELETE", target: "/bkt/k?tagging"}).ok(t, 204)
	c.do(call{method: "HEAD", target: "/bkt/k"}).ok(t, 200).header(t, "X-Amz-Tagging-Count", "")
	c.do(call{method: "PUT", target: "/bkt/missing?tagging", body: body}).s3err(t, 404, "NoSuchKey")

	c.do(call{method: "GET", target: "/bkt?tagging"}).s3err(t, 404, "NoSuchTagSet")
	c.do(call{method: "PUT", target: "/bkt?tagging", body: body}).ok(t, 204)
	tg.Tags = nil
	c.do(call{method: "GET", target: "/bkt?tagging"}).ok(t, 200).decode(t, &tg)
	if len(tg.Tags) != 2 {
		t.Fatalf("bucket tags = %v", tg.Tags)
	}
	c.do(call{method: "DELETE", target: "/bkt?tagging"}).ok(t, 204)
	c.do(call{method: "GET", target: "/bkt?tagging"}).s3err(t, 404, "NoSuchTagSet")
}

func TestS3VirtualHostAndAnonymous(t *testing.T) {
	t.Parallel()
	c := newS3(t, func(cfg *Config) {
		cfg.AllowAnonymous = func(bucket string) bool { return bucket == "pub" }
	})
	c.do(call{method: "PUT", target: "/", host: "pub.s3.test"}).ok(t, 200)
	c.do(call{method: "PUT", target: "/dir/k", host: "pub.s3.test:8080", body: []byte("vhost")}).ok(t, 200)
	if r := c.do(call{method: "GET", target: "/pub/dir/k", host: "s3.test"}).ok(t, 200); string(r.body) != "vhost" {
		t.Fatalf("path-style read of a vhost write = %q", r.body)
	}
	if r := c.do(call{method: "GET", target: "/dir/k", host: "pub.s3.test", anonymous: true}).ok(t, 200); string(r.body) != "vhost" {
		t.Fatalf("anonymous read = %q", r.body)
	}
	c.mkBucket("priv")
	c.do(call{method: "GET", target: "/priv?list-type=2", anonymous: true}).s3err(t, 403, "AccessDenied")
}
