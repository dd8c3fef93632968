package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts, ListMultipartUploads.

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// uploadChecksum reads x-amz-checksum-algorithm and x-amz-checksum-type of a
// CreateMultipartUpload. Without a type, the algorithm's default applies
// (FULL_OBJECT for CRC64NVME, COMPOSITE for the others); FULL_OBJECT is
// available for the CRCs only, COMPOSITE for all but CRC64NVME.
func uploadChecksum(h http.Header) (alg, typ string, err error) {
	v, t := h.Get("X-Amz-Checksum-Algorithm"), strings.ToUpper(strings.TrimSpace(h.Get("X-Amz-Checksum-Type")))
	if v == "" {
		if t != "" {
			return "", "", apiError(codeInvalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		return "", "", nil
	}
	if alg, err = parseAlgorithm(v); err != nil {
		return "", "", err
	}
	switch t {
	case "":
		return alg, defaultChecksumType(alg), nil
	case checksumComposite, checksumFullObject:
		if !supportsChecksumType(alg, t) {
			return "", "", apiError(codeInvalidRequest, "The "+alg+" checksum does not support the "+t+" checksum type.")
		}
		return alg, t, nil
	}
	return "", "", apiError(codeInvalidRequest, "Value for x-amz-checksum-type header is invalid.")
}

// defaultChecksumType is the checksum type of a multipart object with alg when
// the upload did not choose one.
func defaultChecksumType(alg string) string {
	if alg == algCRC64NVME {
		return checksumFullObject
	}
	return checksumComposite
}

// uploadChecksumType is the checksum type of an upload ("" without an algorithm).
// Uploads recorded before the type was stored have their algorithm's default.
func uploadChecksumType(u objects.UploadInfo) string {
	switch {
	case u.ChecksumAlgorithm == "":
		return ""
	case u.ChecksumType != "":
		return u.ChecksumType
	}
	return defaultChecksumType(u.ChecksumAlgorithm)
}

func (s *server) createMultipartUpload(w http.ResponseWriter, rq *request) error {
	h := rq.r.Header
	if err := rejectUnsupportedHeaders(h); err != nil {
		return err
	}
	meta, err := objectMeta(h)
	if err != nil {
		return err
	}
	tags, err := parseTagHeader(h.Get("X-Amz-Tagging"))
	if err != nil {
		return err
	}
	alg, typ, err := uploadChecksum(h)
	if err != nil {
		return err
	}
	opts := objects.PutOptions{Size: -1, Meta: meta, Tags: tags}
	if alg != "" {
		opts.Checksum, opts.ChecksumType = &objects.Checksum{Algorithm: alg}, typ
	}
	enc, err := s.writeEncryption(rq.r.Context(), rq, rq.bucket, rq.key)
	if err != nil {
		return err
	}
	if enc != nil {
		opts.Internal = enc.meta
	}
	id, err := s.objects.NewMultipartUpload(rq.r.Context(), rq.bucket, rq.key, opts)
	if err != nil {
		return err
	}
	enc.setHeaders(w.Header())
	if alg != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", alg)
		w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	return writeXML(w, http.StatusOK, initiateMultipartUploadResult{Bucket: rq.bucket, Key: rq.key, UploadID: id})
}

func (s *server) uploadPart(w http.ResponseWriter, rq *request) error {
	part, err := parsePartNumber(rq.query.Get("partNumber"))
	if err != nil {
		return err
	}
	size, err := uploadSize(rq)
	if err != nil {
		return err
	}
	md5sum, err := contentMD5(rq.r.Header)
	if err != nil {
		return err
	}
	body, sum, err := checksumBody(rq, rq.body)
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	upload, err := s.objects.UploadInfo(ctx, rq.bucket, rq.key, rq.query.Get("uploadId"))
	if err != nil {
		return err
	}
	enc, err := s.uploadEncryption(ctx, rq, upload)
	if err != nil {
		return err
	}
	opts := objects.PartOptions{Size: size, ContentMD5: md5sum, Checksum: sum}
	if enc != nil {
		var done func()
		if body, done, err = enc.sealPart(body, part, &opts); err != nil {
			return err
		}
		defer done()
	}
	info, err := s.objects.PutObjectPart(ctx, rq.bucket, rq.key, rq.query.Get("uploadId"), part, body, opts)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", quoteETag(info.ETag))
	enc.setHeaders(h)
	if sum != nil && sum.Value != "" {
		h.Set(checksumHeader(sum.Algorithm), sum.Value)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyPartResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
	checksumXML
}

// uploadPartCopy uploads a part copied from (a range of) an existing object. The
// part gets a checksum of the upload's algorithm, computed while copying.
func (s *server) uploadPartCopy(w http.ResponseWriter, rq *request) error {
	h := rq.r.Header
	part, err := parsePartNumber(rq.query.Get("partNumber"))
	if err != nil {
		return err
	}
	src, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	ctx := rq.r.Context()
	uploadID := rq.query.Get("uploadId")
	upload, err := s.objects.UploadInfo(ctx, rq.bucket, rq.key, uploadID)
	if err != nil {
		return err
	}
	enc, err := s.uploadEncryption(ctx, rq, upload)
	if err != nil {
		return err
	}
	obj, info, err := s.openCopySource(ctx, rq, src)
	if err != nil {
		return err
	}
	srcDec, err := s.readEncryption(ctx, rq, info, true, true)
	if err != nil {
		obj.Close()
		return err
	}
	rng := byteRange{start: 0, length: info.Size}
	if v := h.Get("X-Amz-Copy-Source-Range"); v != "" {
		if rng, err = parseCopyRange(v, info.Size); err != nil {
			obj.Close()
			return err
		}
	}
	if rng.length > maxPutSize {
		obj.Close()
		return apiError(codeInvalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120.")
	}
	body, stop := sourceStream(ctx, obj, srcDec, rng)
	defer stop()
	var sum *objects.Checksum
	if upload.ChecksumAlgorithm != "" && checksumSize(upload.ChecksumAlgorithm) > 0 {
		sum = &objects.Checksum{Algorithm: upload.ChecksumAlgorithm}
		body = newChecksumReader(body, sum.Algorithm, nil, sum)
	}
	opts := objects.PartOptions{Size: rng.length, Checksum: sum}
	if enc != nil {
		var done func()
		if body, done, err = enc.sealPart(body, part, &opts); err != nil {
			return err
		}
		defer done()
	}
	pi, err := s.objects.PutObjectPart(ctx, rq.bucket, rq.key, uploadID, part, body, opts)
	if err != nil {
		return err
	}
	enc.setHeaders(w.Header())
	if info.VersionID != "" {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	res := copyPartResult{ETag: quoteETag(pi.ETag), LastModified: s3Time(pi.ModTime)}
	if sum != nil {
		res.checksumXML = checksumXMLOf(map[string]string{sum.Algorithm: sum.Value})
	}
	return writeXML(w, http.StatusOK, res)
}

// completeRequest is the body of CompleteMultipartUpload.
type completeRequest struct {
	XMLName xml.Name       `xml:"CompleteMultipartUpload"`
	Parts   []completePart `xml:"Part"`
}

type completePart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
	checksumXML
}

// parseCompleteXML decodes a CompleteMultipartUpload body: at least one part,
// part numbers 1–10000 in strictly ascending order, each with an ETag (quotes
// optional).
func parseCompleteXML(b []byte) ([]objects.CompletePart, error) {
	var req completeRequest
	if err := unmarshalXML(b, &req); err != nil {
		return nil, err
	}
	if len(req.Parts) == 0 || len(req.Parts) > maxPartNumber {
		return nil, apiError(codeMalformedXML, "")
	}
	parts := make([]objects.CompletePart, len(req.Parts))
	for i, p := range req.Parts {
		if p.PartNumber < 1 || p.PartNumber > maxPartNumber {
			return nil, apiError(codeInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive.")
		}
		if i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber {
			return nil, apiError(codeInvalidPartOrder, "")
		}
		etag := trimETag(p.ETag)
		if etag == "" {
			return nil, apiError(codeInvalidPart, "")
		}
		parts[i] = objects.CompletePart{Number: p.PartNumber, ETag: etag, Checksums: p.values()}
	}
	return parts, nil
}

type completeResult struct {
	XMLName      xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location     string   `xml:"Location"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	ETag         string   `xml:"ETag"`
	ChecksumType string   `xml:"ChecksumType,omitempty"`
	checksumXML
}

func (s *server) completeMultipartUpload(w http.ResponseWriter, rq *request) error {
	// The x-amz-checksum-* headers of this request describe the object, not the
	// XML body, so only Content-MD5 is checked against the body.
	b, err := readBodyMD5(rq, maxCompleteXML)
	if err != nil {
		return err
	}
	parts, err := parseCompleteXML(b)
	if err != nil {
		return err
	}
	cond := writeConditions(rq.r.Header)
	ctx := rq.r.Context()
	uploadID := rq.query.Get("uploadId")
	upload, err := s.objects.UploadInfo(ctx, rq.bucket, rq.key, uploadID)
	if err != nil {
		return err
	}
	sum, typ, err := s.multipartChecksum(ctx, rq, upload, parts)
	if err != nil {
		return err
	}
	opts := objects.CompleteOptions{Conditions: cond}
	if sum != nil {
		opts.Checksum, opts.ChecksumType = sum, typ
	}
	encInfo := sse.Describe(uploadInternal(upload))
	if encInfo.Kind != sse.None {
		if opts.ActualSize, err = s.encryptedPartSizes(ctx, rq, upload, parts); err != nil {
			return err
		}
	}
	info, err := s.objects.CompleteMultipartUpload(ctx, rq.bucket, rq.key, uploadID, parts, opts)
	if err != nil {
		return err
	}
	setVersionHeader(w.Header(), info.VersionID)
	sse.SetResponseHeaders(w.Header(), encInfo, "", false)
	res := completeResult{
		Location: objectURL(rq), Bucket: rq.bucket, Key: rq.key, ETag: quoteETag(info.ETag),
	}
	// Prefer what the object layer stored; fall back to what was computed here.
	if len(info.Checksums) > 0 {
		res.checksumXML, res.ChecksumType = checksumXMLOf(info.Checksums), info.ChecksumType
	} else if sum != nil {
		res.checksumXML, res.ChecksumType = checksumXMLOf(map[string]string{sum.Algorithm: sum.Value}), typ
	}
	return writeXML(w, http.StatusOK, res)
}

// multipartChecksum computes the checksum of the object a Complete will produce
// when the upload was created with a checksum algorithm, and its type: COMPOSITE
// (the checksum of the part checksums, "-N") or FULL_OBJECT (a CRC combined from
// the part CRCs). Part checksums are the stored ones. It returns nil when the
// upload has no algorithm or a part has no checksum. A value sent with the request
// (x-amz-checksum-<alg>; for COMPOSITE with or without the "-N" suffix) must
// match, and so must an x-amz-checksum-type.
func (s *server) multipartChecksum(ctx context.Context, rq *request, upload objects.UploadInfo, parts []objects.CompletePart) (*objects.Checksum, string, error) {
	alg, typ := upload.ChecksumAlgorithm, uploadChecksumType(upload)
	if alg == "" {
		return nil, "", nil
	}
	if t := strings.ToUpper(strings.TrimSpace(rq.r.Header.Get("X-Amz-Checksum-Type"))); t != "" && t != typ {
		return nil, "", apiError(codeInvalidRequest, "The upload was created using the "+typ+" checksum mode. The complete request must use the same checksum mode.")
	}
	stored := make(map[int]objects.PartInfo)
	for marker := 0; ; {
		page, err := s.objects.ListParts(ctx, rq.bucket, rq.key, upload.UploadID, marker, maxListKeys)
		if err != nil {
			return nil, "", err
		}
		for _, p := range page.Parts {
			stored[p.Number] = p
		}
		if !page.IsTruncated || page.NextPartNumberMarker <= marker {
			break
		}
		marker = page.NextPartNumberMarker
	}
	values := make([]string, 0, len(parts))
	sizes := make([]int64, 0, len(parts))
	for _, p := range parts {
		sp, ok := stored[p.Number]
		if !ok {
			return nil, "", apiError(codeInvalidPart, "")
		}
		v := sp.Checksums[alg]
		if v == "" {
			return nil, "", nil
		}
		if want := p.Checksums[alg]; want != "" && want != v {
			return nil, "", apiError(codeInvalidPart, "The "+alg+" checksum of part "+strconv.Itoa(p.Number)+" does not match the uploaded part.")
		}
		values, sizes = append(values, v), append(sizes, sp.Size)
	}
	var value string
	var err error
	if typ == checksumFullObject {
		value, err = fullObjectCRC(alg, values, sizes)
	} else {
		value, err = compositeChecksum(alg, values)
	}
	if err != nil {
		return nil, "", err
	}
	if want := strings.TrimSpace(rq.r.Header.Get(checksumHeader(alg))); want != "" && !sameChecksum(want, value) {
		return nil, "", apiError(codeBadDigest, "The "+alg+" you specified did not match the calculated checksum.")
	}
	return &objects.Checksum{Algorithm: alg, Value: value}, typ, nil
}

// sameChecksum compares a checksum a client sent with a computed one. A
// COMPOSITE value may come with or without its "-<parts>" suffix.
func sameChecksum(sent, computed string) bool {
	if sent == computed {
		return true
	}
	base, _, ok := strings.Cut(computed, "-")
	return ok && sent == base
}

// objectURL is the Location of a completed upload.
func objectURL(rq *request) string {
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + rq.r.Host + "/" + rq.bucket + "/" + s3URLEncode(rq.key)
}

func (s *server) abortMultipartUpload(w http.ResponseWriter, rq *request) error {
	if err := s.objects.AbortMultipartUpload(rq.r.Context(), rq.bucket, rq.key, rq.query.Get("uploadId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	Initiator            owner       `xml:"Initiator"`
	Owner                owner       `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
	ChecksumAlgorithm    string      `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string      `xml:"ChecksumType,omitempty"`
}

type partEntry struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumXML
}

func (s *server) listParts(w http.ResponseWriter, rq *request) error {
	marker := 0
	if v := rq.query.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return apiError(codeInvalidArgument, "Provided part-number-marker not an integer or within integer range.")
		}
		marker = n
	}
	maxParts, err := parseMaxKeys("max-parts", rq.query.Get("max-parts"), maxListKeys, maxListKeys)
	if err != nil {
		return err
	}
	uploadID := rq.query.Get("uploadId")
	res, err := s.objects.ListParts(rq.r.Context(), rq.bucket, rq.key, uploadID, marker, max(maxParts, 1))
	if err != nil {
		return err
	}
	o := ownerOf(rq)
	out := listPartsResult{
		Bucket: rq.bucket, Key: rq.key, UploadID: uploadID,
		Initiator: o, Owner: o, StorageClass: storageClassOf(res.Upload.Meta),
		PartNumberMarker: marker, NextPartNumberMarker: res.NextPartNumberMarker,
		MaxParts: maxParts, IsTruncated: res.IsTruncated,
		Parts:             make([]partEntry, 0, len(res.Parts)),
		ChecksumAlgorithm: res.Upload.ChecksumAlgorithm,
		ChecksumType:      uploadChecksumType(res.Upload),
	}
	if maxParts == 0 { // S3 lists nothing, untruncated
		out.IsTruncated, out.NextPartNumberMarker = false, 0
		res.Parts = nil
	}
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, partEntry{
			PartNumber: p.Number, LastModified: s3Time(p.ModTime), ETag: quoteETag(p.ETag), Size: plainPartSize(res.Upload, p.Size),
			checksumXML: checksumXMLOf(p.Checksums),
		})
		out.NextPartNumberMarker = p.Number
	}
	return writeXML(w, http.StatusOK, out)
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	Uploads            []uploadEntry  `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

type uploadEntry struct {
	Key               string `xml:"Key"`
	UploadID          string `xml:"UploadId"`
	Initiator         owner  `xml:"Initiator"`
	Owner             owner  `xml:"Owner"`
	StorageClass      string `xml:"StorageClass"`
	Initiated         string `xml:"Initiated"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
}

func (s *server) listMultipartUploads(w http.ResponseWriter, rq *request) error {
	q := rq.query
	urlEnc, err := parseEncodingType(q.Get("encoding-type"))
	if err != nil {
		return err
	}
	maxUploads, err := parseMaxKeys("max-uploads", q.Get("max-uploads"), maxListKeys, maxListKeys)
	if err != nil {
		return err
	}
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: maxUploads, urlEncode: urlEnc}
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	ctx := rq.r.Context()
	var res objects.ListUploadsResult
	if maxUploads == 0 {
		_, err = s.objects.HeadBucket(ctx, rq.bucket)
	} else {
		res, err = s.objects.ListMultipartUploads(ctx, rq.bucket, objects.ListUploadsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, UploadIDMarker: idMarker, MaxUploads: maxUploads,
		})
	}
	if err != nil {
		return err
	}
	o := ownerOf(rq)
	out := listUploadsResult{
		Bucket: rq.bucket, KeyMarker: p.enc(keyMarker), UploadIDMarker: idMarker,
		Delimiter: p.enc(p.delimiter), Prefix: p.enc(p.prefix), MaxUploads: maxUploads,
		IsTruncated: res.IsTruncated, EncodingType: p.encodingType(),
		Uploads:        make([]uploadEntry, 0, len(res.Uploads)),
		CommonPrefixes: p.prefixes(res.Prefixes),
	}
	for _, u := range res.Uploads {
		e := uploadEntry{
			Key: p.enc(u.Key), UploadID: u.UploadID, Initiator: o, Owner: o,
			StorageClass: storageClassOf(u.Meta), Initiated: s3Time(u.Initiated),
			ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: uploadChecksumType(u),
		}
		out.Uploads = append(out.Uploads, e)
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = p.enc(res.NextKeyMarker), res.NextUploadIDMarker
		if out.NextKeyMarker == "" && len(res.Uploads) > 0 {
			last := res.Uploads[len(res.Uploads)-1]
			out.NextKeyMarker, out.NextUploadIDMarker = p.enc(last.Key), last.UploadID
		}
	}
	return writeXML(w, http.StatusOK, out)
}
