package iam

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cairn-io/cairn/server/internal/keyderive"
)

// Secret keys at rest.
//
// SigV4 verification needs each access key's plaintext secret (it is the HMAC
// key), so secrets cannot be stored as one-way hashes. They are stored sealed
// instead, so that a copy of the drives alone does not reveal them:
//
//	master = PBKDF2-HMAC-SHA256(root secret key, salt, iterations)   (salt, iterations: iam/format.json)
//	key    = HKDF-SHA256(master, info "cairn/iam/secret-keys/v1")     (AES-256)
//	id     = HKDF-SHA256(master, info "cairn/iam/key-id/v1")[:8]      (hex; names the key, reveals nothing)
//	sealed = base64(nonce ‖ AES-256-GCM(key, nonce, secret, aad "cairn/iam/access-key/" + access key id))
//
// The associated data binds a sealed secret to its access key id: a sealed value
// copied into another key's document does not open. The slow PBKDF2 step makes
// guessing the root secret from the drives expensive; it still must be a strong
// secret. Deriving the key takes a fraction of a second and happens once per
// process, and only when access keys exist.
//
// Changing the root secret key changes the sealing key: access keys sealed under
// the old one (their document records the key id) stop working and are reported
// at start; recreate them, or start once more with the old root secret. Plaintext
// secrets live only in memory, in the Store, for the life of the process.

// DefaultKDFIterations is the PBKDF2 iteration count for new deployments (OWASP's
// 2023 recommendation for PBKDF2-HMAC-SHA256).
const DefaultKDFIterations = 600_000

// sealFormat is iam/format.json: the key-derivation parameters, written once.
type sealFormat struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
}

const kdfPBKDF2 = "pbkdf2-hmac-sha256"

func newSealFormat(iterations int) (sealFormat, error) {
	f := sealFormat{Version: 1, KDF: kdfPBKDF2, Iterations: iterations, Salt: make([]byte, 32)}
	if _, err := rand.Read(f.Salt); err != nil {
		return f, err
	}
	return f, nil
}

// sealer seals and opens secret keys. It is safe for concurrent use.
type sealer struct {
	aead cipher.AEAD
	id   string
}

func newSealer(rootSecret string, f sealFormat) (*sealer, error) {
	if f.Version != 1 || f.KDF != kdfPBKDF2 || f.Iterations < 1 || len(f.Salt) < 16 {
		return nil, fmt.Errorf("iam: unsupported secret-key format (version %d, kdf %q)", f.Version, f.KDF)
	}
	master, err := keyderive.Master(rootSecret, f.Salt, f.Iterations)
	if err != nil {
		return nil, err
	}
	aead, err := keyderive.AEAD(master, "cairn/iam/secret-keys/v1")
	if err != nil {
		return nil, err
	}
	idb, err := keyderive.Key(master, "cairn/iam/key-id/v1", 8)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, id: hex.EncodeToString(idb)}, nil
}

func sealAAD(accessKey string) []byte { return []byte("cairn/iam/access-key/" + accessKey) }

// seal encrypts secret for accessKey.
func (s *sealer) seal(accessKey, secret string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(secret), sealAAD(accessKey))
	return base64.StdEncoding.EncodeToString(out), nil
}

// errUnseal is returned when a sealed secret does not open: another root secret
// sealed it, or it was altered or moved to another access key.
var errUnseal = errors.New("iam: sealed secret key does not open")

// open decrypts a sealed secret of accessKey.
func (s *sealer) open(accessKey, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", errUnseal
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, b[:n], b[n:], sealAAD(accessKey))
	if err != nil {
		return "", errUnseal
	}
	return string(pt), nil
}
