package kms

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// AzureConfig configures the Azure Key Vault backend.
type AzureConfig struct {
	VaultURL   string // https://<name>.vault.azure.net/
	DefaultKey string // required
	// Credential authenticates to Key Vault (default: azidentity's
	// DefaultAzureCredential: environment, workload identity, managed identity, az cli).
	Credential azcore.TokenCredential
	// Transport and InsecureChallenge are for tests (an httptest fake at a
	// loopback address, whose challenge resource is not *.vault.azure.net).
	Transport         policy.Transporter
	InsecureChallenge bool
}

// Azure seals data keys with an Azure Key Vault RSA key (wrapKey/unwrapKey,
// RSA-OAEP-256). Key Vault takes no associated data, so the wrapped secret is
// not the data key itself: the data key is HKDF(secret, encryption context), so
// a ciphertext moved to another context yields another key and the object-key
// seal (package sse) refuses it. The ciphertext records the key version.
type Azure struct {
	c   *azkeys.Client
	def string
}

var (
	_ KMS       = (*Azure)(nil)
	_ Manager   = (*Azure)(nil)
	_ Rotator   = (*Azure)(nil)
	_ Rewrapper = (*Azure)(nil)
)

// NewAzure returns a Key Vault backend (it calls nothing yet).
func NewAzure(cfg AzureConfig) (*Azure, error) {
	if cfg.VaultURL == "" || cfg.DefaultKey == "" {
		return nil, errors.New("azure: a vault URL and a default key are required")
	}
	cred := cfg.Credential
	if cred == nil {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("azure: credentials: %w", err)
		}
		cred = c
	}
	opts := &azkeys.ClientOptions{DisableChallengeResourceVerification: cfg.InsecureChallenge}
	if cfg.Transport != nil {
		opts.Transport = cfg.Transport
	}
	opts.Retry.MaxRetries = 1
	c, err := azkeys.NewClient(cfg.VaultURL, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	return &Azure{c: c, def: cfg.DefaultKey}, nil
}

// DefaultKey is the default key's name.
func (a *Azure) DefaultKey() string { return a.def }

func (a *Azure) name(keyID string) string {
	if keyID == "" {
		return a.def
	}
	return keyID
}

func azureErr(err error, name string, decrypting bool) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: azure %q", ErrKeyNotFound, name)
		case re.StatusCode == http.StatusConflict:
			return fmt.Errorf("%w: azure %q", ErrKeyExists, name)
		case re.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(re.ErrorCode), "disabled"):
			return fmt.Errorf("%w: azure %q", ErrKeyDisabled, name)
		case re.StatusCode == http.StatusBadRequest && decrypting:
			return fmt.Errorf("%w: azure %q", ErrDecrypt, name)
		case re.StatusCode >= 500:
			return fmt.Errorf("%w: azure answered %d", ErrUnavailable, re.StatusCode)
		}
		return fmt.Errorf("azure: %q: %d %s", name, re.StatusCode, re.ErrorCode)
	}
	return fmt.Errorf("%w: azure: %v", ErrUnavailable, err)
}

func oaep(v []byte) azkeys.KeyOperationParameters {
	alg := azkeys.EncryptionAlgorithmRSAOAEP256
	return azkeys.KeyOperationParameters{Algorithm: &alg, Value: v}
}

// bindAzure derives the data key from the wrapped secret and the context.
func bindAzure(secret []byte, enc Context) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, "cairn kms azure data key\x00"+string(enc.Bytes()), DataKeySize)
}

// GenerateKey wraps a fresh secret with the key's current version.
func (a *Azure) GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error) {
	name := a.name(keyID)
	secret, err := randomKey()
	if err != nil {
		return DataKey{}, err
	}
	ct, err := a.wrap(ctx, name, secret)
	if err != nil {
		return DataKey{}, err
	}
	dk, err := bindAzure(secret, enc)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{KeyID: name, Plaintext: dk, Ciphertext: ct}, nil
}

// wrap returns version ‖ 0 ‖ wrapped secret.
func (a *Azure) wrap(ctx context.Context, name string, secret []byte) ([]byte, error) {
	res, err := a.c.WrapKey(ctx, name, "", oaep(secret), nil)
	if err != nil {
		return nil, azureErr(err, name, false)
	}
	if res.KID == nil || len(res.Result) == 0 {
		return nil, fmt.Errorf("%w: azure sent no wrapped key", ErrUnavailable)
	}
	return append(append([]byte(res.KID.Version()), 0), res.Result...), nil
}

func (a *Azure) unwrap(ctx context.Context, name string, ciphertext []byte) ([]byte, error) {
	version, wrapped, ok := bytes.Cut(ciphertext, []byte{0})
	if !ok || len(wrapped) == 0 {
		return nil, fmt.Errorf("%w: not an Azure ciphertext", ErrDecrypt)
	}
	res, err := a.c.UnwrapKey(ctx, name, string(version), oaep(wrapped), nil)
	if err != nil {
		return nil, azureErr(err, name, true)
	}
	if len(res.Result) != DataKeySize {
		return nil, fmt.Errorf("%w: azure returned a %d-byte secret", ErrDecrypt, len(res.Result))
	}
	return res.Result, nil
}

// Decrypt unwraps the secret with the version that wrapped it.
func (a *Azure) Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	secret, err := a.unwrap(ctx, a.name(keyID), ciphertext)
	if err != nil {
		return nil, err
	}
	return bindAzure(secret, enc)
}

// Rewrap unwraps and wraps the secret again with the key's current version.
func (a *Azure) Rewrap(ctx context.Context, keyID string, ciphertext []byte, _ Context) ([]byte, error) {
	name := a.name(keyID)
	secret, err := a.unwrap(ctx, name, ciphertext)
	if err != nil {
		return nil, err
	}
	return a.wrap(ctx, name, secret)
}

// CreateKey creates an RSA 3072 key.
func (a *Azure) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	if !validName(name) || strings.ContainsAny(name, "/:._") {
		return KeyInfo{}, fmt.Errorf("%w: %q (Key Vault names are letters, digits and -)", ErrInvalidName, name)
	}
	if _, err := a.KeyStatus(ctx, name); err == nil {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrKeyExists, name)
	}
	kty := azkeys.KeyTypeRSA
	size := int32(3072)
	res, err := a.c.CreateKey(ctx, name, azkeys.CreateKeyParameters{Kty: &kty, KeySize: &size}, nil)
	if err != nil {
		return KeyInfo{}, azureErr(err, name, false)
	}
	return azureInfo(name, res.Key, res.Attributes), nil
}

// KeyStatus describes a key (its current version).
func (a *Azure) KeyStatus(ctx context.Context, name string) (KeyInfo, error) {
	res, err := a.c.GetKey(ctx, name, "", nil)
	if err != nil {
		return KeyInfo{}, azureErr(err, name, false)
	}
	return azureInfo(name, res.Key, res.Attributes), nil
}

func azureInfo(name string, k *azkeys.JSONWebKey, attrs *azkeys.KeyAttributes) KeyInfo {
	info := KeyInfo{Name: name, Enabled: true, Backend: "azure"}
	if k != nil && k.KID != nil {
		info.ID = string(*k.KID)
	}
	if attrs != nil {
		if attrs.Enabled != nil {
			info.Enabled = *attrs.Enabled
		}
		if attrs.Created != nil {
			info.Created = *attrs.Created
		}
	}
	return info
}

// ListKeys lists the vault's keys.
func (a *Azure) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	var out []KeyInfo
	p := a.c.NewListKeyPropertiesPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, azureErr(err, "", false)
		}
		for _, k := range page.Value {
			if k == nil || k.KID == nil {
				continue
			}
			info := KeyInfo{Name: k.KID.Name(), ID: string(*k.KID), Enabled: true, Backend: "azure"}
			if k.Attributes != nil && k.Attributes.Enabled != nil {
				info.Enabled = *k.Attributes.Enabled
			}
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RotateKey makes a new key version (Key Vault keeps the old ones).
func (a *Azure) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	res, err := a.c.RotateKey(ctx, name, nil)
	if err != nil {
		return KeyInfo{}, azureErr(err, name, false)
	}
	return azureInfo(name, res.Key, res.Attributes), nil
}
