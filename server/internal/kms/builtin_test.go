package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
)

type memStore struct {
	mu   sync.Mutex
	docs map[string][]byte
}

func (m *memStore) Load(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.docs[name], nil
}

func (m *memStore) Save(_ context.Context, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.docs == nil {
		m.docs = map[string][]byte{}
	}
	m.docs[name] = append([]byte(nil), data...)
	return nil
}

func masterKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// testBackend runs the behaviour every backend shares.
func testBackend(t *testing.T, k KMS, other string) {
	t.Helper()
	ctx := context.Background()
	enc := Context{"aws:s3:arn": "arn:aws:s3:::b/k"}
	for _, id := range []string{"", other} {
		dk, err := k.GenerateKey(ctx, id, enc)
		if err != nil {
			t.Fatalf("GenerateKey(%q): %v", id, err)
		}
		if len(dk.Plaintext) != DataKeySize || len(dk.Ciphertext) == 0 || bytes.Contains(dk.Ciphertext, dk.Plaintext) {
			t.Fatalf("GenerateKey(%q): bad data key", id)
		}
		pt, err := k.Decrypt(ctx, dk.KeyID, dk.Ciphertext, enc)
		if err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Fatalf("Decrypt(%q): %v", id, err)
		}
		// Another context does not give the data key back.
		pt, err = k.Decrypt(ctx, dk.KeyID, dk.Ciphertext, Context{"aws:s3:arn": "arn:aws:s3:::b/other"})
		if err == nil && bytes.Equal(pt, dk.Plaintext) {
			t.Fatalf("Decrypt(%q) with another context returned the data key", id)
		}
		if rw, ok := k.(Rewrapper); ok {
			ct, err := rw.Rewrap(ctx, dk.KeyID, dk.Ciphertext, enc)
			if err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
			if pt, err := k.Decrypt(ctx, dk.KeyID, ct, enc); err != nil || !bytes.Equal(pt, dk.Plaintext) {
				t.Fatalf("Decrypt after Rewrap: %v", err)
			}
		}
	}
	if _, err := k.GenerateKey(ctx, "no-such-key", enc); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if err := Check(ctx, k); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// testManager runs create/list/status/rotate.
func testManager(t *testing.T, m Manager, name string) {
	t.Helper()
	ctx := context.Background()
	info, err := m.CreateKey(ctx, name)
	if err != nil || info.Name != name || !info.Enabled {
		t.Fatalf("CreateKey: %+v %v", info, err)
	}
	if _, err := m.CreateKey(ctx, name); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("CreateKey twice: %v", err)
	}
	list, err := m.ListKeys(ctx)
	found := false
	for _, k := range list {
		found = found || k.Name == name
	}
	if err != nil || !found {
		t.Fatalf("ListKeys: %+v %v", list, err)
	}
	if _, err := m.KeyStatus(ctx, name+"-missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("KeyStatus of a missing key: %v", err)
	}
	k := m.(KMS)
	enc := Context{"x": "y"}
	before, err := k.GenerateKey(ctx, name, enc)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := m.(Rotator); ok {
		if _, err := r.RotateKey(ctx, name); err != nil && !errors.Is(err, ErrNotSupported) {
			t.Fatalf("RotateKey: %v", err)
		}
	}
	// Data keys sealed before a rotation still open.
	if pt, err := k.Decrypt(ctx, before.KeyID, before.Ciphertext, enc); err != nil || !bytes.Equal(pt, before.Plaintext) {
		t.Fatalf("Decrypt after rotation: %v", err)
	}
}

func TestBuiltin(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	mk := masterKey()
	b, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store, Keys: []string{"team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	testBackend(t, b, "team-a")
	testManager(t, b, "team-b")
	dk, _ := b.GenerateKey(ctx, "team-b", Context{"k": "v"})

	// Rotation: new data keys use the new version; old ones still open; rewrap
	// moves them to the new version.
	info, err := b.RotateKey(ctx, "team-b")
	if err != nil || info.Version != 3 { // created 1, rotated in testManager 2, now 3
		t.Fatalf("RotateKey: %+v %v", info, err)
	}
	ct, err := b.Rewrap(ctx, "team-b", dk.Ciphertext, Context{"k": "v"})
	if err != nil || bytes.Equal(ct, dk.Ciphertext) {
		t.Fatalf("Rewrap: %v", err)
	}

	// A second instance on the same store (another node, a restart) sees the keys.
	b2, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][]byte{dk.Ciphertext, ct} {
		if pt, err := b2.Decrypt(ctx, "team-b", c, Context{"k": "v"}); err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Fatalf("restart: %v", err)
		}
	}
	// The key document holds no key material in the clear.
	for _, doc := range store.docs {
		if bytes.Contains(doc, dk.Plaintext) {
			t.Fatal("data key in the store")
		}
	}
	// Another master key is refused at start.
	if _, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: masterKey(), Store: store}); err == nil {
		t.Fatal("a different master key was accepted")
	}
	if _, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: []byte("short")}); err == nil {
		t.Fatal("a short master key was accepted")
	}
	// Garbage ciphertexts.
	for _, c := range [][]byte{nil, []byte("ck\x01"), append([]byte("ck\x01\x00\x00\x00\x09"), make([]byte, 60)...)} {
		if _, err := b.Decrypt(ctx, "team-b", c, nil); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("garbage %q: %v", c, err)
		}
	}
	if _, err := b.CreateKey(ctx, "bad name"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// TestBuiltinConcurrentNodes: nodes that create the same key at once make the
// same material, and a key lost to another node's concurrent write is merged
// back by the node that made it.
func TestBuiltinConcurrentNodes(t *testing.T) {
	ctx := context.Background()
	mk := masterKey()
	enc := Context{"k": "v"}
	// Same key created independently (two stores: no coordination at all).
	c, _ := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: &memStore{}, Keys: []string{"z"}})
	d, _ := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: &memStore{}, Keys: []string{"z"}})
	dk, err := c.GenerateKey(ctx, "z", enc)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := d.Decrypt(ctx, "z", dk.Ciphertext, enc); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("independently created keys differ: %v", err)
	}

	// A write that lost a key.
	store := &memStore{}
	a, _ := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store})
	before, _ := store.Load(ctx, builtinDocName)
	if _, err := a.CreateKey(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	dk, _ = a.GenerateKey(ctx, "x", enc)
	store.Save(ctx, builtinDocName, before)    // another node's concurrent save, without x
	if _, err := a.ListKeys(ctx); err != nil { // a reloads and merges x back
		t.Fatal(err)
	}
	b, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := b.Decrypt(ctx, "x", dk.Ciphertext, enc); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("key lost to a concurrent write: %v", err)
	}
}

// A deleted key stays deleted: a node that loaded it before the delete does not
// merge it back, the default key cannot be deleted, and the name can be reused.
func TestBuiltinDeleteKey(t *testing.T) {
	ctx := context.Background()
	mk := masterKey()
	enc := Context{"k": "v"}
	store := &memStore{}
	a, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store, Keys: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuiltin(ctx, BuiltinConfig{MasterKey: mk, Store: store}) // another node, knows x
	if err != nil {
		t.Fatal(err)
	}
	dk, err := a.GenerateKey(ctx, "x", enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteKey(ctx, a.DefaultKey()); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("deleting the default key = %v, want ErrKeyInUse", err)
	}
	if err := a.DeleteKey(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteKey(ctx, "x"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("deleting twice = %v, want ErrKeyNotFound", err)
	}
	if _, err := a.Decrypt(ctx, "x", dk.Ciphertext, enc); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Decrypt with a deleted key = %v, want ErrKeyNotFound", err)
	}
	// b still has x in memory; its reload must not bring x back.
	if _, err := b.CreateKey(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	keys, err := a.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "x" {
			t.Fatalf("another node's reload merged the deleted key back: %+v", keys)
		}
	}
	// Re-created, the name's first version opens what it sealed before.
	if _, err := a.CreateKey(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Decrypt(ctx, "x", dk.Ciphertext, enc); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("Decrypt after re-creating the key: %v", err)
	}
}
