package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-io/cairn/server/internal/kms"
	"github.com/cairn-io/cairn/server/internal/objects"
	"github.com/cairn-io/cairn/server/internal/sse"
)

// KMSConfig configures server-side encryption: the KMS that seals the data keys
// of SSE-S3 and SSE-KMS objects (SSE-C needs none). The zero value has no KMS:
// SSE-S3 and SSE-KMS requests answer NotImplemented, SSE-C works.
type KMSConfig struct {
	// Backend is "builtin" (default when MasterKey is set), "vault", "aws",
	// "gcp" or "azure".
	Backend string
	// HealthInterval is how often the KMS is checked for cairn_kms_up (0: 30 s).
	HealthInterval time.Duration
	// MasterKey is the built-in KMS's 32-byte master key.
	MasterKey []byte
	// DefaultKey names the key of SSE-S3 and of SSE-KMS requests that name none
	// (built-in default "cairn-default"; required for the other backends).
	DefaultKey string
	// Keys are created at start when missing (built-in only).
	Keys []string

	// Vault / OpenBao transit: address, token, mount (default "transit") and
	// namespace.
	VaultAddress, VaultToken, VaultMount, VaultNamespace string
	// AWS KMS: endpoint (empty: AWS's), region and static credentials (empty:
	// the SDK's default chain).
	AWSEndpoint, AWSRegion, AWSAccessKey, AWSSecretKey string
	// GCP Cloud KMS: the key ring (projects/P/locations/L/keyRings/R), an
	// endpoint override and a credentials file (empty: application default).
	GCPKeyRing, GCPEndpoint, GCPCredentialsFile string
	// Azure Key Vault: the vault URL (https://NAME.vault.azure.net/); credentials
	// from azidentity's default chain (AZURE_TENANT_ID, AZURE_CLIENT_ID, …).
	AzureVaultURL string

	// AllowHTTPCustomerKeys accepts SSE-C keys over plain HTTP (tests; S3 and
	// Cairn refuse them by default).
	AllowHTTPCustomerKeys bool
	// CheckTimeout bounds the KMS check at start (default 15 s).
	CheckTimeout time.Duration
}

// configStore keeps the built-in KMS's keys in the object layer's
// configuration store (every drive, quorum writes).
type configStore struct{ l *objects.Layer }

func (c configStore) Load(ctx context.Context, name string) ([]byte, error) {
	b, err := c.l.ReadConfig(ctx, name)
	if errors.Is(err, objects.ErrConfigNotFound) {
		return nil, nil
	}
	return b, err
}

func (c configStore) Save(ctx context.Context, name string, data []byte) error {
	return c.l.WriteConfig(ctx, name, data)
}

// openKMS builds the KMS and the SSE service, and checks the KMS works: an
// unreachable KMS fails the start with a message that names it.
func (s *Server) openKMS(ctx context.Context) error {
	c := s.cfg.KMS
	k, err := newKMS(ctx, c, configStore{s.layer})
	if err != nil {
		return fmt.Errorf("KMS (%s): %w", backendName(c), err)
	}
	if k != nil {
		timeout := c.CheckTimeout
		if timeout == 0 {
			timeout = 15 * time.Second
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := kms.Check(cctx, k)
		cancel()
		if err != nil {
			return fmt.Errorf("KMS (%s) does not work: %w", backendName(c), err)
		}
	}
	s.kms = k
	s.sse = sse.New(sse.Config{KMS: k, AllowHTTPCustomerKeys: c.AllowHTTPCustomerKeys})
	if k != nil {
		s.metrics.WatchKMS(func(ctx context.Context) error { return kms.Check(ctx, k) }, c.HealthInterval)
	}
	return nil
}

func backendName(c KMSConfig) string {
	if c.Backend == "" {
		return "builtin"
	}
	return c.Backend
}

func newKMS(ctx context.Context, c KMSConfig, store kms.Store) (kms.KMS, error) {
	switch c.Backend {
	case "", "builtin":
		if len(c.MasterKey) == 0 {
			if c.Backend == "" {
				return nil, nil // no KMS: SSE-C only
			}
			return nil, errors.New("the built-in KMS needs a master key (CAIRN_KMS_MASTER_KEY)")
		}
		return kms.NewBuiltin(ctx, kms.BuiltinConfig{MasterKey: c.MasterKey, Store: store, DefaultKey: c.DefaultKey, Keys: c.Keys})
	case "vault":
		return kms.NewVault(kms.VaultConfig{Address: c.VaultAddress, Token: c.VaultToken, Mount: c.VaultMount, Namespace: c.VaultNamespace, DefaultKey: c.DefaultKey})
	case "aws":
		return kms.NewAWS(ctx, kms.AWSConfig{Endpoint: c.AWSEndpoint, Region: c.AWSRegion, AccessKey: c.AWSAccessKey, SecretKey: c.AWSSecretKey, DefaultKey: c.DefaultKey})
	case "gcp":
		return kms.NewGCP(ctx, kms.GCPConfig{KeyRing: c.GCPKeyRing, Endpoint: c.GCPEndpoint, CredentialsFile: c.GCPCredentialsFile, DefaultKey: c.DefaultKey})
	case "azure":
		return kms.NewAzure(kms.AzureConfig{VaultURL: c.AzureVaultURL, DefaultKey: c.DefaultKey})
	}
	return nil, fmt.Errorf("unknown backend %q (builtin, vault, aws, gcp or azure)", c.Backend)
}

// KMS returns the server's KMS (nil without one), for tools and tests in this module.
func (s *Server) KMS() kms.KMS { return s.kms }

// KMSKeys is the KMS key management the admin API needs: nil when the backend
// cannot manage keys.
func (s *Server) KMSKeys() kms.Manager {
	m, ok := s.kms.(kms.Manager)
	if !ok {
		return nil
	}
	// Rotation also re-wraps object keys (rewrap.go); deletion first checks
	// what still uses the key (DeleteKey below).
	return rotatingManager{Manager: m, s: s}
}

var _ kms.Deleter = rotatingManager{}

// DeleteKey deletes a KMS key unless something still names it: the default key
// (every SSE-S3 object and SSE-KMS request without a key uses it) and keys that a
// bucket's default encryption names are refused with kms.ErrKeyInUse. Objects
// already sealed by the key are not looked for (that is a walk of every
// version); they become unreadable, which is why clients ask before deleting.
func (m rotatingManager) DeleteKey(ctx context.Context, name string) error {
	d, ok := m.Manager.(kms.Deleter)
	if !ok {
		return fmt.Errorf("%w: this KMS backend cannot delete keys", kms.ErrNotSupported)
	}
	if name == m.s.kms.DefaultKey() {
		return fmt.Errorf("%w: %q is the default key (SSE-S3 and SSE-KMS requests without a key use it)", kms.ErrKeyInUse, name)
	}
	buckets, err := m.s.layer.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		cfg, err := m.s.layer.BucketConfig(ctx, b.Name)
		if errors.Is(err, objects.ErrBucketNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if cfg.Encryption == "" {
			continue
		}
		bc, err := sse.ParseBucketConfig([]byte(cfg.Encryption))
		if err == nil && bc.Kind == sse.KMS && bc.KeyID == name {
			return fmt.Errorf("%w: bucket %s's default encryption uses %q (change or delete it first)", kms.ErrKeyInUse, b.Name, name)
		}
	}
	return d.DeleteKey(ctx, name)
}
