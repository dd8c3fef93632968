package sse

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/cairn-io/cairn/server/internal/kms"
)

// Internal metadata of an encrypted object (objects.PutOptions.Internal): stored
// with the version, never sent to clients.
const (
	MetaKind       = "Sse-Kind"         // "SSE-S3", "SSE-KMS" or "SSE-C"
	MetaSealedKey  = "Sse-Sealed-Key"   // base64(nonce ‖ AES-256-GCM(KEK, object key)), bound to bucket/object
	MetaKMSKeyID   = "Sse-Kms-Key-Id"   // the KMS key that sealed the data key
	MetaKMSDataKey = "Sse-Kms-Data-Key" // base64 of the KMS's ciphertext of the data key
	MetaKMSContext = "Sse-Kms-Context"  // SSE-KMS: the client's encryption context (canonical JSON)
)

// Kind is a kind of server-side encryption.
type Kind uint8

const (
	None Kind = iota
	S3        // SSE-S3: x-amz-server-side-encryption: AES256
	KMS       // SSE-KMS: x-amz-server-side-encryption: aws:kms
	C         // SSE-C: customer-provided key
)

func (k Kind) String() string {
	switch k {
	case S3:
		return "SSE-S3"
	case KMS:
		return "SSE-KMS"
	case C:
		return "SSE-C"
	}
	return "none"
}

func parseKind(s string) Kind {
	switch s {
	case "SSE-S3":
		return S3
	case "SSE-KMS":
		return KMS
	case "SSE-C":
		return C
	}
	return None
}

// Config configures a Service.
type Config struct {
	// KMS seals data keys for SSE-S3 and SSE-KMS; nil leaves only SSE-C.
	KMS kms.KMS
	// AllowHTTPCustomerKeys accepts SSE-C keys over plain HTTP (tests). S3
	// refuses them, and so does Cairn by default.
	AllowHTTPCustomerKeys bool
}

// Service makes and opens object keys. It is safe for concurrent use.
type Service struct {
	kms       kms.KMS
	allowHTTP bool
}

// New returns a Service.
func New(cfg Config) *Service { return &Service{kms: cfg.KMS, allowHTTP: cfg.AllowHTTPCustomerKeys} }

// KMS is the service's KMS (nil if none).
func (s *Service) KMS() kms.KMS { return s.kms }

// CheckTransport refuses SSE-C keys that came over plain HTTP (unless allowed).
func (s *Service) CheckTransport(p Params, secure bool) error {
	if p.Kind == C && !secure && !s.allowHTTP {
		return &Error{Err: ErrInsecureTransport, Message: "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."}
	}
	return nil
}

// objectAD is the associated data a sealed object key is bound to.
func objectAD(kind Kind, bucket, object string) []byte {
	return fmt.Appendf(nil, "cairn-sse object key v1\x00%s\x00%s\x00%s", kind, bucket, object)
}

func kek(secret []byte, kind Kind) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, "cairn-sse kek v1\x00"+kind.String(), 32)
}

// seal seals an object key under secret (a data key or a customer key).
func seal(secret []byte, kind Kind, bucket, object string, key ObjectKey) (string, error) {
	k, err := kek(secret, kind)
	if err != nil {
		return "", err
	}
	aead, err := gcmOf(k)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(key)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, key[:], objectAD(kind, bucket, object))), nil
}

// errUnseal is what opening a sealed key with the wrong secret or for another
// object gives; callers turn it into ErrWrongCustomerKey or ErrSealedKey.
var errUnseal = errors.New("sse: sealed object key does not open")

func unseal(secret []byte, kind Kind, bucket, object, sealed string) (ObjectKey, error) {
	var key ObjectKey
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return key, errUnseal
	}
	k, err := kek(secret, kind)
	if err != nil {
		return key, err
	}
	aead, err := gcmOf(k)
	if err != nil {
		return key, err
	}
	if len(raw) != aead.NonceSize()+len(key)+aead.Overhead() {
		return key, errUnseal
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], objectAD(kind, bucket, object))
	if err != nil {
		return key, errUnseal
	}
	copy(key[:], pt)
	return key, nil
}

// kmsContext is the encryption context a data key is bound to: the object's
// ARN, as S3 uses it, plus the client's context for SSE-KMS.
func kmsContext(bucket, object string, user kms.Context) kms.Context {
	c := maps.Clone(user)
	if c == nil {
		c = kms.Context{}
	}
	c["aws:s3:arn"] = "arn:aws:s3:::" + bucket + "/" + object
	return c
}

// NewObjectKey makes a fresh object key for bucket/object as p asks and returns
// it with the metadata to store (PutOptions.Internal). SSE-S3 and SSE-KMS ask
// the KMS for a data key (KMS errors are returned wrapped); SSE-C seals under
// the customer's key, which is never stored.
func (s *Service) NewObjectKey(ctx context.Context, p Params, bucket, object string) (ObjectKey, map[string]string, error) {
	var key ObjectKey
	if _, err := rand.Read(key[:]); err != nil {
		return key, nil, err
	}
	md := map[string]string{MetaKind: p.Kind.String()}
	var secret []byte
	switch p.Kind {
	case C:
		if p.CustomerKey == nil {
			return key, nil, &Error{Err: ErrMissingCustomerKey, Message: "The SSE-C key is missing."}
		}
		secret = p.CustomerKey[:]
	case S3, KMS:
		if s.kms == nil {
			return key, nil, &Error{Err: ErrNoKMS, Message: "Server-side encryption with " + p.Kind.String() + " needs a KMS, and none is configured."}
		}
		keyID := p.KeyID
		if p.Kind == S3 {
			keyID = "" // SSE-S3 always uses the server's default key
		}
		dk, err := s.kms.GenerateKey(ctx, keyID, kmsContext(bucket, object, p.Context))
		if err != nil {
			return key, nil, err
		}
		secret = dk.Plaintext
		md[MetaKMSKeyID] = dk.KeyID
		md[MetaKMSDataKey] = base64.StdEncoding.EncodeToString(dk.Ciphertext)
		if p.Kind == KMS && len(p.Context) > 0 {
			md[MetaKMSContext] = string(p.Context.Bytes())
		}
	default:
		return key, nil, fmt.Errorf("sse: no object key for %v", p.Kind)
	}
	sealed, err := seal(secret, p.Kind, bucket, object, key)
	if err != nil {
		return key, nil, err
	}
	md[MetaSealedKey] = sealed
	return key, md, nil
}

// Describe tells how an object with internal metadata md is encrypted, without
// opening anything (for HEAD and response headers).
func Describe(md map[string]string) Info {
	info := Info{Kind: parseKind(md[MetaKind]), KeyID: md[MetaKMSKeyID]}
	if raw := md[MetaKMSContext]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &info.Context)
	}
	return info
}

// Info describes an object's encryption.
type Info struct {
	Kind    Kind
	KeyID   string      // SSE-S3, SSE-KMS
	Context kms.Context // SSE-KMS client context
}

// CheckParams checks the request's SSE-C headers against a stored object's
// encryption: an SSE-C object needs them, any other object refuses them.
func CheckParams(info Info, p Params) error {
	switch {
	case info.Kind == C && p.Kind != C:
		return &Error{Err: ErrMissingCustomerKey, Message: "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."}
	case info.Kind != C && p.Kind == C:
		return &Error{Err: ErrNotApplicable, Message: "The encryption parameters are not applicable to this object."}
	}
	return nil
}

// ObjectKey opens the object key of bucket/object from its internal metadata.
// p carries the customer key of an SSE-C object (CheckParams first). A wrong
// customer key is ErrWrongCustomerKey; a sealed key that belongs to another
// object (or was altered) is ErrSealedKey.
func (s *Service) ObjectKey(ctx context.Context, md map[string]string, p Params, bucket, object string) (ObjectKey, error) {
	info := Describe(md)
	if err := CheckParams(info, p); err != nil {
		return ObjectKey{}, err
	}
	var secret []byte
	switch info.Kind {
	case C:
		secret = p.CustomerKey[:]
	case S3, KMS:
		if s.kms == nil {
			return ObjectKey{}, &Error{Err: ErrNoKMS, Message: "The object is encrypted with " + info.Kind.String() + " and no KMS is configured."}
		}
		ct, err := base64.StdEncoding.DecodeString(md[MetaKMSDataKey])
		if err != nil {
			return ObjectKey{}, fmt.Errorf("%w: data key is not base64", ErrSealedKey)
		}
		if secret, err = s.kms.Decrypt(ctx, info.KeyID, ct, kmsContext(bucket, object, info.Context)); err != nil {
			if errors.Is(err, kms.ErrDecrypt) {
				return ObjectKey{}, fmt.Errorf("%w: %w", ErrSealedKey, err)
			}
			return ObjectKey{}, err
		}
	default:
		return ObjectKey{}, fmt.Errorf("sse: object is not encrypted (%q)", md[MetaKind])
	}
	key, err := unseal(secret, info.Kind, bucket, object, md[MetaSealedKey])
	if errors.Is(err, errUnseal) {
		if info.Kind == C {
			return key, &Error{Err: ErrWrongCustomerKey, Message: "Access Denied."}
		}
		return key, fmt.Errorf("%w: it belongs to another object or was altered", ErrSealedKey)
	}
	return key, err
}

// Rewrap re-seals the data key of an SSE-S3 or SSE-KMS object under the
// current version of its KMS key (after a rotation) and returns the new
// metadata; the object key and the data stay as they are. changed is false for
// objects that have nothing to re-wrap (SSE-C) and for backends without
// kms.Rewrapper.
func (s *Service) Rewrap(ctx context.Context, md map[string]string, bucket, object string) (out map[string]string, changed bool, err error) {
	info := Describe(md)
	rw, ok := s.kms.(kms.Rewrapper)
	if (info.Kind != S3 && info.Kind != KMS) || !ok {
		return md, false, nil
	}
	ct, err := base64.StdEncoding.DecodeString(md[MetaKMSDataKey])
	if err != nil {
		return md, false, fmt.Errorf("%w: data key is not base64", ErrSealedKey)
	}
	nct, err := rw.Rewrap(ctx, info.KeyID, ct, kmsContext(bucket, object, info.Context))
	if err != nil {
		return md, false, err
	}
	out = maps.Clone(md)
	out[MetaKMSDataKey] = base64.StdEncoding.EncodeToString(nct)
	return out, true, nil
}

// ETag is the ETag of an object encrypted with key whose plaintext MD5 is not
// known when the object is stored: like S3's SSE-KMS and SSE-C ETags it is not a
// digest of the data (it is an HMAC of a constant under the object key, so it
// reveals nothing of the plaintext).
func ETag(key ObjectKey) string {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("cairn-sse etag v1"))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
