package sse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cairn-io/cairn/server/internal/kms"
)

// Errors of SSE requests, each wrapped in an *Error whose Message is safe to
// send to the client. The S3 layer maps them to S3 codes.
var (
	ErrInvalidHeaders     = errors.New("sse: invalid encryption headers")           // InvalidArgument 400
	ErrNotImplemented     = errors.New("sse: encryption kind not implemented")      // NotImplemented 501
	ErrInsecureTransport  = errors.New("sse: customer key over plain HTTP")         // InvalidRequest 400
	ErrMissingCustomerKey = errors.New("sse: customer key missing")                 // InvalidRequest 400
	ErrNotApplicable      = errors.New("sse: encryption parameters not applicable") // InvalidRequest 400
	ErrWrongCustomerKey   = errors.New("sse: wrong customer key")                   // AccessDenied 403
	ErrNoKMS              = errors.New("sse: no KMS configured")                    // NotImplemented 501
	ErrMalformedConfig    = errors.New("sse: malformed encryption configuration")   // MalformedXML 400
	// ErrSealedKey is a stored key that does not open: moved from another
	// object or altered on disk. A server fault (500), never shown in detail.
	ErrSealedKey = errors.New("sse: sealed key refused")
)

// Error is an SSE request error: one of the sentinels above and a message for
// the client.
type Error struct {
	Err     error
	Message string
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Err }

func invalid(msg string) error { return &Error{Err: ErrInvalidHeaders, Message: msg} }

// Request and response headers.
const (
	HeaderSSE           = "X-Amz-Server-Side-Encryption"
	HeaderKMSKeyID      = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	HeaderContext       = "X-Amz-Server-Side-Encryption-Context"
	HeaderBucketKey     = "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"
	HeaderCustomerAlg   = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	HeaderCustomerKey   = "X-Amz-Server-Side-Encryption-Customer-Key"
	HeaderCustomerMD5   = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	copySourcePrefix    = "X-Amz-Copy-Source-" // + "Server-Side-Encryption-Customer-…"
	algAES256           = "AES256"
	algKMS              = "aws:kms"
	algKMSDSSE          = "aws:kms:dsse"
	maxContextHeaderLen = 8 << 10
)

// Params are the encryption a request asks for (or, for reads, the customer
// key it supplies).
type Params struct {
	Kind    Kind
	KeyID   string      // SSE-KMS: the key named by the request ("" = default)
	Context kms.Context // SSE-KMS: the client's encryption context
	// CustomerKey is the SSE-C key and CustomerKeyMD5 its base64 MD5 as sent.
	CustomerKey    *[32]byte
	CustomerKeyMD5 string
	// BucketKey echoes x-amz-server-side-encryption-bucket-key-enabled (Cairn
	// has no bucket keys: every object has its own data key).
	BucketKey bool
}

// HasHeaders reports whether h carries any server-side encryption header
// (copy-source ones excluded).
func HasHeaders(h http.Header) bool {
	for name := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), HeaderSSE) {
			return true
		}
	}
	return false
}

// ParseHeaders reads the encryption a PUT, copy destination, CreateMultipartUpload,
// UploadPart or GET asks for: x-amz-server-side-encryption (AES256 or aws:kms)
// with its key id and context, or the SSE-C customer key headers.
func ParseHeaders(h http.Header) (Params, error) {
	var p Params
	c, err := parseCustomer(h, "X-Amz-")
	if err != nil {
		return p, err
	}
	alg := h.Get(HeaderSSE)
	keyID := strings.TrimSpace(h.Get(HeaderKMSKeyID))
	ctxHdr := h.Get(HeaderContext)
	if v := h.Get(HeaderBucketKey); v != "" {
		p.BucketKey = strings.EqualFold(v, "true")
	}
	if c.Kind == C {
		if alg != "" || keyID != "" || ctxHdr != "" {
			return p, invalid("Server Side Encryption with Customer provided key is incompatible with the encryption method specified.")
		}
		return c, nil
	}
	switch alg {
	case "":
		if keyID != "" || ctxHdr != "" {
			return p, invalid("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms.")
		}
		return p, nil
	case algAES256:
		if keyID != "" || ctxHdr != "" {
			return p, invalid("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms.")
		}
		p.Kind = S3
		return p, nil
	case algKMS:
		p.Kind, p.KeyID = KMS, keyID
		if keyID != "" && !validKeyID(keyID) {
			return p, invalid("The KMS key id is not valid.")
		}
		if ctxHdr != "" {
			if p.Context, err = parseContext(ctxHdr); err != nil {
				return p, err
			}
		}
		return p, nil
	case algKMSDSSE:
		return p, &Error{Err: ErrNotImplemented, Message: "Dual-layer server-side encryption (aws:kms:dsse) is not implemented."}
	}
	return p, invalid("The encryption method specified is not supported.")
}

// ParseCopySourceHeaders reads the x-amz-copy-source-server-side-encryption-
// customer-* headers that open an SSE-C copy source.
func ParseCopySourceHeaders(h http.Header) (Params, error) {
	return parseCustomer(h, copySourcePrefix)
}

func parseCustomer(h http.Header, prefix string) (Params, error) {
	var p Params
	name := func(n string) string { return strings.Replace(n, "X-Amz-", prefix, 1) }
	alg, key, sum := h.Get(name(HeaderCustomerAlg)), h.Get(name(HeaderCustomerKey)), h.Get(name(HeaderCustomerMD5))
	if alg == "" && key == "" && sum == "" {
		return p, nil
	}
	if alg == "" {
		return p, invalid("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	}
	if alg != algAES256 {
		return p, invalid("The encryption algorithm specified is not valid: it must be AES256.")
	}
	if key == "" {
		return p, invalid("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return p, invalid("The secret key was invalid for the specified algorithm.")
	}
	if sum == "" {
		return p, invalid("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	want := md5.Sum(raw)
	got, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || !bytes.Equal(got, want[:]) {
		return p, invalid("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	p.Kind = C
	p.CustomerKey = new([32]byte)
	copy(p.CustomerKey[:], raw)
	p.CustomerKeyMD5 = base64.StdEncoding.EncodeToString(want[:])
	return p, nil
}

// parseContext decodes x-amz-server-side-encryption-context: base64 of a JSON
// object of string values. Keys starting with "aws:" are reserved.
func parseContext(v string) (kms.Context, error) {
	bad := invalid("The x-amz-server-side-encryption-context header must be base64-encoded UTF-8 JSON of string key-value pairs.")
	if len(v) > maxContextHeaderLen {
		return nil, bad
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !utf8.Valid(raw) {
		return nil, bad
	}
	var c map[string]string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&c); err != nil || dec.More() || c == nil {
		return nil, bad
	}
	for k := range c {
		if k == "" || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, invalid("Encryption context keys must not be empty or start with aws:.")
		}
	}
	return kms.Context(c), nil
}

// validKeyID accepts key names, ids, aliases and ARNs (no spaces or controls).
func validKeyID(id string) bool {
	if len(id) > 2048 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// SetResponseHeaders sets the encryption headers S3 returns for an object
// encrypted as info (PUT, GET, HEAD, copy and multipart responses). SSE-C
// responses echo the key MD5 the request sent (customerKeyMD5).
func SetResponseHeaders(h http.Header, info Info, customerKeyMD5 string, bucketKey bool) {
	switch info.Kind {
	case S3:
		h.Set(HeaderSSE, algAES256)
	case KMS:
		h.Set(HeaderSSE, algKMS)
		if info.KeyID != "" {
			h.Set(HeaderKMSKeyID, info.KeyID)
		}
		if len(info.Context) > 0 {
			h.Set(HeaderContext, base64.StdEncoding.EncodeToString(info.Context.Bytes()))
		}
	case C:
		h.Set(HeaderCustomerAlg, algAES256)
		if customerKeyMD5 != "" {
			h.Set(HeaderCustomerMD5, customerKeyMD5)
		}
	}
	if bucketKey && (info.Kind == S3 || info.Kind == KMS) {
		h.Set(HeaderBucketKey, "true")
	}
}

// Bucket default encryption (Put/Get/DeleteBucketEncryption).

// BucketConfig is a bucket's default encryption.
type BucketConfig struct {
	Kind      Kind // S3 or KMS
	KeyID     string
	BucketKey bool
}

type sseConfigXML struct {
	XMLName xml.Name `xml:"ServerSideEncryptionConfiguration"`
	Rules   []struct {
		Default *struct {
			Algorithm string `xml:"SSEAlgorithm"`
			KeyID     string `xml:"KMSMasterKeyID"`
		} `xml:"ApplyServerSideEncryptionByDefault"`
		BucketKey *bool `xml:"BucketKeyEnabled"`
	} `xml:"Rule"`
}

// ParseBucketConfig decodes and validates a ServerSideEncryptionConfiguration:
// exactly one rule, AES256 or aws:kms (with an optional KMSMasterKeyID).
func ParseBucketConfig(b []byte) (BucketConfig, error) {
	var doc sseConfigXML
	var c BucketConfig
	if err := xml.Unmarshal(b, &doc); err != nil {
		return c, &Error{Err: ErrMalformedConfig, Message: "The XML you provided was not well-formed or did not validate against our published schema."}
	}
	if len(doc.Rules) != 1 || doc.Rules[0].Default == nil {
		return c, &Error{Err: ErrMalformedConfig, Message: "The encryption configuration must have exactly one Rule with ApplyServerSideEncryptionByDefault."}
	}
	r := doc.Rules[0]
	if r.BucketKey != nil {
		c.BucketKey = *r.BucketKey
	}
	switch strings.TrimSpace(r.Default.Algorithm) {
	case algAES256:
		c.Kind = S3
		if strings.TrimSpace(r.Default.KeyID) != "" {
			return c, invalid("KMSMasterKeyID is allowed only with the aws:kms algorithm.")
		}
	case algKMS:
		c.Kind, c.KeyID = KMS, strings.TrimSpace(r.Default.KeyID)
		if c.KeyID != "" && !validKeyID(c.KeyID) {
			return c, invalid("The KMS key id is not valid.")
		}
	case algKMSDSSE:
		return c, &Error{Err: ErrNotImplemented, Message: "Dual-layer server-side encryption (aws:kms:dsse) is not implemented."}
	default:
		return c, &Error{Err: ErrMalformedConfig, Message: "The SSEAlgorithm must be AES256 or aws:kms."}
	}
	return c, nil
}

// Params is the encryption the bucket default applies to a write without
// encryption headers.
func (c BucketConfig) Params() Params {
	return Params{Kind: c.Kind, KeyID: c.KeyID, BucketKey: c.BucketKey}
}

// Marshal encodes c as a ServerSideEncryptionConfiguration document (what
// GetBucketEncryption returns).
func (c BucketConfig) Marshal() []byte {
	alg := algAES256
	if c.Kind == KMS {
		alg = algKMS
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>`)
	b.WriteString(alg)
	b.WriteString(`</SSEAlgorithm>`)
	if c.KeyID != "" {
		b.WriteString(`<KMSMasterKeyID>`)
		_ = xml.EscapeText(&b, []byte(c.KeyID))
		b.WriteString(`</KMSMasterKeyID>`)
	}
	b.WriteString(`</ApplyServerSideEncryptionByDefault>`)
	if c.BucketKey {
		b.WriteString(`<BucketKeyEnabled>true</BucketKeyEnabled>`)
	} else {
		b.WriteString(`<BucketKeyEnabled>false</BucketKeyEnabled>`)
	}
	b.WriteString(`</Rule></ServerSideEncryptionConfiguration>`)
	return b.Bytes()
}

func gcmOf(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
