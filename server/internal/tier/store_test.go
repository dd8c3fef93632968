package tier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

// memConfig is an in-memory ConfigStore.
type memConfig struct {
	mu   sync.Mutex
	docs map[string][]byte
}

var errNoDoc = errors.New("no such document")

func (m *memConfig) ReadConfig(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.docs[name]
	if !ok {
		return nil, errNoDoc
	}
	return bytes.Clone(b), nil
}

func (m *memConfig) WriteConfig(_ context.Context, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[name] = bytes.Clone(data)
	return nil
}

func (m *memConfig) DeleteConfig(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.docs[name]; !ok {
		return errNoDoc
	}
	delete(m.docs, name)
	return nil
}

func (m *memConfig) ListConfig(_ context.Context, dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.docs {
		if rest, ok := strings.CutPrefix(n, dir+"/"); ok && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	return out, nil
}

func newTestStore(cs ConfigStore, secret string, probe func(context.Context, Tier) error) *Store {
	if probe == nil {
		probe = func(context.Context, Tier) error { return nil }
	}
	return NewStore(cs, StoreOptions{
		RootSecret: secret, KDFIterations: 1000, Probe: probe,
		NotFound: func(err error) bool { return errors.Is(err, errNoDoc) },
	})
}

func s3Config(name string) Config {
	return Config{
		Name: name, Type: TypeS3, Endpoint: "http://127.0.0.1:1", Bucket: "b", Prefix: "p/",
		Credentials: Credentials{AccessKey: "AKIDEXAMPLE", SecretKey: "very-secret-key-material"},
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	cs := &memConfig{docs: map[string][]byte{}}
	s := newTestStore(cs, "root-secret", nil)

	if err := s.Add(ctx, s3Config("COLD")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, s3Config("COLD")); !errors.Is(err, ErrTierExists) {
		t.Fatalf("second Add: %v, want ErrTierExists", err)
	}
	if err := s.Add(ctx, Config{Name: "GLACIER", Type: TypeAzure, Bucket: "c", Credentials: Credentials{AccountName: "acct", AccountKey: "a2V5"}}); err != nil {
		t.Fatal(err)
	}
	// Nothing secret is stored in the clear.
	for name, doc := range cs.docs {
		for _, secret := range []string{"very-secret-key-material", "AKIDEXAMPLE", "a2V5"} {
			if bytes.Contains(doc, []byte(secret)) {
				t.Fatalf("%s holds %q in the clear: %s", name, secret, doc)
			}
		}
	}
	// Another node (a fresh Store) reads and unseals them.
	other := newTestStore(cs, "root-secret", nil)
	list, err := other.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "COLD" || list[1].Name != "GLACIER" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if list[0].Credentials != (Credentials{}) {
		t.Fatal("List shows credentials")
	}
	full, err := other.get(ctx, "COLD")
	if err != nil || full.Credentials.SecretKey != "very-secret-key-material" || full.Prefix != "p/" {
		t.Fatalf("unsealed config = %+v, %v", full, err)
	}
	if !other.Exists(ctx, "GLACIER") || other.Exists(ctx, "WARM") || other.Exists(ctx, "../x") {
		t.Fatal("Exists is wrong")
	}
	if _, err := other.Tier(ctx, "COLD"); err != nil {
		t.Fatalf("Tier: %v", err)
	}
	if _, err := other.Tier(ctx, "WARM"); !errors.Is(err, ErrNoSuchTier) {
		t.Fatalf("Tier of an unknown name: %v", err)
	}

	// A sealed value moved to another tier's document does not open.
	var coldDoc, glacierDoc document
	mustJSON(t, cs.docs["tiers/COLD.json"], &coldDoc)
	mustJSON(t, cs.docs["tiers/GLACIER.json"], &glacierDoc)
	glacierDoc.Credentials = coldDoc.Credentials
	cs.docs["tiers/GLACIER.json"] = marshal(t, glacierDoc)
	if _, err := newTestStore(cs, "root-secret", nil).Tier(ctx, "GLACIER"); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("swapped credentials: %v", err)
	}
	// Another root secret cannot open them, and says why.
	if _, err := newTestStore(cs, "another-secret", nil).Tier(ctx, "COLD"); err == nil || !strings.Contains(err.Error(), "another root secret") {
		t.Fatalf("wrong root secret: %v", err)
	}

	// Credentials can be replaced; Remove forgets the tier.
	cr := Credentials{AccessKey: "AKID2", SecretKey: "second-secret"}
	if err := s.UpdateCredentials(ctx, "COLD", cr); err != nil {
		t.Fatal(err)
	}
	if c, _ := newTestStore(cs, "root-secret", nil).get(ctx, "COLD"); c.Credentials != cr {
		t.Fatalf("credentials after update: %+v", c.Credentials)
	}
	if err := s.Remove(ctx, "COLD"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "COLD"); !errors.Is(err, ErrNoSuchTier) {
		t.Fatalf("second Remove: %v", err)
	}
	if s.Exists(ctx, "COLD") {
		t.Fatal("removed tier still exists")
	}
}

func TestStoreAddRefusesUnusableTiers(t *testing.T) {
	ctx := context.Background()
	probeErr := errors.New("bucket missing")
	s := newTestStore(&memConfig{docs: map[string][]byte{}}, "root-secret", func(context.Context, Tier) error { return probeErr })
	if err := s.Add(ctx, s3Config("COLD")); !errors.Is(err, probeErr) {
		t.Fatalf("Add with a failing probe: %v", err)
	}
	if s.Exists(ctx, "COLD") {
		t.Fatal("a tier that failed its probe was stored")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"s3", s3Config("COLD"), true},
		{"s3 from the environment", Config{Name: "AWS", Type: TypeS3, Bucket: "b"}, true},
		{"gcs", Config{Name: "GCS-1", Type: TypeGCS, Bucket: "b"}, true},
		{"azure managed identity", Config{Name: "AZ_1", Type: TypeAzure, Bucket: "c", Credentials: Credentials{AccountName: "a"}}, true},
		{"lower-case name", Config{Name: "cold", Type: TypeGCS, Bucket: "b"}, false},
		{"name with slash", Config{Name: "A/B", Type: TypeGCS, Bucket: "b"}, false},
		{"STANDARD", Config{Name: "STANDARD", Type: TypeGCS, Bucket: "b"}, false},
		{"no bucket", Config{Name: "COLD", Type: TypeGCS}, false},
		{"unknown type", Config{Name: "COLD", Type: "ftp", Bucket: "b"}, false},
		{"bad endpoint", Config{Name: "COLD", Type: TypeS3, Bucket: "b", Endpoint: "127.0.0.1:9000"}, false},
		{"half S3 credentials", Config{Name: "COLD", Type: TypeS3, Bucket: "b", Credentials: Credentials{AccessKey: "a"}}, false},
		{"azure without account", Config{Name: "COLD", Type: TypeAzure, Bucket: "b"}, false},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v is not ErrInvalidConfig", tc.name, err)
		}
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
