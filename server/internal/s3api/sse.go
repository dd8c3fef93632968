package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// Server-side encryption in the handlers (package sse does the cryptography).
//
// Writes (PutObject, CopyObject's destination, CreateMultipartUpload) resolve
// their encryption with writeEncryption: the request's headers, else the
// bucket's default. An encrypted write stores the sse stream of the body, with
// the plaintext size (ActualSize), the ETag computed here and the sealed object
// key in the version's internal metadata. UploadPart and UploadPartCopy encrypt
// with the upload's object key (an SSE-S3 part's ETag is computed here too).
// Reads (GetObject, HeadObject, copy sources) open the object key with
// readEncryption and decrypt only the packages the range needs. Errors from sse
// and kms are mapped in sseError.

// internalPrefix is how the object layer keeps internal metadata in an
// upload's Meta (objects.UploadInfo has no Internal of its own).
const internalPrefix = "X-Cairn-Internal-"

// encryption is the encryption of one write.
type encryption struct {
	params sse.Params
	key    sse.ObjectKey
	meta   map[string]string // objects.PutOptions.Internal
	info   sse.Info
}

// writeEncryption resolves the encryption of a write to bucket/key: the
// request's headers, else the bucket's default encryption; nil means plaintext.
// It makes the object key (asking the KMS), so a KMS failure fails the request
// before anything is written.
func (s *server) writeEncryption(ctx context.Context, rq *request, bucket, key string) (*encryption, error) {
	h := rq.r.Header
	svc := s.cfg.SSE
	if svc == nil {
		if sse.HasHeaders(h) {
			return nil, apiError(codeNotImplemented, "Server-side encryption is not configured on this server.")
		}
		return nil, nil
	}
	p, err := sse.ParseHeaders(h)
	if err != nil {
		return nil, err
	}
	if p.Kind == sse.None {
		cfg, err := s.objects.BucketConfig(ctx, bucket)
		if err != nil {
			return nil, err
		}
		if cfg.Encryption != "" {
			bc, err := sse.ParseBucketConfig([]byte(cfg.Encryption))
			if err != nil {
				return nil, err
			}
			p = bc.Params()
		}
	}
	if p.Kind == sse.None {
		return nil, nil
	}
	if err := svc.CheckTransport(p, rq.r.TLS != nil); err != nil {
		return nil, err
	}
	k, md, err := svc.NewObjectKey(ctx, p, bucket, key)
	if err != nil {
		return nil, err
	}
	return &encryption{params: p, key: k, meta: md, info: sse.Describe(md)}, nil
}

// uploadEncryption opens the object key of an encrypted multipart upload for
// UploadPart and UploadPartCopy; nil for a plaintext upload. SSE-C uploads need
// the customer key headers on every part.
func (s *server) uploadEncryption(ctx context.Context, rq *request, upload objects.UploadInfo) (*encryption, error) {
	md := uploadInternal(upload)
	h := rq.r.Header
	if md[sse.MetaKind] == "" {
		if s.cfg.SSE != nil && sse.HasHeaders(h) {
			if p, err := sse.ParseHeaders(h); err != nil || p.Kind != sse.None {
				return nil, &sse.Error{Err: sse.ErrNotApplicable, Message: "The upload was not initiated with server-side encryption."}
			}
		}
		return nil, nil
	}
	if s.cfg.SSE == nil {
		return nil, &sse.Error{Err: sse.ErrNoKMS, Message: "The upload is encrypted and server-side encryption is not configured."}
	}
	p, err := sse.ParseHeaders(h)
	if err != nil {
		return nil, err
	}
	if p.Kind == sse.S3 || p.Kind == sse.KMS {
		p = sse.Params{} // UploadPart takes no x-amz-server-side-encryption
	}
	if err := s.cfg.SSE.CheckTransport(p, rq.r.TLS != nil); err != nil {
		return nil, err
	}
	k, err := s.cfg.SSE.ObjectKey(ctx, md, p, rq.bucket, rq.key)
	if err != nil {
		return nil, err
	}
	return &encryption{params: p, key: k, meta: md, info: sse.Describe(md)}, nil
}

// uploadInternal extracts the internal metadata of an upload.
func uploadInternal(u objects.UploadInfo) map[string]string {
	var md map[string]string
	for k, v := range u.Meta {
		if name, ok := strings.CutPrefix(k, internalPrefix); ok {
			if md == nil {
				md = map[string]string{}
			}
			md[name] = v
		}
	}
	return md
}

// sealed is an encrypted body ready for the object layer.
type sealed struct {
	body       io.Reader
	storedSize int64
	etag       string
	// etagFunc, for SSE-S3, gives the MD5 of the plaintext once the body has
	// been read to EOF ("" before): objects.PutOptions.ETagFunc and
	// objects.PartOptions.ETagFunc.
	etagFunc func() string
	close    func()
}

// seal wraps a plaintext body of size bytes in the encrypting reader of part
// (0 for a single PUT). contentMD5, when set, is checked against the plaintext
// here (the object layer sees only ciphertext): a mismatch fails the read with
// objects.ErrBadDigest before anything is committed.
//
// ETags follow S3: an SSE-S3 object's or part's ETag is the MD5 of its
// plaintext, which is hashed here while the body streams and bound late
// (etagFunc), so it needs no Content-MD5. SSE-KMS and SSE-C ETags are not
// digests of the data on S3; here a single PUT's is sse.ETag (an HMAC under the
// object key, revealing nothing of the plaintext), with or without
// Content-MD5, and a part's is the object layer's (see sealPart).
func (e *encryption) seal(body io.Reader, size int64, part int, contentMD5 []byte) (sealed, error) {
	var mr *md5Reader
	if contentMD5 != nil || e.info.Kind == sse.S3 {
		mr = &md5Reader{r: body, h: md5.New(), want: contentMD5}
		body = mr
	}
	er, err := sse.NewEncryptReader(body, e.key, uint32(part))
	if err != nil {
		return sealed{}, err
	}
	out := sealed{body: er, storedSize: -1, etag: sse.ETag(e.key), close: func() { er.Close() }}
	if size >= 0 {
		out.storedSize = sse.EncryptedSize(size)
	}
	if e.info.Kind == sse.S3 {
		out.etagFunc = mr.etag
	}
	return out, nil
}

// sealPut wraps a PutObject body and sets the options that go with it.
func (e *encryption) sealPut(body io.Reader, opts *objects.PutOptions) (io.Reader, func(), error) {
	sb, err := e.seal(body, opts.Size, 0, opts.ContentMD5)
	if err != nil {
		return nil, nil, err
	}
	opts.ActualSize = opts.Size
	opts.Size, opts.ETag, opts.ETagFunc, opts.ContentMD5 = sb.storedSize, sb.etag, sb.etagFunc, nil
	opts.Internal = e.meta
	return sb.body, sb.close, nil
}

// setHeaders sets the encryption response headers (nil-safe).
func (e *encryption) setHeaders(h http.Header) {
	if e != nil {
		sse.SetResponseHeaders(h, e.info, e.params.CustomerKeyMD5, e.params.BucketKey)
	}
}

// md5Reader hashes what it reads and, when want is set, checks it at EOF.
type md5Reader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	sum  []byte // the MD5, once r returned EOF
}

func (m *md5Reader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if m.sum == nil {
			m.sum = m.h.Sum(nil)
		}
		if m.want != nil && !bytes.Equal(m.sum, m.want) {
			return n, objects.ErrBadDigest
		}
	}
	return n, err
}

// etag is the hex MD5 of everything read, or "" before EOF or after a
// mismatch with want.
func (m *md5Reader) etag() string {
	if m.sum == nil || (m.want != nil && !bytes.Equal(m.sum, m.want)) {
		return ""
	}
	return hex.EncodeToString(m.sum)
}

// decryption is how to read an encrypted object.
type decryption struct {
	info   sse.Info
	params sse.Params
	segs   []sse.Segment
	key    sse.ObjectKey
}

// readEncryption prepares the reading of info for GET and HEAD (copySource:
// for a copy source, whose SSE-C key comes in the x-amz-copy-source-… headers);
// nil for a plaintext object. With open it opens the object key (for GET and
// copies; HEAD only checks an SSE-C key), so a wrong key or a failing KMS is an
// error before any byte is sent.
func (s *server) readEncryption(ctx context.Context, rq *request, info objects.ObjectInfo, copySource, open bool) (*decryption, error) {
	h := rq.r.Header
	parse := sse.ParseHeaders
	if copySource {
		parse = sse.ParseCopySourceHeaders
	}
	kind := info.Internal[sse.MetaKind]
	if kind == "" {
		if s.cfg.SSE != nil {
			p, err := parse(h)
			if err != nil {
				return nil, err
			}
			if err := sse.CheckParams(sse.Info{}, p); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	if s.cfg.SSE == nil {
		return nil, &sse.Error{Err: sse.ErrNoKMS, Message: "The object is encrypted and server-side encryption is not configured."}
	}
	p, err := parse(h)
	if err != nil {
		return nil, err
	}
	if p.Kind == sse.S3 || p.Kind == sse.KMS {
		return nil, apiError(codeInvalidArgument, "The x-amz-server-side-encryption header is not supported for this operation.")
	}
	d := &decryption{info: sse.Describe(info.Internal), params: p}
	if err := sse.CheckParams(d.info, p); err != nil {
		return nil, err
	}
	if err := s.cfg.SSE.CheckTransport(p, rq.r.TLS != nil); err != nil {
		return nil, err
	}
	var parts []sse.PartSize
	if info.PartCount > 0 {
		for _, pt := range info.Parts {
			parts = append(parts, sse.PartSize{Number: pt.Number, StoredSize: pt.Size})
		}
	}
	if d.segs, err = sse.Segments(info.StoredSize, parts); err != nil {
		return nil, err
	}
	if open || d.info.Kind == sse.C {
		if d.key, err = s.cfg.SSE.ObjectKey(ctx, info.Internal, p, info.Bucket, info.Key); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// plain returns info with the parts' plaintext sizes (for partNumber reads).
func (d *decryption) plain(info objects.ObjectInfo) objects.ObjectInfo {
	if len(info.Parts) == len(d.segs) && info.PartCount > 0 {
		parts := make([]objects.PartInfo, len(info.Parts))
		copy(parts, info.Parts)
		for i := range parts {
			parts[i].Size = d.segs[i].PlainSize
		}
		info.Parts = parts
	}
	return info
}

// writeRange writes plaintext bytes rng of the object to w.
func (d *decryption) writeRange(ctx context.Context, obj objects.Object, w io.Writer, rng byteRange) error {
	return sse.DecryptRange(ctx, obj, w, d.key, d.segs, rng.start, rng.length)
}

// setHeaders sets the encryption response headers of a read (nil-safe).
func (d *decryption) setHeaders(h http.Header) {
	if d != nil {
		sse.SetResponseHeaders(h, d.info, d.params.CustomerKeyMD5, false)
	}
}

// sourceStream is streamFrom for a copy source that may be encrypted.
func sourceStream(ctx context.Context, obj objects.Object, d *decryption, rng byteRange) (io.Reader, func()) {
	if d == nil {
		return streamFrom(ctx, obj, rng)
	}
	return streamFrom(ctx, decryptingObject{Object: obj, d: d}, rng)
}

// decryptingObject serves plaintext ranges of an encrypted object.
type decryptingObject struct {
	objects.Object
	d *decryption
}

func (o decryptingObject) WriteRange(ctx context.Context, w io.Writer, offset, length int64) error {
	return o.d.writeRange(ctx, o.Object, w, byteRange{start: offset, length: length})
}

// encryptedPartSizes returns the plaintext size of an encrypted upload's
// object, from the stored sizes of the parts a Complete names.
func (s *server) encryptedPartSizes(ctx context.Context, rq *request, upload objects.UploadInfo, parts []objects.CompletePart) (int64, error) {
	stored := map[int]int64{}
	for marker := 0; ; {
		page, err := s.objects.ListParts(ctx, rq.bucket, rq.key, upload.UploadID, marker, maxListKeys)
		if err != nil {
			return 0, err
		}
		for _, p := range page.Parts {
			stored[p.Number] = p.Size
		}
		if !page.IsTruncated || page.NextPartNumberMarker <= marker {
			break
		}
		marker = page.NextPartNumberMarker
	}
	var total int64
	for _, p := range parts {
		sz, ok := stored[p.Number]
		if !ok {
			return 0, apiError(codeInvalidPart, "")
		}
		n, err := sse.DecryptedSize(sz)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// plainPartSize is the size ListParts shows for a part of upload.
func plainPartSize(upload objects.UploadInfo, stored int64) int64 {
	if uploadInternal(upload)[sse.MetaKind] == "" {
		return stored
	}
	if n, err := sse.DecryptedSize(stored); err == nil {
		return n
	}
	return stored
}

// sseError maps errors of packages sse and kms to S3 errors; nil when err is
// neither. Called by errorResponse.
func sseError(err error) *APIError {
	var se *sse.Error
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, sse.ErrInvalidHeaders):
			return apiError(codeInvalidArgument, se.Message)
		case errors.Is(err, sse.ErrNotImplemented), errors.Is(err, sse.ErrNoKMS):
			return apiError(codeNotImplemented, se.Message)
		case errors.Is(err, sse.ErrInsecureTransport), errors.Is(err, sse.ErrMissingCustomerKey), errors.Is(err, sse.ErrNotApplicable):
			return apiError(codeInvalidRequest, se.Message)
		case errors.Is(err, sse.ErrWrongCustomerKey):
			return apiError(codeAccessDenied, "")
		case errors.Is(err, sse.ErrMalformedConfig):
			return apiError(codeMalformedXML, se.Message)
		}
	}
	switch {
	case errors.Is(err, kms.ErrKeyNotFound):
		return &APIError{Code: "KMS.NotFoundException", Status: http.StatusBadRequest, Message: "The KMS key does not exist."}
	case errors.Is(err, kms.ErrKeyDisabled):
		return &APIError{Code: "KMS.DisabledException", Status: http.StatusBadRequest, Message: "The KMS key is disabled."}
	case errors.Is(err, kms.ErrInvalidName):
		return &APIError{Code: "KMS.NotFoundException", Status: http.StatusBadRequest, Message: "The KMS key id is not valid."}
	case errors.Is(err, kms.ErrUnavailable):
		return &APIError{Code: "KMS.KMSInternalError", Status: http.StatusInternalServerError, Message: "The KMS could not be reached or failed. Please try again."}
	}
	return nil
}

// sealPart wraps an UploadPart or UploadPartCopy body and sets the options that
// go with it. An SSE-S3 part's ETag is the MD5 of its plaintext, as in S3
// (bound late, objects.PartOptions.ETagFunc), so the completed object's ETag is
// S3's MD5 of the plaintext part MD5s, "-N". SSE-KMS and SSE-C parts keep the
// object layer's ETag, the MD5 of the stored (encrypted) part: like sse.ETag
// for a single PUT it reveals nothing of the plaintext, and unlike sse.ETag,
// which is one value per object key and so per upload, it names the part
// (CompleteMultipartUpload checks that the client's ETag is of the part stored).
func (e *encryption) sealPart(body io.Reader, part int, opts *objects.PartOptions) (io.Reader, func(), error) {
	sb, err := e.seal(body, opts.Size, part, opts.ContentMD5)
	if err != nil {
		return nil, nil, err
	}
	opts.Size, opts.ContentMD5, opts.ETagFunc = sb.storedSize, nil, sb.etagFunc
	return sb.body, sb.close, nil
}
