// Package kms is Cairn's key management: one small interface, KMS, in front of
// the services that hold master keys, and a backend per service.
//
// # The key hierarchy
//
//	KMS master key (named; never leaves the KMS, except the built-in one)
//	  └─ data key: 256 bits per object, made by GenerateKey, stored only as the
//	     KMS's ciphertext, bound to an encryption context naming the object
//	       └─ object key (package sse): sealed under the data key with the
//	          bucket and object names as associated data
//	            └─ the object's encrypted stream (package sse)
//
// This package owns the top two levels: a backend turns a key name and an
// encryption context into a fresh data key and its ciphertext (GenerateKey), and
// a ciphertext back into the data key (Decrypt), refusing one whose context
// differs. It never sees object data or object keys.
//
// # Backends
//
//   - Builtin: master key from CAIRN_KMS_MASTER_KEY (or a file); named keys
//     derived from it with versions, so rotation makes a new version and keeps
//     the old ones for reading; key names and versions persist in the cluster's
//     configuration store. The default for `make run` (with a dev master key).
//   - Vault / OpenBao transit: datakey, decrypt, rewrap, keys (hashicorp/vault/api).
//   - AWS KMS: GenerateDataKey, Decrypt, ReEncrypt with an encryption context
//     (aws-sdk-go-v2/service/kms); tested against local-kms.
//   - GCP Cloud KMS: Encrypt/Decrypt of a locally made data key with additional
//     authenticated data (cloud.google.com/go/kms).
//   - Azure Key Vault: wrapKey/unwrapKey (RSA-OAEP-256) of a locally made data
//     key (azkeys, azidentity). Key Vault has no associated data, so there the
//     binding to the object rests on the object-key seal (package sse) alone.
//
// # Errors
//
// Backends return errors wrapping the sentinels below, so callers (the S3 layer)
// can map them: ErrKeyNotFound and ErrKeyDisabled are the client's problem,
// ErrDecrypt is a ciphertext that does not belong where it was found, and
// ErrUnavailable is a KMS that cannot be reached or failed — a server fault.
// Error messages never carry key material.
//
// All backends are safe for concurrent use.
package kms

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"time"
)

// Errors returned by backends (wrapped).
var (
	ErrKeyNotFound  = errors.New("kms: key not found")
	ErrKeyExists    = errors.New("kms: key already exists")
	ErrKeyDisabled  = errors.New("kms: key disabled")
	ErrDecrypt      = errors.New("kms: ciphertext cannot be decrypted with this key and context")
	ErrUnavailable  = errors.New("kms: unavailable")
	ErrNotSupported = errors.New("kms: operation not supported by this backend")
	ErrInvalidName  = errors.New("kms: invalid key name")
	// ErrKeyInUse refuses to delete a key something still depends on (the
	// default key, a bucket's default encryption).
	ErrKeyInUse = errors.New("kms: key in use")
)

// DataKeySize is the size of every data key.
const DataKeySize = 32

// Context is an encryption context: it is bound to a ciphertext (as AWS KMS
// encryption context, Vault associated data, GCP additional authenticated data)
// and must be given again to decrypt it.
type Context map[string]string

// Bytes is the context's canonical encoding: JSON with sorted keys.
func (c Context) Bytes() []byte {
	if len(c) == 0 {
		return []byte("{}")
	}
	b, _ := json.Marshal(map[string]string(c)) // maps marshal with sorted keys
	return b
}

// DataKey is a fresh data key: Plaintext is for immediate use and must not be
// stored; Ciphertext is what is stored. KeyID is the key that sealed it, as the
// backend names it (a name, an ARN, a resource name or a key URL).
type DataKey struct {
	KeyID      string
	Plaintext  []byte
	Ciphertext []byte
}

// KMS makes and opens data keys.
type KMS interface {
	// GenerateKey returns a new data key sealed by key keyID ("" = DefaultKey)
	// and bound to ctx.
	GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error)
	// Decrypt returns the plaintext of a data key ciphertext that GenerateKey
	// returned for keyID and enc.
	Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error)
	// DefaultKey is the key used when a request names none.
	DefaultKey() string
}

// KeyInfo describes a master key.
type KeyInfo struct {
	Name    string    `json:"name"`
	ID      string    `json:"id,omitempty"` // the backend's id (ARN, resource name, URL) if it differs
	Version int       `json:"version,omitempty"`
	Enabled bool      `json:"enabled"`
	Created time.Time `json:"created,omitzero"`
	Backend string    `json:"backend"`
}

// Manager is implemented by backends that can create and list keys.
type Manager interface {
	CreateKey(ctx context.Context, name string) (KeyInfo, error)
	ListKeys(ctx context.Context) ([]KeyInfo, error)
	KeyStatus(ctx context.Context, name string) (KeyInfo, error)
}

// Rotator is implemented by backends that can rotate a key: new data keys are
// sealed by a new version; older versions keep decrypting.
type Rotator interface {
	RotateKey(ctx context.Context, name string) (KeyInfo, error)
}

// Deleter is implemented by backends that can delete a key. Data keys the key
// sealed no longer open: objects encrypted under it become unreadable. Callers
// check what still uses the key first; the backend refuses only the default key.
type Deleter interface {
	DeleteKey(ctx context.Context, name string) error
}

// Rewrapper is implemented by backends that can re-seal a data key ciphertext
// under the key's current version without revealing the data key to the caller
// (or, where the service has no such call, by decrypting and encrypting inside
// the backend).
type Rewrapper interface {
	Rewrap(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error)
}

// Check makes sure k works: it generates and decrypts a data key with the
// default key. Servers call it at start so an unreachable KMS is a clear error
// there, not a failure of the first encrypted request.
func Check(ctx context.Context, k KMS) error {
	enc := Context{"cairn:purpose": "startup-check"}
	dk, err := k.GenerateKey(ctx, "", enc)
	if err != nil {
		return err
	}
	pt, err := k.Decrypt(ctx, dk.KeyID, dk.Ciphertext, enc)
	if err != nil {
		return err
	}
	if string(pt) != string(dk.Plaintext) {
		return errors.New("kms: check: decrypted data key differs")
	}
	return nil
}

// validName reports whether name is a usable key name: 1–128 characters of
// letters, digits and - _ . / : (AWS ARNs and aliases, GCP resource names and
// Vault paths all fit).
func validName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == '/', c == ':':
		default:
			return false
		}
	}
	return true
}

// randomKey returns a fresh data key made locally (backends whose service only
// wraps keys).
func randomKey() ([]byte, error) {
	dk := make([]byte, DataKeySize)
	if _, err := rand.Read(dk); err != nil {
		return nil, err
	}
	return dk, nil
}
