package s3api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Regression tests for incompatibilities that real clients (minio-go's functional
// suite, awscli, rclone, boto3; see tests/clients) found. Each names the client
// behaviour it protects.

// checksumOf is the base64 checksum of data with alg.
func checksumOf(alg string, data []byte) string {
	h := newChecksumHash(alg)
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func (c *s3) createUpload(key string, header map[string]string) string {
	c.t.Helper()
	var init struct {
		UploadID string `xml:"UploadId"`
	}
	c.do(call{method: "POST", target: "/" + key + "?uploads", header: header}).ok(c.t, 200).decode(c.t, &init)
	if init.UploadID == "" {
		c.t.Fatal("no upload id")
	}
	return init.UploadID
}

// uploadParts uploads parts (part number → data), each with a checksum header of
// alg when alg is set, and returns the CompleteMultipartUpload body listing them.
func (c *s3) uploadParts(key, uploadID, alg string, numbers []int, parts map[int][]byte) []byte {
	c.t.Helper()
	var doc strings.Builder
	doc.WriteString("<CompleteMultipartUpload>")
	for _, n := range numbers {
		var h map[string]string
		if alg != "" {
			h = map[string]string{checksumHeader(alg): checksumOf(alg, parts[n])}
		}
		c.do(call{method: "PUT", target: fmt.Sprintf("/%s?partNumber=%d&uploadId=%s", key, n, uploadID), body: parts[n], header: h}).ok(c.t, 200)
		fmt.Fprintf(&doc, `<Part><PartNumber>%d</PartNumber><ETag>"%s"</ETag></Part>`, n, md5Hex(parts[n]))
	}
	doc.WriteString("</CompleteMultipartUpload>")
	return []byte(doc.String())
}

type completeXMLResult struct {
	ETag, ChecksumType string
	checksumXML
}

// boto3 and awscli strip "x-amz-meta-" case-sensitively from what they receive:
// a canonicalised X-Amz-Meta-Color became metadata key "Color". S3 sends user
// metadata names in lower case.
func TestCompatUserMetadataLowerCase(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "k", []byte("data"), map[string]string{"X-Amz-Meta-Color": "blue", "Content-Type": "text/plain"})
	for _, method := range []string{"GET", "HEAD"} {
		r := httptest.NewRequest(method, "/bkt/k", nil)
		if err := sigv4.SignRequest(r, testAccessKey, testSecret, testRegion, time.Now(), sigv4.EmptySHA256); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, r)
		h := rec.Result().Header // keys exactly as the handler set them
		if rec.Code != 200 || len(h["x-amz-meta-color"]) != 1 || h["x-amz-meta-color"][0] != "blue" {
			t.Errorf("%s: status %d, header %v; want x-amz-meta-color: blue in lower case", method, rec.Code, h)
		}
		if _, ok := h["X-Amz-Meta-Color"]; ok {
			t.Errorf("%s: canonical X-Amz-Meta-Color sent too", method)
		}
		if got := h.Get("Content-Type"); got != "text/plain" {
			t.Errorf("%s: Content-Type = %q", method, got)
		}
	}
}

// minio-go's functional suite uploads with every algorithm S3 offers, including
// MD5, SHA512 and the xxHash family added after CRC64NVME.
func TestCompatNewChecksumAlgorithms(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	data := []byte("checksummed content")
	for _, alg := range []string{algMD5, algSHA512, algXXHash64, algXXHash3, algXXHash128} {
		t.Run(alg, func(t *testing.T) {
			key := "/bkt/" + strings.ToLower(alg)
			hdr := checksumHeader(alg)
			c.do(call{method: "PUT", target: key, body: data, header: map[string]string{hdr: checksumOf(alg, []byte("other"))}}).s3err(t, 400, "BadDigest")
			c.do(call{method: "HEAD", target: key}).ok(t, 404)
			c.do(call{method: "PUT", target: key, body: data, header: map[string]string{hdr: checksumOf(alg, data), "X-Amz-Checksum-Algorithm": alg}}).ok(t, 200).header(t, hdr, checksumOf(alg, data))
			get := c.do(call{method: "GET", target: key, header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
			get.header(t, hdr, checksumOf(alg, data))
			get.header(t, "X-Amz-Checksum-Type", "FULL_OBJECT")
		})
	}
	// An algorithm alone asks the server to compute the checksum (minio-go sends
	// x-amz-checksum-algorithm; the AWS SDKs x-amz-sdk-checksum-algorithm).
	c.do(call{method: "PUT", target: "/bkt/computed", body: data, header: map[string]string{"X-Amz-Checksum-Algorithm": "CRC32C"}}).ok(t, 200).
		header(t, "X-Amz-Checksum-Crc32c", checksumOf(algCRC32C, data))
}

// minio-go completes a composite upload sending the object's checksum without
// the "-<parts>" suffix and x-amz-checksum-type; that header describes the
// object, not the XML body, which was wrongly checked against it (BadDigest).
// It also asks for FULL_OBJECT CRC32/CRC32C uploads.
func TestCompatMultipartChecksums(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	parts := map[int][]byte{1: bytes.Repeat([]byte("a"), 5<<20), 2: []byte("the last part")}
	whole := append(append([]byte{}, parts[1]...), parts[2]...)

	t.Run("composite", func(t *testing.T) {
		for _, alg := range []string{algCRC32C, algXXHash64, algSHA512} {
			key := "bkt/composite-" + strings.ToLower(alg)
			id := c.createUpload(key, map[string]string{"X-Amz-Checksum-Algorithm": alg})
			body := c.uploadParts(key, id, alg, []int{1, 2}, parts)
			want, err := compositeChecksum(alg, []string{checksumOf(alg, parts[1]), checksumOf(alg, parts[2])})
			if err != nil {
				t.Fatal(err)
			}
			base, _, _ := strings.Cut(want, "-")
			r := c.do(call{method: "POST", target: "/" + key + "?uploadId=" + id, body: body,
				header: map[string]string{checksumHeader(alg): base, "X-Amz-Checksum-Type": "COMPOSITE"}}).ok(t, 200)
			if !bytes.Contains(r.body, []byte("<Checksum"+alg+">"+want+"</Checksum"+alg+">")) {
				t.Errorf("%s: CompleteMultipartUploadResult lacks <Checksum%s>%s: %s", alg, alg, want, r.body)
			}
			var res completeXMLResult
			r.decode(t, &res)
			if res.values()[alg] != want || res.ChecksumType != "COMPOSITE" {
				t.Errorf("%s: complete = %+v, want %s COMPOSITE", alg, res, want)
			}
			head := c.do(call{method: "HEAD", target: "/" + key, header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
			head.header(t, checksumHeader(alg), want)
			head.header(t, "X-Amz-Checksum-Type", "COMPOSITE")
		}
	})

	t.Run("full object", func(t *testing.T) {
		for _, alg := range []string{algCRC32, algCRC32C, algCRC64NVME} {
			key := "bkt/full-" + strings.ToLower(alg)
			cr := c.do(call{method: "POST", target: "/" + key + "?uploads", header: map[string]string{"X-Amz-Checksum-Algorithm": alg, "X-Amz-Checksum-Type": "FULL_OBJECT"}}).ok(t, 200)
			cr.header(t, "X-Amz-Checksum-Type", "FULL_OBJECT")
			var init struct {
				UploadID string `xml:"UploadId"`
			}
			cr.decode(t, &init)
			body := c.uploadParts(key, init.UploadID, alg, []int{1, 2}, parts)
			var lp struct{ ChecksumAlgorithm, ChecksumType string }
			c.do(call{method: "GET", target: "/" + key + "?uploadId=" + init.UploadID}).ok(t, 200).decode(t, &lp)
			if lp.ChecksumAlgorithm != alg || lp.ChecksumType != "FULL_OBJECT" {
				t.Errorf("%s: ListParts = %+v", alg, lp)
			}
			want := checksumOf(alg, whole)
			target := "/" + key + "?uploadId=" + init.UploadID
			c.do(call{method: "POST", target: target, body: body, header: map[string]string{checksumHeader(alg): checksumOf(alg, parts[1])}}).s3err(t, 400, "BadDigest")
			c.do(call{method: "POST", target: target, body: body, header: map[string]string{"X-Amz-Checksum-Type": "COMPOSITE"}}).s3err(t, 400, "InvalidRequest")
			var res completeXMLResult
			c.do(call{method: "POST", target: target, body: body, header: map[string]string{checksumHeader(alg): want, "X-Amz-Checksum-Type": "FULL_OBJECT"}}).ok(t, 200).decode(t, &res)
			if res.values()[alg] != want || res.ChecksumType != "FULL_OBJECT" {
				t.Errorf("%s: complete = %+v, want %s FULL_OBJECT", alg, res, want)
			}
			head := c.do(call{method: "HEAD", target: "/" + key, header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
			head.header(t, checksumHeader(alg), want)
			head.header(t, "X-Amz-Checksum-Type", "FULL_OBJECT")
		}
	})

	// A copy is one object: it gets a FULL_OBJECT checksum of the source's
	// algorithm, even from a COMPOSITE source (minio-go checks the copy's value).
	t.Run("copy of composite", func(t *testing.T) {
		c.do(call{method: "PUT", target: "/bkt/copy", header: map[string]string{"X-Amz-Copy-Source": "/bkt/composite-xxhash64"}}).ok(t, 200)
		head := c.do(call{method: "HEAD", target: "/bkt/copy", header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 200)
		head.header(t, "X-Amz-Checksum-Xxhash64", checksumOf(algXXHash64, whole))
		head.header(t, "X-Amz-Checksum-Type", "FULL_OBJECT")
	})

	t.Run("invalid types", func(t *testing.T) {
		for _, h := range []map[string]string{
			{"X-Amz-Checksum-Algorithm": "SHA1", "X-Amz-Checksum-Type": "FULL_OBJECT"},
			{"X-Amz-Checksum-Algorithm": "XXHASH3", "X-Amz-Checksum-Type": "FULL_OBJECT"},
			{"X-Amz-Checksum-Algorithm": "CRC64NVME", "X-Amz-Checksum-Type": "COMPOSITE"},
			{"X-Amz-Checksum-Algorithm": "CRC32", "X-Amz-Checksum-Type": "PARTIAL"},
		} {
			c.do(call{method: "POST", target: "/bkt/bad?uploads", header: h}).s3err(t, 400, "InvalidRequest")
		}
	})
}

// awscli (get-object/head-object --part-number) and minio-go read one part of a
// multipart object; that answered NotImplemented.
func TestCompatPartNumber(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	parts := map[int][]byte{1: bytes.Repeat([]byte("a"), 5<<20), 3: []byte("part three")}
	size := len(parts[1]) + len(parts[3])
	id := c.createUpload("bkt/mp", map[string]string{"X-Amz-Checksum-Algorithm": "SHA256"})
	body := c.uploadParts("bkt/mp", id, algSHA256, []int{1, 3}, parts)
	c.do(call{method: "POST", target: "/bkt/mp?uploadId=" + id, body: body}).ok(t, 200)

	// Parts keep their numbers: this object has parts 1 and 3, and no part 2.
	for _, tc := range []struct {
		n          int
		start, end int
	}{{1, 0, len(parts[1]) - 1}, {3, len(parts[1]), size - 1}} {
		g := c.do(call{method: "GET", target: fmt.Sprintf("/bkt/mp?partNumber=%d", tc.n), header: map[string]string{"X-Amz-Checksum-Mode": "ENABLED"}}).ok(t, 206)
		if !bytes.Equal(g.body, parts[tc.n]) {
			t.Errorf("part %d: %d bytes, want the part's %d", tc.n, len(g.body), len(parts[tc.n]))
		}
		g.header(t, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, size))
		g.header(t, "X-Amz-Mp-Parts-Count", "2")
		g.header(t, "X-Amz-Checksum-Sha256", checksumOf(algSHA256, parts[tc.n])) // the part's own
		h := c.do(call{method: "HEAD", target: fmt.Sprintf("/bkt/mp?partNumber=%d", tc.n)}).ok(t, 206)
		h.header(t, "Content-Length", fmt.Sprint(len(parts[tc.n])))
	}
	c.do(call{method: "GET", target: "/bkt/mp?partNumber=2"}).s3err(t, 416, "InvalidPartNumber")
	c.do(call{method: "GET", target: "/bkt/mp?partNumber=4"}).s3err(t, 416, "InvalidPartNumber")

	// An object not uploaded in parts is its own part 1.
	c.put("bkt", "single", []byte("single"), nil)
	if g := c.do(call{method: "GET", target: "/bkt/single?partNumber=1"}).ok(t, 200); string(g.body) != "single" {
		t.Errorf("single partNumber=1 = %q", g.body)
	}
	c.do(call{method: "GET", target: "/bkt/single?partNumber=2"}).s3err(t, 416, "InvalidPartNumber")
}

// minio-go's SetMatchETagExcept sends If-None-Match with an entity tag on PUT.
func TestCompatIfNoneMatchETagOnPut(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.do(call{method: "PUT", target: "/bkt/new", body: []byte("v1"), header: map[string]string{"If-None-Match": `"abc"`}}).ok(t, 200)
	etag := `"` + md5Hex([]byte("v1")) + `"`
	c.do(call{method: "PUT", target: "/bkt/new", body: []byte("v2"), header: map[string]string{"If-None-Match": `"x", ` + etag}}).s3err(t, 412, "PreconditionFailed")
	c.do(call{method: "PUT", target: "/bkt/new", body: []byte("v2"), header: map[string]string{"If-None-Match": `"other"`}}).ok(t, 200)
	if g := c.do(call{method: "GET", target: "/bkt/new"}).ok(t, 200); string(g.body) != "v2" {
		t.Errorf("object = %q, want v2", g.body)
	}
}

// minio-go stores and lists REDUCED_REDUNDANCY objects and expects an invalid
// storage class to be refused.
func TestCompatStorageClass(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	c.put("bkt", "rrs", []byte("x"), map[string]string{"X-Amz-Storage-Class": "REDUCED_REDUNDANCY"})
	c.put("bkt", "std", []byte("x"), map[string]string{"X-Amz-Storage-Class": "STANDARD"})
	c.do(call{method: "PUT", target: "/bkt/bad", body: []byte("x"), header: map[string]string{"X-Amz-Storage-Class": "GLACIER"}}).s3err(t, 400, "InvalidStorageClass")
	c.do(call{method: "HEAD", target: "/bkt/rrs"}).ok(t, 200).header(t, "X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	c.do(call{method: "HEAD", target: "/bkt/std"}).ok(t, 200).header(t, "X-Amz-Storage-Class", "") // S3 omits STANDARD

	var list struct {
		Contents []struct{ Key, StorageClass string }
	}
	c.do(call{method: "GET", target: "/bkt?list-type=2"}).ok(t, 200).decode(t, &list)
	got := fmt.Sprint(list.Contents)
	if want := "[{rrs REDUCED_REDUNDANCY} {std STANDARD}]"; got != want {
		t.Errorf("ListObjectsV2 = %s, want %s", got, want)
	}
	// A copy's class is the request's, STANDARD by default, whatever the source's.
	c.do(call{method: "PUT", target: "/bkt/copy", header: map[string]string{"X-Amz-Copy-Source": "/bkt/rrs"}}).ok(t, 200)
	c.do(call{method: "HEAD", target: "/bkt/copy"}).ok(t, 200).header(t, "X-Amz-Storage-Class", "")
	c.do(call{method: "PUT", target: "/bkt/std", header: map[string]string{"X-Amz-Copy-Source": "/bkt/std", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"}}).ok(t, 200)
	c.do(call{method: "HEAD", target: "/bkt/std"}).ok(t, 200).header(t, "X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
}

// minio-go's GetObjectAttributes (and the AWS SDKs') answered NotImplemented.
func TestCompatGetObjectAttributes(t *testing.T) {
	t.Parallel()
	c := newS3(t, nil)
	c.mkBucket("bkt")
	all := map[string]string{"X-Amz-Object-Attributes": "ETag,Checksum,ObjectParts,StorageClass,ObjectSize"}
	type attrs struct {
		ETag     string
		Checksum struct {
			ChecksumSHA256, ChecksumType string
		}
		ObjectParts *struct {
			PartsCount, PartNumberMarker, NextPartNumberMarker, MaxParts int
			IsTruncated                                                  bool
			Parts                                                        []struct {
				PartNumber     int
				Size           int64
				ChecksumSHA256 string
			} `xml:"Part"`
		}
		StorageClass string
		ObjectSize   int64
	}

	data := []byte("attributes")
	c.put("bkt", "single", data, map[string]string{"X-Amz-Checksum-Sha256": sha256Header(data)})
	var a attrs
	r := c.do(call{method: "GET", target: "/bkt/single?attributes", header: all}).ok(t, 200)
	r.decode(t, &a)
	if r.Header.Get("Last-Modified") == "" || a.ETag != md5Hex(data) || a.ObjectSize != int64(len(data)) || a.StorageClass != "STANDARD" ||
		a.Checksum.ChecksumSHA256 != sha256Header(data) || a.Checksum.ChecksumType != "FULL_OBJECT" || a.ObjectParts != nil {
		t.Errorf("single object attributes = %+v", a)
	}
	a = attrs{}
	c.do(call{method: "GET", target: "/bkt/single?attributes", header: map[string]string{"X-Amz-Object-Attributes": "ObjectSize"}}).ok(t, 200).decode(t, &a)
	if a.ETag != "" || a.ObjectSize != int64(len(data)) || a.StorageClass != "" {
		t.Errorf("ObjectSize only = %+v", a)
	}

	parts := map[int][]byte{1: bytes.Repeat([]byte("a"), 5<<20), 2: []byte("two")}
	id := c.createUpload("bkt/mp", map[string]string{"X-Amz-Checksum-Algorithm": "SHA256"})
	c.do(call{method: "POST", target: "/bkt/mp?uploadId=" + id, body: c.uploadParts("bkt/mp", id, algSHA256, []int{1, 2}, parts)}).ok(t, 200)
	composite, _ := compositeChecksum(algSHA256, []string{sha256Header(parts[1]), sha256Header(parts[2])})
	a = attrs{}
	c.do(call{method: "GET", target: "/bkt/mp?attributes", header: all}).ok(t, 200).decode(t, &a)
	base, _, _ := strings.Cut(composite, "-")
	if a.Checksum.ChecksumSHA256 != base || a.Checksum.ChecksumType != "COMPOSITE" || a.ObjectParts == nil ||
		a.ObjectParts.PartsCount != 2 || len(a.ObjectParts.Parts) != 2 || a.ObjectParts.IsTruncated ||
		a.ObjectParts.Parts[1].PartNumber != 2 || a.ObjectParts.Parts[1].Size != 3 || a.ObjectParts.Parts[1].ChecksumSHA256 != sha256Header(parts[2]) {
		t.Errorf("multipart attributes = %+v (parts %+v), want checksum %s without its suffix", a, a.ObjectParts, base)
	}
	page := func(h map[string]string) attrs {
		var p attrs
		c.do(call{method: "GET", target: "/bkt/mp?attributes", header: h}).ok(t, 200).decode(t, &p)
		return p
	}
	p := page(map[string]string{"X-Amz-Object-Attributes": "ObjectParts", "X-Amz-Max-Parts": "1"})
	if op := p.ObjectParts; op == nil || len(op.Parts) != 1 || !op.IsTruncated || op.NextPartNumberMarker != 1 || op.MaxParts != 1 {
		t.Errorf("max-parts 1 = %+v", op)
	}
	p = page(map[string]string{"X-Amz-Object-Attributes": "ObjectParts", "X-Amz-Part-Number-Marker": "1"})
	if op := p.ObjectParts; op == nil || len(op.Parts) != 1 || op.Parts[0].PartNumber != 2 || op.IsTruncated || op.PartNumberMarker != 1 {
		t.Errorf("marker 1 = %+v", op)
	}
	c.do(call{method: "GET", target: "/bkt/absent?attributes", header: all}).s3err(t, 404, "NoSuchKey")
	c.do(call{method: "GET", target: "/nobkt/absent?attributes", header: all}).s3err(t, 404, "NoSuchBucket")
}

// A NotImplemented answer is the client's request, not a server fault: it must
// not be logged as an error (minio-go's suite probes many such features).
func TestCompatNotImplementedIsNotAnError(t *testing.T) {
	t.Parallel()
	srv, logs := newTestServer(t, nil)
	resp := do(t, srv, testReq{method: "GET", target: "/bkt?cors", sign: true})
	resp.Body.Close()
	if resp.StatusCode != 501 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if out := logs.String(); strings.Contains(out, "level=ERROR") || !strings.Contains(out, "code=NotImplemented") {
		t.Errorf("log:\n%s\nwant the NotImplemented at debug level", out)
	}
}
