package kms

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Store keeps the built-in KMS's key document (in a server: the object layer's
// configuration store, on every drive). Load returns nil, nil for a document
// that does not exist.
type Store interface {
	Load(ctx context.Context, name string) ([]byte, error)
	Save(ctx context.Context, name string, data []byte) error
}

// BuiltinConfig configures the built-in KMS.
type BuiltinConfig struct {
	// MasterKey is the 32-byte master key. It seals every named key's material.
	MasterKey []byte
	// Store persists named keys (nil: in memory, lost at exit — tests only).
	Store Store
	// DefaultKey is the name of the default key (default "cairn-default"); it is
	// created at start when missing.
	DefaultKey string
	// Keys are further key names created at start when missing.
	Keys []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// builtinDoc is the persisted key document.
type builtinDoc struct {
	// Check identifies the master key (an HMAC of a constant), so a server
	// started with another master key refuses to start instead of failing
	// every read.
	Check string                 `json:"check"`
	Keys  map[string]*builtinKey `json:"keys"`
	// Deleted records when keys were deleted, so that a node which still knows
	// a deleted key does not merge it back (see reload).
	Deleted map[string]time.Time `json:"deleted,omitempty"`
}

type builtinKey struct {
	Created  time.Time        `json:"created"`
	Enabled  bool             `json:"enabled"`
	Current  int              `json:"current"`
	Versions []builtinVersion `json:"versions"`
}

type builtinVersion struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// Sealed is the version's 32-byte key material sealed by the master key
	// (nonce ‖ AES-256-GCM, associated data: name and version).
	Sealed []byte `json:"sealed"`
}

// Builtin is the built-in KMS: named, versioned keys whose material is random
// and sealed by one master key.
type Builtin struct {
	master cipher.AEAD
	seed   []byte // derives version material (see newVersion)
	check  string
	store  Store
	def    string
	now    func() time.Time

	mu     sync.Mutex
	doc    *builtinDoc
	loaded time.Time
	plain  map[string][]byte // "name\x00version" → material, opened lazily
}

var (
	_ KMS       = (*Builtin)(nil)
	_ Manager   = (*Builtin)(nil)
	_ Rotator   = (*Builtin)(nil)
	_ Rewrapper = (*Builtin)(nil)
	_ Deleter   = (*Builtin)(nil)
)

const (
	builtinDocName = "kms/builtin.json"
	builtinRefresh = 10 * time.Second
	builtinMagic   = "ck\x01" // ciphertext format 1
)

// NewBuiltin opens the built-in KMS: it loads (or creates) the key document,
// refuses a master key other than the one the document was made with, and
// creates the default key and cfg.Keys when missing.
func NewBuiltin(ctx context.Context, cfg BuiltinConfig) (*Builtin, error) {
	if len(cfg.MasterKey) != 32 {
		return nil, fmt.Errorf("kms: the built-in master key must be 32 bytes, not %d", len(cfg.MasterKey))
	}
	block, err := aes.NewCipher(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, cfg.MasterKey)
	mac.Write([]byte("cairn kms builtin master key check"))
	seed, err := hkdf.Key(sha256.New, cfg.MasterKey, nil, "cairn kms builtin key material seed", 32)
	if err != nil {
		return nil, err
	}
	b := &Builtin{
		master: aead, seed: seed, check: hex.EncodeToString(mac.Sum(nil)[:16]), store: cfg.Store,
		def: cfg.DefaultKey, now: cfg.Now, plain: map[string][]byte{},
	}
	if b.def == "" {
		b.def = "cairn-default"
	}
	if b.now == nil {
		b.now = time.Now
	}
	b.mu.Lock()
	err = b.reload(ctx)
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, name := range append([]string{b.def}, cfg.Keys...) {
		if _, err := b.CreateKey(ctx, name); err != nil && !errors.Is(err, ErrKeyExists) {
			return nil, err
		}
	}
	return b, nil
}

// reload reads the key document from the store. b.mu is held.
func (b *Builtin) reload(ctx context.Context) error {
	doc := &builtinDoc{Check: b.check, Keys: map[string]*builtinKey{}}
	if b.store != nil {
		raw, err := b.store.Load(ctx, builtinDocName)
		if err != nil {
			return fmt.Errorf("%w: loading keys: %v", ErrUnavailable, err)
		}
		if raw != nil {
			doc = &builtinDoc{}
			if err := json.Unmarshal(raw, doc); err != nil {
				return fmt.Errorf("kms: key document is corrupt: %v", err)
			}
			if doc.Check != b.check {
				return errors.New("kms: the master key differs from the one this deployment's keys were sealed with (check CAIRN_KMS_MASTER_KEY)")
			}
			if doc.Keys == nil {
				doc.Keys = map[string]*builtinKey{}
			}
		}
	} else if b.doc != nil {
		doc = b.doc
	}
	// Keep what this node knows and the store lost to a concurrent write by
	// another node (same names and versions give the same material).
	lost := false
	if b.doc != nil && b.doc != doc {
		for name, mine := range b.doc.Keys {
			theirs := doc.Keys[name]
			deleted, wasDeleted := doc.Deleted[name]
			switch {
			case theirs == nil && wasDeleted && !mine.Created.After(deleted):
				// Deleted elsewhere since this node loaded it: stay deleted.
			case theirs == nil:
				doc.Keys[name], lost = mine, true
			case mine.Current > theirs.Current:
				merged := *theirs
				merged.Versions = append([]builtinVersion(nil), theirs.Versions...)
				for _, v := range mine.Versions {
					if v.Version > theirs.Current {
						merged.Versions = append(merged.Versions, v)
					}
				}
				merged.Current = mine.Current
				doc.Keys[name], lost = &merged, true
			}
		}
	}
	b.doc, b.loaded = doc, b.now()
	if lost {
		return b.save(ctx)
	}
	return nil
}

// key returns the named key, reloading the document when the key is unknown
// (another node may have created it) or the copy is old. b.mu is held.
func (b *Builtin) key(ctx context.Context, name string) (*builtinKey, error) {
	k := b.doc.Keys[name]
	if k == nil || b.now().Sub(b.loaded) > builtinRefresh {
		if err := b.reload(ctx); err != nil {
			return nil, err
		}
		k = b.doc.Keys[name]
	}
	if k == nil {
		return nil, fmt.Errorf("%w: %q", ErrKeyNotFound, name)
	}
	return k, nil
}

func (b *Builtin) save(ctx context.Context) error {
	if b.store == nil {
		return nil
	}
	raw, err := json.Marshal(b.doc)
	if err != nil {
		return err
	}
	if err := b.store.Save(ctx, builtinDocName, raw); err != nil {
		return fmt.Errorf("%w: saving keys: %v", ErrUnavailable, err)
	}
	return nil
}

func versionAD(name string, version int) []byte {
	return fmt.Appendf(nil, "cairn kms builtin key\x00%s\x00%d", name, version)
}

// material opens version v of key name. b.mu is held.
func (b *Builtin) material(name string, k *builtinKey, v int) ([]byte, error) {
	id := fmt.Sprintf("%s\x00%d", name, v)
	if m, ok := b.plain[id]; ok {
		return m, nil
	}
	for _, kv := range k.Versions {
		if kv.Version != v {
			continue
		}
		ns := b.master.NonceSize()
		if len(kv.Sealed) < ns {
			return nil, fmt.Errorf("kms: key %q version %d is corrupt", name, v)
		}
		m, err := b.master.Open(nil, kv.Sealed[:ns], kv.Sealed[ns:], versionAD(name, v))
		if err != nil {
			return nil, fmt.Errorf("kms: key %q version %d does not open with the master key", name, v)
		}
		b.plain[id] = m
		return m, nil
	}
	return nil, fmt.Errorf("%w: %q has no version %d", ErrDecrypt, name, v)
}

// newVersion makes version v of key name. Its material is derived from the
// master key, name and version rather than drawn at random, so nodes that
// create or rotate the same key at the same moment make the same material and
// their documents merge (reload) instead of one silently replacing the other's.
func (b *Builtin) newVersion(name string, v int) (builtinVersion, error) {
	m, err := hkdf.Key(sha256.New, b.seed, nil, fmt.Sprintf("cairn kms builtin key\x00%s\x00%d", name, v), 32)
	if err != nil {
		return builtinVersion{}, err
	}
	nonce := make([]byte, b.master.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return builtinVersion{}, err
	}
	return builtinVersion{Version: v, Created: b.now().UTC(), Sealed: b.master.Seal(nonce, nonce, m, versionAD(name, v))}, nil
}

// DefaultKey is the default key's name.
func (b *Builtin) DefaultKey() string { return b.def }

func dataAD(name string, enc Context) []byte {
	return append(fmt.Appendf(nil, "cairn kms builtin data key\x00%s\x00", name), enc.Bytes()...)
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// GenerateKey makes a data key sealed by the current version of key keyID.
func (b *Builtin) GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error) {
	if keyID == "" {
		keyID = b.def
	}
	dk := make([]byte, DataKeySize)
	if _, err := rand.Read(dk); err != nil {
		return DataKey{}, err
	}
	ct, err := b.encrypt(ctx, keyID, dk, enc)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{KeyID: keyID, Plaintext: dk, Ciphertext: ct}, nil
}

func (b *Builtin) encrypt(ctx context.Context, name string, dk []byte, enc Context) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, err := b.key(ctx, name)
	if err != nil {
		return nil, err
	}
	if !k.Enabled {
		return nil, fmt.Errorf("%w: %q", ErrKeyDisabled, name)
	}
	m, err := b.material(name, k, k.Current)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(builtinMagic)+4+aead.NonceSize(), len(builtinMagic)+4+aead.NonceSize()+len(dk)+aead.Overhead())
	copy(out, builtinMagic)
	binary.BigEndian.PutUint32(out[len(builtinMagic):], uint32(k.Current))
	nonce := out[len(builtinMagic)+4:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, dk, dataAD(name, enc)), nil
}

// Decrypt opens a data key ciphertext of key keyID, whatever its version.
func (b *Builtin) Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	if keyID == "" {
		keyID = b.def
	}
	head := len(builtinMagic) + 4 + 12
	if len(ciphertext) < head+16 || !bytes.HasPrefix(ciphertext, []byte(builtinMagic)) {
		return nil, fmt.Errorf("%w: not a built-in KMS ciphertext", ErrDecrypt)
	}
	v := int(binary.BigEndian.Uint32(ciphertext[len(builtinMagic):]))
	b.mu.Lock()
	k, err := b.key(ctx, keyID)
	var m []byte
	if err == nil {
		if !k.Enabled {
			err = fmt.Errorf("%w: %q", ErrKeyDisabled, keyID)
		} else if m, err = b.material(keyID, k, v); err != nil && v > k.Current {
			// A version made on another node since the last reload.
			if err = b.reload(ctx); err == nil {
				if k, err = b.key(ctx, keyID); err == nil {
					m, err = b.material(keyID, k, v)
				}
			}
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	aead, err := gcm(m)
	if err != nil {
		return nil, err
	}
	dk, err := aead.Open(nil, ciphertext[len(builtinMagic)+4:head], ciphertext[head:], dataAD(keyID, enc))
	if err != nil {
		return nil, fmt.Errorf("%w (key %q)", ErrDecrypt, keyID)
	}
	return dk, nil
}

// Rewrap re-seals a data key ciphertext under the key's current version.
func (b *Builtin) Rewrap(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	if keyID == "" {
		keyID = b.def
	}
	dk, err := b.Decrypt(ctx, keyID, ciphertext, enc)
	if err != nil {
		return nil, err
	}
	return b.encrypt(ctx, keyID, dk, enc)
}

// CreateKey creates a named key with a first version.
func (b *Builtin) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	if !validName(name) {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.reload(ctx); err != nil {
		return KeyInfo{}, err
	}
	if k := b.doc.Keys[name]; k != nil {
		return b.info(name, k), fmt.Errorf("%w: %q", ErrKeyExists, name)
	}
	v, err := b.newVersion(name, 1)
	if err != nil {
		return KeyInfo{}, err
	}
	k := &builtinKey{Created: v.Created, Enabled: true, Current: 1, Versions: []builtinVersion{v}}
	b.doc.Keys[name] = k
	deleted, wasDeleted := b.doc.Deleted[name]
	delete(b.doc.Deleted, name)
	if err := b.save(ctx); err != nil {
		delete(b.doc.Keys, name)
		if wasDeleted {
			b.doc.Deleted[name] = deleted
		}
		return KeyInfo{}, err
	}
	return b.info(name, k), nil
}

// DeleteKey removes a key with all its versions. The default key cannot be
// deleted. Data keys the key sealed no longer open until a key of the same name
// is created again (version material derives from the master key, the name and
// the version, so a re-created key opens what its first version sealed).
func (b *Builtin) DeleteKey(ctx context.Context, name string) error {
	if name == b.def {
		return fmt.Errorf("%w: %q is the default key (SSE-S3 and SSE-KMS requests without a key use it)", ErrKeyInUse, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.reload(ctx); err != nil {
		return err
	}
	k := b.doc.Keys[name]
	if k == nil {
		return fmt.Errorf("%w: %q", ErrKeyNotFound, name)
	}
	delete(b.doc.Keys, name)
	if b.doc.Deleted == nil {
		b.doc.Deleted = map[string]time.Time{}
	}
	b.doc.Deleted[name] = b.now().UTC()
	if err := b.save(ctx); err != nil {
		b.doc.Keys[name] = k
		delete(b.doc.Deleted, name)
		return err
	}
	for _, v := range k.Versions {
		delete(b.plain, fmt.Sprintf("%s\x00%d", name, v.Version))
	}
	return nil
}

// RotateKey adds a version to a key and makes it current.
func (b *Builtin) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.reload(ctx); err != nil {
		return KeyInfo{}, err
	}
	k := b.doc.Keys[name]
	if k == nil {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrKeyNotFound, name)
	}
	v, err := b.newVersion(name, k.Current+1)
	if err != nil {
		return KeyInfo{}, err
	}
	prev := *k
	k.Versions = append(append([]builtinVersion(nil), k.Versions...), v)
	k.Current = v.Version
	if err := b.save(ctx); err != nil {
		*k = prev
		return KeyInfo{}, err
	}
	return b.info(name, k), nil
}

// ListKeys lists the keys by name.
func (b *Builtin) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.reload(ctx); err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(b.doc.Keys))
	for name, k := range b.doc.Keys {
		out = append(out, b.info(name, k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// KeyStatus describes one key.
func (b *Builtin) KeyStatus(ctx context.Context, name string) (KeyInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.reload(ctx); err != nil {
		return KeyInfo{}, err
	}
	k := b.doc.Keys[name]
	if k == nil {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrKeyNotFound, name)
	}
	return b.info(name, k), nil
}

func (b *Builtin) info(name string, k *builtinKey) KeyInfo {
	return KeyInfo{Name: name, Version: k.Current, Enabled: k.Enabled, Created: k.Created, Backend: "builtin"}
}
