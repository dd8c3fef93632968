package kms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultConfig configures the Vault / OpenBao transit backend.
type VaultConfig struct {
	Address    string // https://vault.example.com:8200
	Token      string
	Namespace  string       // Vault Enterprise / OpenBao namespace, optional
	Mount      string       // transit mount path (default "transit")
	DefaultKey string       // required: the key of SSE-S3 and of SSE-KMS requests naming none
	HTTPClient *http.Client // optional (tests: a client that trusts the fake's certificate)
}

// Vault seals data keys with a Vault (or OpenBao) transit key. A data key is
// made here and sent to transit/encrypt with the encryption context as
// associated_data (transit's datakey endpoint takes no associated data, and the
// binding matters more than a round trip); transit/decrypt and transit/rewrap
// take it back. Keys are transit keys of type aes256-gcm96.
type Vault struct {
	c     *vault.Client
	mount string
	def   string
}

var (
	_ KMS       = (*Vault)(nil)
	_ Manager   = (*Vault)(nil)
	_ Rotator   = (*Vault)(nil)
	_ Rewrapper = (*Vault)(nil)
)

// NewVault returns a Vault backend. It does not contact Vault (Check does).
func NewVault(cfg VaultConfig) (*Vault, error) {
	if cfg.Address == "" || cfg.Token == "" {
		return nil, errors.New("vault: address and token are required")
	}
	if cfg.DefaultKey == "" {
		return nil, errors.New("vault: a default key name is required")
	}
	vc := vault.DefaultConfig()
	vc.Address = cfg.Address
	vc.MaxRetries = 1
	vc.Timeout = 10 * time.Second
	if cfg.HTTPClient != nil {
		vc.HttpClient = cfg.HTTPClient
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	c.SetToken(cfg.Token)
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	}
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = "transit"
	}
	return &Vault{c: c, mount: mount, def: cfg.DefaultKey}, nil
}

// DefaultKey is the default transit key's name.
func (v *Vault) DefaultKey() string { return v.def }

func (v *Vault) path(op, name string) string {
	return v.mount + "/" + op + "/" + url.PathEscape(name)
}

// vaultErr classifies a Vault error: 404 or "not found" → ErrKeyNotFound, 400
// on decrypt → ErrDecrypt, transport and 5xx → ErrUnavailable.
func vaultErr(err error, name string, decrypting bool) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		msg := strings.ToLower(strings.Join(re.Errors, "; "))
		switch {
		case re.StatusCode == http.StatusNotFound || strings.Contains(msg, "not found") || strings.Contains(msg, "no existing key"):
			return fmt.Errorf("%w: vault transit key %q", ErrKeyNotFound, name)
		case re.StatusCode == http.StatusBadRequest && decrypting:
			return fmt.Errorf("%w: vault: %s", ErrDecrypt, msg)
		case re.StatusCode == http.StatusBadRequest && strings.Contains(msg, "exists"):
			return fmt.Errorf("%w: %q", ErrKeyExists, name)
		case re.StatusCode >= 500:
			return fmt.Errorf("%w: vault answered %d", ErrUnavailable, re.StatusCode)
		}
		return fmt.Errorf("vault: %d: %s", re.StatusCode, msg)
	}
	return fmt.Errorf("%w: vault: %v", ErrUnavailable, err)
}

func (v *Vault) name(keyID string) string {
	if keyID == "" {
		return v.def
	}
	return keyID
}

func stringField(s *vault.Secret, field string) (string, error) {
	if s == nil || s.Data == nil {
		return "", fmt.Errorf("%w: vault sent no data", ErrUnavailable)
	}
	out, ok := s.Data[field].(string)
	if !ok || out == "" {
		return "", fmt.Errorf("%w: vault sent no %s", ErrUnavailable, field)
	}
	return out, nil
}

// GenerateKey makes a data key and has transit encrypt it.
func (v *Vault) GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error) {
	name := v.name(keyID)
	dk, err := randomKey()
	if err != nil {
		return DataKey{}, err
	}
	s, err := v.c.Logical().WriteWithContext(ctx, v.path("encrypt", name), map[string]any{
		"plaintext":       base64.StdEncoding.EncodeToString(dk),
		"associated_data": base64.StdEncoding.EncodeToString(enc.Bytes()),
	})
	if err != nil {
		return DataKey{}, vaultErr(err, name, false)
	}
	ct, err := stringField(s, "ciphertext")
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{KeyID: name, Plaintext: dk, Ciphertext: []byte(ct)}, nil
}

// Decrypt has transit decrypt a data key.
func (v *Vault) Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	name := v.name(keyID)
	s, err := v.c.Logical().WriteWithContext(ctx, v.path("decrypt", name), map[string]any{
		"ciphertext":      string(ciphertext),
		"associated_data": base64.StdEncoding.EncodeToString(enc.Bytes()),
	})
	if err != nil {
		return nil, vaultErr(err, name, true)
	}
	b64, err := stringField(s, "plaintext")
	if err != nil {
		return nil, err
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(pt) != DataKeySize {
		return nil, fmt.Errorf("%w: vault returned a malformed data key", ErrDecrypt)
	}
	return pt, nil
}

// Rewrap has transit re-encrypt a data key under the key's latest version; the
// data key never leaves Vault.
func (v *Vault) Rewrap(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	name := v.name(keyID)
	s, err := v.c.Logical().WriteWithContext(ctx, v.path("rewrap", name), map[string]any{
		"ciphertext":      string(ciphertext),
		"associated_data": base64.StdEncoding.EncodeToString(enc.Bytes()),
	})
	if err != nil {
		return nil, vaultErr(err, name, true)
	}
	ct, err := stringField(s, "ciphertext")
	return []byte(ct), err
}

// CreateKey creates a transit key (aes256-gcm96).
func (v *Vault) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	if !validName(name) {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	if _, err := v.KeyStatus(ctx, name); err == nil {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrKeyExists, name)
	}
	if _, err := v.c.Logical().WriteWithContext(ctx, v.path("keys", name), map[string]any{"type": "aes256-gcm96"}); err != nil {
		return KeyInfo{}, vaultErr(err, name, false)
	}
	return v.KeyStatus(ctx, name)
}

// RotateKey rotates a transit key.
func (v *Vault) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	if _, err := v.c.Logical().WriteWithContext(ctx, v.path("keys", name)+"/rotate", nil); err != nil {
		return KeyInfo{}, vaultErr(err, name, false)
	}
	return v.KeyStatus(ctx, name)
}

// KeyStatus reads a transit key.
func (v *Vault) KeyStatus(ctx context.Context, name string) (KeyInfo, error) {
	s, err := v.c.Logical().ReadWithContext(ctx, v.path("keys", name))
	if err != nil {
		return KeyInfo{}, vaultErr(err, name, false)
	}
	if s == nil || s.Data == nil {
		return KeyInfo{}, fmt.Errorf("%w: vault transit key %q", ErrKeyNotFound, name)
	}
	info := KeyInfo{Name: name, Enabled: true, Backend: "vault"}
	if n, ok := s.Data["latest_version"].(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			info.Version = int(i)
		}
	}
	return info, nil
}

// ListKeys lists the transit keys.
func (v *Vault) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	s, err := v.c.Logical().ListWithContext(ctx, v.mount+"/keys")
	if err != nil {
		return nil, vaultErr(err, "", false)
	}
	var out []KeyInfo
	if s != nil && s.Data != nil {
		if keys, ok := s.Data["keys"].([]any); ok {
			for _, k := range keys {
				if name, ok := k.(string); ok {
					out = append(out, KeyInfo{Name: name, Enabled: true, Backend: "vault"})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
