package s3api

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/zeebo/xxh3"

	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sigv4"
)

// Checksum algorithms, by their S3 API names. The header of each is
// x-amz-checksum-<lowercase name>; its XML element is Checksum<name>.
const (
	algCRC32     = "CRC32"
	algCRC32C    = "CRC32C"
	algCRC64NVME = "CRC64NVME"
	algSHA1      = "SHA1"
	algSHA256    = "SHA256"
	algMD5       = "MD5"
	algSHA512    = "SHA512"
	algXXHash64  = "XXHASH64"
	algXXHash3   = "XXHASH3"
	algXXHash128 = "XXHASH128"
)

// Checksum types of a multipart object (x-amz-checksum-type).
const (
	checksumComposite  = "COMPOSITE"
	checksumFullObject = "FULL_OBJECT"
)

// checksumAlgorithms lists the supported algorithms in a fixed order.
func checksumAlgorithms() []string {
	return []string{algCRC32, algCRC32C, algCRC64NVME, algSHA1, algSHA256,
		algMD5, algSHA512, algXXHash64, algXXHash3, algXXHash128}
}

// unsupportedAlgorithm is the error for an algorithm name Cairn does not know.
func unsupportedAlgorithm() error {
	return apiError(codeInvalidRequest, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: ["+
		strings.Join(checksumAlgorithms(), ", ")+"].")
}

// newChecksumHash returns a fresh hash for alg, or nil for an unknown algorithm.
// Sum returns the digest big-endian, as S3 encodes it.
func newChecksumHash(alg string) hash.Hash {
	switch alg {
	case algCRC32:
		return crc32.NewIEEE()
	case algCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli)) // MakeTable caches Castagnoli
	case algCRC64NVME:
		return crc64nvme.New()
	case algSHA1:
		return sha1.New()
	case algSHA256:
		return sha256.New()
	case algMD5:
		return md5.New()
	case algSHA512:
		return sha512.New()
	case algXXHash64:
		return xxhash.New()
	case algXXHash3:
		return xxh3.New()
	case algXXHash128:
		return xxh3.New128()
	}
	return nil
}

// checksumSize is the digest length of alg in bytes, 0 for an unknown algorithm.
func checksumSize(alg string) int {
	switch alg {
	case algCRC32, algCRC32C:
		return 4
	case algCRC64NVME, algXXHash64, algXXHash3:
		return 8
	case algMD5, algXXHash128:
		return 16
	case algSHA1:
		return sha1.Size
	case algSHA256:
		return sha256.Size
	case algSHA512:
		return sha512.Size
	}
	return 0
}

// checksumHeader is the header carrying alg's value, in canonical form
// (X-Amz-Checksum-Crc32 for x-amz-checksum-crc32).
func checksumHeader(alg string) string {
	return http.CanonicalHeaderKey("x-amz-checksum-" + strings.ToLower(alg))
}

// parseAlgorithm maps a header value such as "crc32c" to its API name.
func parseAlgorithm(v string) (string, error) {
	alg := strings.ToUpper(strings.TrimSpace(v))
	if checksumSize(alg) == 0 {
		return "", unsupportedAlgorithm()
	}
	return alg, nil
}

// validChecksumValue reports whether v is the base64 of a digest of alg.
func validChecksumValue(alg, v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == checksumSize(alg)
}

// checksumSpec says how an upload's checksum arrives.
type checksumSpec struct {
	alg     string // "" when the request carries no checksum
	value   string // from a x-amz-checksum-<alg> header
	trailer bool   // the value arrives in the trailer announced by x-amz-trailer
}

// parseChecksumSpec reads the checksum headers of an upload: at most one
// x-amz-checksum-<alg> header or one checksum trailer, agreeing with
// x-amz-sdk-checksum-algorithm (or x-amz-checksum-algorithm) when both are
// given. An algorithm alone means "compute and store".
func parseChecksumSpec(h http.Header) (checksumSpec, error) {
	var spec checksumSpec
	for _, alg := range checksumAlgorithms() {
		v, ok := h[checksumHeader(alg)]
		if !ok {
			continue
		}
		if spec.alg != "" || len(v) != 1 {
			return spec, apiError(codeInvalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		if !validChecksumValue(alg, v[0]) {
			return spec, apiError(codeInvalidRequest, "Value for "+strings.ToLower(checksumHeader(alg))+" header is invalid.")
		}
		spec.alg, spec.value = alg, v[0]
	}
	for _, t := range strings.Split(strings.Join(h.Values("X-Amz-Trailer"), ","), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		name, ok := strings.CutPrefix(t, "x-amz-checksum-")
		if !ok {
			continue
		}
		alg, err := parseAlgorithm(name)
		if err != nil {
			return spec, err
		}
		if spec.alg != "" {
			return spec, apiError(codeInvalidRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		spec.alg, spec.trailer = alg, true
	}
	// x-amz-checksum-algorithm is CreateMultipartUpload's header; minio-go also
	// sends it on PutObject to ask the server to compute the checksum.
	for _, name := range []string{"X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Checksum-Algorithm"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		alg, err := parseAlgorithm(v)
		if err != nil {
			return spec, err
		}
		if spec.alg != "" && spec.alg != alg {
			return spec, apiError(codeInvalidRequest, "Value for "+strings.ToLower(name)+" header is invalid.")
		}
		spec.alg = alg
	}
	return spec, nil
}

// checksumBody wraps body in a checksum reader when the request carries a checksum
// (header, trailer, or an algorithm to compute). It returns the body to read and
// the checksum the reader fills before it returns io.EOF (nil when none).
func checksumBody(rq *request, body io.Reader) (io.Reader, *objects.Checksum, error) {
	spec, err := parseChecksumSpec(rq.r.Header)
	if err != nil {
		return nil, nil, err
	}
	if !spec.trailer && rq.r.Header.Get("X-Amz-Content-Sha256") == sigv4.StreamingUnsignedPayloadTrailer {
		// Nothing signs such a payload; only the checksum trailer protects it.
		return nil, nil, apiError(codeInvalidRequest, "STREAMING-UNSIGNED-PAYLOAD-TRAILER requires a checksum trailer declared in x-amz-trailer.")
	}
	if spec.alg == "" {
		return body, nil, nil
	}
	out := &objects.Checksum{Algorithm: spec.alg}
	var want func() (string, error)
	switch {
	case spec.value != "":
		v := spec.value
		want = func() (string, error) { return v, nil }
	case spec.trailer:
		want = trailerChecksum(rq, spec.alg)
	}
	return newChecksumReader(body, spec.alg, want, out), out, nil
}

// trailerChecksum returns the expected value from sigv4's trailer, valid once the
// body reached EOF.
func trailerChecksum(rq *request, alg string) func() (string, error) {
	return func() (string, error) {
		if rq.auth == nil || rq.auth.Trailer == nil {
			return "", apiError(codeMalformedTrailer, "")
		}
		// sigv4 has already checked that the declared trailers arrived.
		v := rq.auth.Trailer().Get(checksumHeader(alg))
		if v == "" {
			return "", apiError(codeMalformedTrailer, "The trailing "+strings.ToLower(checksumHeader(alg))+" was not sent.")
		}
		return v, nil
	}
}

// checksumReader hashes everything read through it. At the underlying reader's EOF
// it compares the digest with the expected value and either returns a BadDigest
// error instead of io.EOF, or fills out.Value and returns io.EOF. Errors are sticky.
type checksumReader struct {
	r    io.Reader
	alg  string
	h    hash.Hash
	want func() (string, error) // nil: compute only
	out  *objects.Checksum
	err  error
}

// newChecksumReader returns a reader of r that computes alg (which must be a
// supported algorithm). want, if non-nil, is called once at EOF for the expected
// base64 value. out.Value is set just before io.EOF is returned, so it is valid
// once a consumer has seen EOF and never when the reader failed.
func newChecksumReader(r io.Reader, alg string, want func() (string, error), out *objects.Checksum) io.Reader {
	return &checksumReader{r: r, alg: alg, h: newChecksumHash(alg), want: want, out: out}
}

func (c *checksumReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n]) // hash.Hash.Write never fails
	if err == nil {
		return n, nil
	}
	if err != io.EOF { //nolint:errorlint // io.Reader returns io.EOF itself, by contract
		c.err = err
		return n, err
	}
	got := base64.StdEncoding.EncodeToString(c.h.Sum(nil))
	if c.want != nil {
		want, werr := c.want()
		if werr != nil {
			c.err = werr
			return n, werr
		}
		if want != got {
			c.err = apiError(codeBadDigest, "The "+c.alg+" you specified did not match the calculated checksum.")
			return n, c.err
		}
	}
	c.out.Value = got
	c.err = io.EOF
	return n, io.EOF
}

// compositeChecksum is the checksum of a COMPOSITE multipart object: the checksum
// of the concatenated binary part checksums, suffixed "-<number of parts>".
func compositeChecksum(alg string, parts []string) (string, error) {
	h := newChecksumHash(alg)
	if h == nil {
		return "", apiError(codeInvalidRequest, "Unsupported checksum algorithm.")
	}
	for _, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(b) != checksumSize(alg) {
			return "", apiError(codeInvalidPart, "A part is missing its "+alg+" checksum.")
		}
		h.Write(b)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)), nil
}

// fullObjectCRC is the FULL_OBJECT checksum of a multipart object from its parts'
// CRCs and sizes: the CRC of the concatenated parts, computed without the data.
// Only the CRC algorithms combine (see supportsChecksumType).
func fullObjectCRC(alg string, parts []string, sizes []int64) (string, error) {
	poly, width := crcPoly(alg)
	if width == 0 || len(parts) != len(sizes) {
		return "", apiError(codeInvalidRequest, "The "+alg+" checksum cannot be of type FULL_OBJECT.")
	}
	var crc uint64
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(b) != width/8 {
			return "", apiError(codeInvalidPart, "A part is missing its "+alg+" checksum.")
		}
		var c uint64
		if width == 32 {
			c = uint64(binary.BigEndian.Uint32(b))
		} else {
			c = binary.BigEndian.Uint64(b)
		}
		if i == 0 {
			crc = c
			continue
		}
		crc = crcCombine(poly, width, crc, c, sizes[i])
	}
	out := make([]byte, width/8)
	if width == 32 {
		binary.BigEndian.PutUint32(out, uint32(crc))
	} else {
		binary.BigEndian.PutUint64(out, crc)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// supportsChecksumType reports whether a multipart upload may use alg with typ:
// the CRCs combine into FULL_OBJECT values, and every algorithm but CRC64NVME has
// a COMPOSITE form.
func supportsChecksumType(alg, typ string) bool {
	switch typ {
	case checksumFullObject:
		_, width := crcPoly(alg)
		return width > 0
	case checksumComposite:
		return checksumSize(alg) > 0 && alg != algCRC64NVME
	}
	return false
}

// crcPoly returns the reflected polynomial and width of a CRC algorithm.
func crcPoly(alg string) (poly uint64, width int) {
	switch alg {
	case algCRC32:
		return 0xEDB88320, 32
	case algCRC32C:
		return 0x82F63B78, 32
	case algCRC64NVME:
		return 0x9A6C9329AC4BC9B5, 64
	}
	return 0, 0
}

// crcCombine returns CRC(A‖B) from CRC(A), CRC(B) and len(B) for a reflected CRC
// with all-ones init and final xor (true of CRC32, CRC32C and CRC64NVME): the
// classic zlib method, CRC(A)·x^(8·len(B)) mod P xor CRC(B), in GF(2).
func crcCombine(poly uint64, width int, crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	top := uint64(1) << (width - 1) // x^0 in the reflected representation
	mulmod := func(a, b uint64) uint64 {
		var p uint64
		for m := top; m != 0; m >>= 1 {
			if a&m != 0 {
				p ^= b
			}
			if b&1 != 0 {
				b = b>>1 ^ poly
			} else {
				b >>= 1
			}
		}
		return p
	}
	// x^(8·lenB): square-and-multiply over the bits of 8·lenB.
	xpow := top    // x^0
	sq := top >> 1 // x^1
	n := uint64(lenB) * 8
	for n != 0 {
		if n&1 != 0 {
			xpow = mulmod(sq, xpow)
		}
		sq = mulmod(sq, sq)
		n >>= 1
	}
	return mulmod(xpow, crcA) ^ crcB
}

// checksumXML holds checksums in the per-algorithm elements S3 uses in XML
// (ChecksumCRC32, …, ChecksumXXHASH128). Embedded in result and part types.
type checksumXML struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
	ChecksumMD5       string `xml:"ChecksumMD5,omitempty"`
	ChecksumSHA512    string `xml:"ChecksumSHA512,omitempty"`
	ChecksumXXHASH64  string `xml:"ChecksumXXHASH64,omitempty"`
	ChecksumXXHASH3   string `xml:"ChecksumXXHASH3,omitempty"`
	ChecksumXXHASH128 string `xml:"ChecksumXXHASH128,omitempty"`
}

// fields maps each algorithm to its field.
func (c *checksumXML) fields() map[string]*string {
	return map[string]*string{
		algCRC32: &c.ChecksumCRC32, algCRC32C: &c.ChecksumCRC32C, algCRC64NVME: &c.ChecksumCRC64NVME,
		algSHA1: &c.ChecksumSHA1, algSHA256: &c.ChecksumSHA256, algMD5: &c.ChecksumMD5,
		algSHA512: &c.ChecksumSHA512, algXXHash64: &c.ChecksumXXHASH64, algXXHash3: &c.ChecksumXXHASH3,
		algXXHash128: &c.ChecksumXXHASH128,
	}
}

// checksumXMLOf converts algorithm → value (as in objects.ObjectInfo.Checksums).
func checksumXMLOf(m map[string]string) checksumXML {
	var c checksumXML
	for alg, f := range c.fields() {
		*f = m[alg]
	}
	return c
}

// values converts back to algorithm → value; nil when empty.
func (c checksumXML) values() map[string]string {
	var m map[string]string
	for alg, f := range c.fields() {
		if *f == "" {
			continue
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[alg] = strings.TrimSpace(*f)
	}
	return m
}
