// Package keyderive turns the root secret into the keys that seal secrets at rest
// (IAM secret keys, tier credentials): PBKDF2-HMAC-SHA256 over the root secret with
// a per-deployment salt gives a master key, and HKDF-SHA256 with a purpose label
// gives one independent key per use, so the users of the root secret never share
// a key.
package keyderive

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
)

// Master derives the master key from the root secret (salt ≥ 16 bytes).
func Master(rootSecret string, salt []byte, iterations int) ([]byte, error) {
	if len(salt) < 16 || iterations < 1 {
		return nil, errors.New("keyderive: salt shorter than 16 bytes or no iterations")
	}
	return pbkdf2.Key(sha256.New, rootSecret, salt, iterations, 32)
}

// Key derives n bytes for purpose label from master.
func Key(master []byte, label string, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, label, n)
}

// AEAD is AES-256-GCM keyed for purpose label.
func AEAD(master []byte, label string) (cipher.AEAD, error) {
	key, err := Key(master, label, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
