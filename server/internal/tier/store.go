package tier

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cairn-io/cairn/server/internal/keyderive"
)

// ConfigStore is where tier documents live: the object layer's cluster
// configuration (an *objects.Layer).
type ConfigStore interface {
	ReadConfig(ctx context.Context, name string) ([]byte, error)
	WriteConfig(ctx context.Context, name string, data []byte) error
	DeleteConfig(ctx context.Context, name string) error
	ListConfig(ctx context.Context, dir string) ([]string, error)
}

// Documents in the ConfigStore.
const (
	configDir = "tiers"
	kdfDoc    = "tiers/kdf" // key-derivation parameters, written once
)

func docName(name string) string { return configDir + "/" + name + ".json" }

// StoreOptions configure a Store.
type StoreOptions struct {
	// RootSecret seals tier credentials (the root password). Required.
	RootSecret string
	// KDFIterations for a new deployment's PBKDF2 (0: DefaultKDFIterations).
	// Existing deployments keep the count they were created with.
	KDFIterations int
	// NotFound reports whether an error of the ConfigStore means "no such
	// document" (objects.ErrConfigNotFound). Required.
	NotFound func(error) bool
	// Probe, when set, replaces Probe in Add (tests).
	Probe func(ctx context.Context, t Tier) error
}

// DefaultKDFIterations is the PBKDF2-HMAC-SHA256 iteration count for new deployments.
const DefaultKDFIterations = 600_000

// Store keeps the tier configurations: validated and probed on Add, persisted
// with sealed credentials, clients opened once and cached. Nodes of a cluster
// share the documents; a node that misses a tier reads it from the store. Safe
// for concurrent use.
//
// Credential sealing:
//
//	master = PBKDF2-HMAC-SHA256(root secret, salt, iterations)     (salt, iterations: tiers/kdf)
//	key    = HKDF-SHA256(master, info "cairn/tier/credentials/v1")   (AES-256)
//	sealed = nonce ‖ AES-256-GCM(key, nonce, credentials JSON, aad "cairn/tier/" + name)
//
// Changing the root secret makes sealed credentials unreadable: such a tier
// reports an error naming the cause until it is added again.
type Store struct {
	cs   ConfigStore
	opts StoreOptions

	mu     sync.Mutex
	aead   cipher.AEAD       // nil until first needed
	tiers  map[string]Tier   // opened clients
	config map[string]Config // known configurations
}

// NewStore returns a Store over cs. It reads nothing until used.
func NewStore(cs ConfigStore, opts StoreOptions) *Store {
	if opts.KDFIterations <= 0 {
		opts.KDFIterations = DefaultKDFIterations
	}
	if opts.Probe == nil {
		opts.Probe = Probe
	}
	return &Store{cs: cs, opts: opts, tiers: map[string]Tier{}, config: map[string]Config{}}
}

// document is a tier's stored form.
type document struct {
	Version     int    `json:"version"`
	Config      Config `json:"config"`
	Credentials []byte `json:"sealedCredentials,omitempty"`
}

type kdfParams struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
}

// sealer returns the AEAD, creating the deployment's KDF parameters on first use.
// s.mu must be held.
func (s *Store) sealer(ctx context.Context, create bool) (cipher.AEAD, error) {
	if s.aead != nil {
		return s.aead, nil
	}
	var p kdfParams
	raw, err := s.cs.ReadConfig(ctx, kdfDoc)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("tier: %s: %w", kdfDoc, err)
		}
	case s.opts.NotFound(err) && create:
		p = kdfParams{Version: 1, KDF: "pbkdf2-hmac-sha256", Iterations: s.opts.KDFIterations, Salt: make([]byte, 32)}
		rand.Read(p.Salt)
		raw, _ := json.Marshal(p)
		if err := s.cs.WriteConfig(ctx, kdfDoc, raw); err != nil {
			return nil, fmt.Errorf("tier: saving %s: %w", kdfDoc, err)
		}
	default:
		return nil, fmt.Errorf("tier: reading %s: %w", kdfDoc, err)
	}
	if p.Version != 1 || p.KDF != "pbkdf2-hmac-sha256" || p.Iterations < 1 || len(p.Salt) < 16 {
		return nil, fmt.Errorf("tier: unsupported key-derivation parameters in %s", kdfDoc)
	}
	master, err := keyderive.Master(s.opts.RootSecret, p.Salt, p.Iterations)
	if err != nil {
		return nil, err
	}
	s.aead, err = keyderive.AEAD(master, "cairn/tier/credentials/v1")
	return s.aead, err
}

func aad(name string) []byte { return []byte("cairn/tier/" + name) }

// Add validates cfg, checks that the tier is reachable and writable (Probe),
// and stores it. ErrTierExists if the name is taken.
func (s *Store) Add(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := s.Get(ctx, cfg.Name); err == nil {
		return fmt.Errorf("%w: %s", ErrTierExists, cfg.Name)
	} else if !errors.Is(err, ErrNoSuchTier) {
		return err
	}
	t, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	if err := s.opts.Probe(ctx, t); err != nil {
		return fmt.Errorf("%w: tier %s: %w", ErrUnusable, cfg.Name, err)
	}
	if err := s.save(ctx, cfg); err != nil {
		return err
	}
	s.mu.Lock()
	s.config[cfg.Name], s.tiers[cfg.Name] = cfg, t
	s.mu.Unlock()
	return nil
}

// UpdateCredentials replaces a tier's credentials (after probing them).
func (s *Store) UpdateCredentials(ctx context.Context, name string, cr Credentials) error {
	cfg, err := s.get(ctx, name)
	if err != nil {
		return err
	}
	cfg.Credentials = cr
	if err := cfg.Validate(); err != nil {
		return err
	}
	t, err := Open(ctx, cfg)
	if err != nil {
		return err
	}
	if err := s.opts.Probe(ctx, t); err != nil {
		return fmt.Errorf("%w: tier %s with the new credentials: %w", ErrUnusable, name, err)
	}
	if err := s.save(ctx, cfg); err != nil {
		return err
	}
	s.mu.Lock()
	s.config[name], s.tiers[name] = cfg, t
	s.mu.Unlock()
	return nil
}

func (s *Store) save(ctx context.Context, cfg Config) error {
	plain, err := json.Marshal(cfg.Credentials)
	if err != nil {
		return err
	}
	s.mu.Lock()
	aead, err := s.sealer(ctx, true)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	doc := document{Version: 1, Config: cfg, Credentials: aead.Seal(nonce, nonce, plain, aad(cfg.Name))}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return s.cs.WriteConfig(ctx, docName(cfg.Name), raw)
}

// Remove deletes a tier's configuration (the data in the tier stays).
func (s *Store) Remove(ctx context.Context, name string) error {
	if _, err := s.Get(ctx, name); err != nil {
		return err
	}
	if err := s.cs.DeleteConfig(ctx, docName(name)); err != nil && !s.opts.NotFound(err) {
		return err
	}
	s.mu.Lock()
	delete(s.config, name)
	delete(s.tiers, name)
	s.mu.Unlock()
	return nil
}

// Get returns a tier's configuration without its credentials.
func (s *Store) Get(ctx context.Context, name string) (Config, error) {
	cfg, err := s.get(ctx, name)
	cfg.Credentials = Credentials{}
	return cfg, err
}

// get returns the full configuration, read from the ConfigStore when this
// node does not know it yet.
func (s *Store) get(ctx context.Context, name string) (Config, error) {
	if !nameRE.MatchString(name) {
		return Config{}, fmt.Errorf("%w: %q", ErrNoSuchTier, name)
	}
	s.mu.Lock()
	cfg, ok := s.config[name]
	s.mu.Unlock()
	if ok {
		return cfg, nil
	}
	cfg, err := s.load(ctx, name)
	if err != nil {
		return Config{}, err
	}
	s.mu.Lock()
	s.config[name] = cfg
	s.mu.Unlock()
	return cfg, nil
}

// load reads and unseals one tier document.
func (s *Store) load(ctx context.Context, name string) (Config, error) {
	raw, err := s.cs.ReadConfig(ctx, docName(name))
	if err != nil {
		if s.opts.NotFound(err) {
			return Config{}, fmt.Errorf("%w: %s", ErrNoSuchTier, name)
		}
		return Config{}, fmt.Errorf("tier %s: reading its configuration: %w", name, err)
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Version != 1 || doc.Config.Name != name {
		return Config{}, fmt.Errorf("tier %s: configuration document is damaged", name)
	}
	cfg := doc.Config
	if len(doc.Credentials) > 0 {
		s.mu.Lock()
		aead, err := s.sealer(ctx, false)
		s.mu.Unlock()
		if err != nil {
			return Config{}, err
		}
		if len(doc.Credentials) < aead.NonceSize() {
			return Config{}, fmt.Errorf("tier %s: sealed credentials are damaged", name)
		}
		n := aead.NonceSize()
		plain, err := aead.Open(nil, doc.Credentials[:n], doc.Credentials[n:], aad(name))
		if err != nil {
			return Config{}, fmt.Errorf("tier %s: its credentials were sealed with another root secret (or are damaged); add the tier again", name)
		}
		if err := json.Unmarshal(plain, &cfg.Credentials); err != nil {
			return Config{}, fmt.Errorf("tier %s: sealed credentials are damaged", name)
		}
	}
	return cfg, nil
}

// List returns every tier's configuration (without credentials), by name.
func (s *Store) List(ctx context.Context) ([]Config, error) {
	names, err := s.cs.ListConfig(ctx, configDir)
	if err != nil && !s.opts.NotFound(err) {
		return nil, err
	}
	out := []Config{}
	for _, n := range names {
		name, ok := strings.CutSuffix(n, ".json")
		if !ok || !nameRE.MatchString(name) {
			continue
		}
		cfg, err := s.Get(ctx, name)
		if errors.Is(err, ErrNoSuchTier) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, cfg)
	}
	slices.SortFunc(out, func(a, b Config) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Exists reports whether a tier of this name is configured (for lifecycle
// validation: a Transition's StorageClass must name one).
func (s *Store) Exists(ctx context.Context, name string) bool {
	_, err := s.get(ctx, name)
	return err == nil
}

// Tier returns the client of a configured tier (ErrNoSuchTier if none).
func (s *Store) Tier(ctx context.Context, name string) (Tier, error) {
	s.mu.Lock()
	t, ok := s.tiers[name]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	cfg, err := s.get(ctx, name)
	if err != nil {
		return nil, err
	}
	t, err = Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.tiers[name]; ok {
		return prev, nil
	}
	s.tiers[name] = t
	return t, nil
}
