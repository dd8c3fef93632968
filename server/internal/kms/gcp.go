package kms

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	gcpkms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// GCPConfig configures the GCP Cloud KMS backend.
type GCPConfig struct {
	// KeyRing is projects/<p>/locations/<l>/keyRings/<r>; key names are crypto
	// key ids in it (a full crypto key resource name is taken as is).
	KeyRing         string
	DefaultKey      string // required
	Endpoint        string // optional endpoint override
	CredentialsFile string // service account JSON; empty: application default credentials
	// Options are extra client options (tests: an in-process gRPC fake).
	Options []option.ClientOption
	// Timeout bounds each call, retries included (default 10 s): the client
	// library otherwise retries an unreachable KMS for a minute.
	Timeout time.Duration
}

// GCP seals data keys with Cloud KMS: a data key made here is encrypted with
// the crypto key's primary version and the encryption context as additional
// authenticated data; Decrypt finds the version from the ciphertext.
type GCP struct {
	c       *gcpkms.KeyManagementClient
	ring    string
	def     string
	timeout time.Duration
}

var (
	_ KMS       = (*GCP)(nil)
	_ Manager   = (*GCP)(nil)
	_ Rotator   = (*GCP)(nil)
	_ Rewrapper = (*GCP)(nil)
)

// NewGCP returns a Cloud KMS backend (a gRPC client; it does not call KMS yet).
func NewGCP(ctx context.Context, cfg GCPConfig) (*GCP, error) {
	if cfg.KeyRing == "" || cfg.DefaultKey == "" {
		return nil, errors.New("gcp: a key ring and a default key are required")
	}
	opts := append([]option.ClientOption(nil), cfg.Options...)
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	if cfg.CredentialsFile != "" {
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	}
	c, err := gcpkms.NewKeyManagementClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &GCP{c: c, ring: strings.TrimSuffix(cfg.KeyRing, "/"), def: cfg.DefaultKey, timeout: cfg.Timeout}, nil
}

// bound limits one call (with its retries) to the configured timeout.
func (g *GCP) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}

// Close closes the client.
func (g *GCP) Close() error { return g.c.Close() }

// DefaultKey is the default crypto key id.
func (g *GCP) DefaultKey() string { return g.def }

func (g *GCP) resource(keyID string) string {
	if keyID == "" {
		keyID = g.def
	}
	if strings.HasPrefix(keyID, "projects/") {
		return keyID
	}
	return g.ring + "/cryptoKeys/" + keyID
}

func gcpErr(err error, key string, decrypting bool) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%w: gcp %q", ErrKeyNotFound, key)
	case codes.AlreadyExists:
		return fmt.Errorf("%w: gcp %q", ErrKeyExists, key)
	case codes.FailedPrecondition:
		return fmt.Errorf("%w: gcp %q", ErrKeyDisabled, key)
	case codes.InvalidArgument:
		if decrypting {
			return fmt.Errorf("%w: gcp %q", ErrDecrypt, key)
		}
		return fmt.Errorf("gcp: %v", status.Convert(err).Message())
	case codes.PermissionDenied, codes.Unauthenticated:
		return fmt.Errorf("gcp: %q: %s", key, status.Convert(err).Message())
	}
	return fmt.Errorf("%w: gcp: %v", ErrUnavailable, err)
}

// GenerateKey makes a data key and has Cloud KMS encrypt it.
func (g *GCP) GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	dk, err := randomKey()
	if err != nil {
		return DataKey{}, err
	}
	key := g.resource(keyID)
	out, err := g.c.Encrypt(ctx, &kmspb.EncryptRequest{Name: key, Plaintext: dk, AdditionalAuthenticatedData: enc.Bytes()})
	if err != nil {
		return DataKey{}, gcpErr(err, key, false)
	}
	name := keyID
	if name == "" {
		name = g.def
	}
	return DataKey{KeyID: name, Plaintext: dk, Ciphertext: out.Ciphertext}, nil
}

// Decrypt has Cloud KMS decrypt a data key.
func (g *GCP) Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	key := g.resource(keyID)
	out, err := g.c.Decrypt(ctx, &kmspb.DecryptRequest{Name: key, Ciphertext: ciphertext, AdditionalAuthenticatedData: enc.Bytes()})
	if err != nil {
		return nil, gcpErr(err, key, true)
	}
	if len(out.Plaintext) != DataKeySize {
		return nil, fmt.Errorf("%w: gcp returned a %d-byte data key", ErrDecrypt, len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// Rewrap decrypts and re-encrypts a data key with the primary version (Cloud
// KMS has no re-encrypt call).
func (g *GCP) Rewrap(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	dk, err := g.Decrypt(ctx, keyID, ciphertext, enc)
	if err != nil {
		return nil, err
	}
	key := g.resource(keyID)
	out, err := g.c.Encrypt(ctx, &kmspb.EncryptRequest{Name: key, Plaintext: dk, AdditionalAuthenticatedData: enc.Bytes()})
	if err != nil {
		return nil, gcpErr(err, key, false)
	}
	return out.Ciphertext, nil
}

// CreateKey creates a symmetric ENCRYPT_DECRYPT crypto key in the key ring.
func (g *GCP) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	if !validName(name) || strings.Contains(name, "/") {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	k, err := g.c.CreateCryptoKey(ctx, &kmspb.CreateCryptoKeyRequest{
		Parent: g.ring, CryptoKeyId: name,
		CryptoKey: &kmspb.CryptoKey{
			Purpose:         kmspb.CryptoKey_ENCRYPT_DECRYPT,
			VersionTemplate: &kmspb.CryptoKeyVersionTemplate{Algorithm: kmspb.CryptoKeyVersion_GOOGLE_SYMMETRIC_ENCRYPTION},
		},
	})
	if err != nil {
		return KeyInfo{}, gcpErr(err, name, false)
	}
	return gcpInfo(k), nil
}

// KeyStatus describes a crypto key.
func (g *GCP) KeyStatus(ctx context.Context, name string) (KeyInfo, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	key := g.resource(name)
	k, err := g.c.GetCryptoKey(ctx, &kmspb.GetCryptoKeyRequest{Name: key})
	if err != nil {
		return KeyInfo{}, gcpErr(err, key, false)
	}
	return gcpInfo(k), nil
}

func gcpInfo(k *kmspb.CryptoKey) KeyInfo {
	info := KeyInfo{ID: k.GetName(), Backend: "gcp"}
	info.Name = k.GetName()[strings.LastIndex(k.GetName(), "/")+1:]
	if k.GetCreateTime() != nil {
		info.Created = k.GetCreateTime().AsTime()
	}
	if p := k.GetPrimary(); p != nil {
		info.Enabled = p.GetState() == kmspb.CryptoKeyVersion_ENABLED
		v := p.GetName()[strings.LastIndex(p.GetName(), "/")+1:]
		info.Version, _ = strconv.Atoi(v)
	}
	return info
}

// ListKeys lists the key ring's crypto keys.
func (g *GCP) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	var out []KeyInfo
	it := g.c.ListCryptoKeys(ctx, &kmspb.ListCryptoKeysRequest{Parent: g.ring})
	for {
		k, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, gcpErr(err, g.ring, false)
		}
		out = append(out, gcpInfo(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RotateKey creates a new version and makes it primary; old versions stay
// enabled for decryption.
func (g *GCP) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	key := g.resource(name)
	v, err := g.c.CreateCryptoKeyVersion(ctx, &kmspb.CreateCryptoKeyVersionRequest{Parent: key, CryptoKeyVersion: &kmspb.CryptoKeyVersion{}})
	if err != nil {
		return KeyInfo{}, gcpErr(err, key, false)
	}
	id := v.GetName()[strings.LastIndex(v.GetName(), "/")+1:]
	k, err := g.c.UpdateCryptoKeyPrimaryVersion(ctx, &kmspb.UpdateCryptoKeyPrimaryVersionRequest{Name: key, CryptoKeyVersionId: id})
	if err != nil {
		return KeyInfo{}, gcpErr(err, key, false)
	}
	return gcpInfo(k), nil
}
