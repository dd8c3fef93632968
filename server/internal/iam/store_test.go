package iam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-io/cairn/server/internal/drive"
	"github.com/cairn-io/cairn/server/internal/objects"
)

const (
	testRootAK = "root-access"
	testRootSK = "root-secret-key-for-tests"
	testKDF    = 1000 // cheap key derivation for tests
)

// memBackend is an in-memory Backend. failWrites makes every write and delete
// after the first n fail.
type memBackend struct {
	mu         sync.Mutex
	docs       map[string][]byte
	failAfter  int // -1: never fail
	operations int
}

func newMemBackend() *memBackend { return &memBackend{docs: map[string][]byte{}, failAfter: -1} }

var errInjected = errors.New("injected write failure")

func (m *memBackend) ReadConfig(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.docs[name]
	if !ok {
		return nil, objects.ErrConfigNotFound
	}
	return bytes.Clone(b), nil
}

func (m *memBackend) mutate(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter >= 0 && m.operations >= m.failAfter {
		return errInjected
	}
	m.operations++
	if data == nil {
		delete(m.docs, name)
	} else {
		m.docs[name] = bytes.Clone(data)
	}
	return nil
}

func (m *memBackend) WriteConfig(_ context.Context, name string, data []byte) error {
	return m.mutate(name, data)
}
func (m *memBackend) DeleteConfig(_ context.Context, name string) error { return m.mutate(name, nil) }

func (m *memBackend) ListConfig(_ context.Context, dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.docs {
		if rest, ok := strings.CutPrefix(n, dir+"/"); ok && !strings.Contains(rest, "/") {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memBackend) failFrom(n int) {
	m.mu.Lock()
	m.failAfter, m.operations = n, 0
	m.mu.Unlock()
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t *testing.T, b Backend, now func() time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Backend: b, RootAccessKey: testRootAK, RootSecretKey: testRootSK, Now: now, KDFIterations: testKDF})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// realLayer opens an object layer over four drives under dir (same dir = same data).
func realLayer(t *testing.T, dir string) (*objects.Layer, func()) {
	t.Helper()
	g := drive.NewSyncGroup()
	var ds []drive.Drive
	var locals []*drive.Local
	for i := range 4 {
		root := filepath.Join(dir, fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := drive.OpenLocal(root, g)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
		locals = append(locals, d)
	}
	l, err := objects.New(objects.Config{Sets: [][]drive.Drive{ds}, Parity: 2, DeploymentID: "iam-test"})
	if err != nil {
		t.Fatal(err)
	}
	return l, func() {
		for _, d := range locals {
			d.Close()
		}
	}
}

const docReadPhotos = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"]}]}`

func TestStorePersistsAcrossLayerRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	layer, closeLayer := realLayer(t, dir)
	s := openStore(t, layer, nil)

	must[User](t)(s.CreateUser(ctx, "alice", []string{PolicyReadOnly}))
	must[User](t)(s.CreateUser(ctx, "bob", nil))
	must[PolicyInfo](t)(s.CreatePolicy(ctx, "read-photos", []byte(docReadPhotos)))
	must[Group](t)(s.CreateGroup(ctx, "staff", []string{"bob"}, []string{"read-photos"}))
	must[User](t)(s.SetUserEnabled(ctx, "bob", false))
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	k, secret, err := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", Name: "laptop", Policy: []byte(docReadPhotos), Expiration: exp})
	if err != nil {
		t.Fatal(err)
	}
	k2, secret2, err := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "bob", AccessKey: "BOBKEY", SecretKey: "bob-chosen-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if k2.AccessKey != "BOBKEY" || secret2 != "bob-chosen-secret" {
		t.Fatalf("chosen credentials not used: %s", k2.AccessKey)
	}
	closeLayer()

	// The secrets are nowhere on the drives in plaintext.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, sec := range []string{secret, secret2} {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s holds a secret key in plaintext", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	layer2, closeLayer2 := realLayer(t, dir)
	defer closeLayer2()
	s2 := openStore(t, layer2, nil)
	alice := must[User](t)(s2.User("alice"))
	if !alice.Enabled || len(alice.Policies) != 1 || alice.Policies[0] != PolicyReadOnly {
		t.Errorf("alice after restart: %+v", alice)
	}
	bob := must[User](t)(s2.User("bob"))
	if bob.Enabled || len(bob.Groups) != 1 || bob.Groups[0] != "staff" {
		t.Errorf("bob after restart: %+v", bob)
	}
	g := must[Group](t)(s2.Group("staff"))
	if len(g.Members) != 1 || len(g.Policies) != 1 || g.Policies[0] != "read-photos" {
		t.Errorf("group after restart: %+v", g)
	}
	p := must[PolicyInfo](t)(s2.Policy("read-photos"))
	if p.Document != docReadPhotos || len(p.Groups) != 1 {
		t.Errorf("policy after restart: %+v", p)
	}
	k1 := must[AccessKey](t)(s2.AccessKey(k.AccessKey))
	if k1.User != "alice" || k1.Name != "laptop" || !k1.Expiration.Equal(exp) || k1.Policy != docReadPhotos || !k1.Usable {
		t.Errorf("access key after restart: %+v", k1)
	}
	if got, ok := s2.SecretKey(k.AccessKey); !ok || got != secret {
		t.Errorf("SecretKey after restart = ok %v, secret matches %v", ok, got == secret)
	}
	// Bob is disabled: his key does not authenticate, until he is enabled again.
	if _, ok := s2.SecretKey("BOBKEY"); ok {
		t.Error("a disabled user's key authenticates")
	}
	must[User](t)(s2.SetUserEnabled(ctx, "bob", true))
	if got, ok := s2.SecretKey("BOBKEY"); !ok || got != "bob-chosen-secret" {
		t.Error("an enabled user's key does not authenticate")
	}
}

func TestStoreSealing(t *testing.T) {
	ctx := context.Background()
	b := newMemBackend()
	s := openStore(t, b, nil)
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	ka, sa, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice"})
	kb, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice"})

	// Other root credentials: the keys load but do not authenticate.
	other, err := Open(ctx, Config{Backend: b, RootAccessKey: testRootAK, RootSecretKey: "another-root-secret", KDFIterations: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.SecretKey(ka.AccessKey); ok {
		t.Error("a key sealed under other root credentials authenticates")
	}
	if k := must[AccessKey](t)(other.AccessKey(ka.AccessKey)); k.Usable {
		t.Error("a key sealed under other root credentials is reported usable")
	}

	// A sealed secret moved into another key's document does not open.
	docA, _ := b.ReadConfig(ctx, keyPath(ka.AccessKey))
	docB, _ := b.ReadConfig(ctx, keyPath(kb.AccessKey))
	sealedA := between(string(docA), `"sealedSecret": "`, `"`)
	sealedB := between(string(docB), `"sealedSecret": "`, `"`)
	if sealedA == "" || sealedB == "" {
		t.Fatalf("no sealed secret in %s", docA)
	}
	b.docs[keyPath(kb.AccessKey)] = []byte(strings.Replace(string(docB), sealedB, sealedA, 1))
	s2 := openStore(t, b, nil)
	if _, ok := s2.SecretKey(kb.AccessKey); ok {
		t.Error("a sealed secret copied to another access key opens")
	}
	if got, ok := s2.SecretKey(ka.AccessKey); !ok || got != sa {
		t.Error("the untouched key stopped working")
	}
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

func TestStoreCredentials(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openStore(t, newMemBackend(), clk.Now)
	if sk, ok := s.SecretKey(testRootAK); !ok || sk != testRootSK {
		t.Fatal("root does not authenticate")
	}
	if _, ok := s.SecretKey("nobody"); ok {
		t.Fatal("an unknown key authenticates")
	}
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	k, sk, err := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", Expiration: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.SecretKey(k.AccessKey); !ok || got != sk {
		t.Fatal("a fresh key does not authenticate")
	}
	if len(k.AccessKey) != 20 || len(sk) != 40 {
		t.Errorf("generated credentials have lengths %d/%d, want 20/40", len(k.AccessKey), len(sk))
	}
	clk.Add(time.Hour)
	if _, ok := s.SecretKey(k.AccessKey); ok {
		t.Error("an expired key authenticates")
	}
	if _, ok := s.resolve(k.AccessKey); ok {
		t.Error("an expired key resolves")
	}
	// Removing the expiry revives it; disabling the key stops it.
	zero := time.Time{}
	must[AccessKey](t)(s.UpdateAccessKey(ctx, k.AccessKey, UpdateAccessKeyOptions{Expiration: &zero}))
	if _, ok := s.SecretKey(k.AccessKey); !ok {
		t.Error("a key without expiry does not authenticate")
	}
	off := false
	must[AccessKey](t)(s.UpdateAccessKey(ctx, k.AccessKey, UpdateAccessKeyOptions{Enabled: &off}))
	if _, ok := s.SecretKey(k.AccessKey); ok {
		t.Error("a disabled key authenticates")
	}
	// Deleting the user deletes the key.
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccessKey(k.AccessKey); !errors.Is(err, ErrNoSuchAccessKey) {
		t.Errorf("key of a deleted user: %v", err)
	}
}

func TestStoreErrors(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newMemBackend(), nil)
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	must[PolicyInfo](t)(s.CreatePolicy(ctx, "p1", []byte(docReadPhotos)))
	must[Group](t)(s.CreateGroup(ctx, "g1", []string{"alice"}, []string{"p1"}))
	past := time.Now().Add(-time.Minute)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate user", second(s.CreateUser(ctx, "alice", nil)), ErrExists},
		{"user named like root", second(s.CreateUser(ctx, testRootAK, nil)), ErrInvalidArgument},
		{"bad user name", second(s.CreateUser(ctx, "a/b", nil)), ErrInvalidArgument},
		{"dot user name", second(s.CreateUser(ctx, "..", nil)), ErrInvalidArgument},
		{"long user name", second(s.CreateUser(ctx, strings.Repeat("a", 65), nil)), ErrInvalidArgument},
		{"user with unknown policy", second(s.CreateUser(ctx, "bob", []string{"nope"})), ErrNoSuchPolicy},
		{"unknown user", second(s.User("bob")), ErrNoSuchUser},
		{"delete unknown user", s.DeleteUser(ctx, "bob"), ErrNoSuchUser},
		{"attach unknown policy", second(s.AttachUserPolicy(ctx, "alice", "nope")), ErrNoSuchPolicy},
		{"detach unattached", second(s.DetachUserPolicy(ctx, "alice", "p1")), ErrNotAttached},
		{"duplicate group", second(s.CreateGroup(ctx, "g1", nil, nil)), ErrExists},
		{"group with unknown member", second(s.CreateGroup(ctx, "g2", []string{"bob"}, nil)), ErrNoSuchUser},
		{"delete group with members", s.DeleteGroup(ctx, "g1"), ErrDeleteConflict},
		{"remove non-member", second(s.RemoveGroupMember(ctx, "g1", "carol")), ErrNotAttached},
		{"add unknown user", second(s.AddGroupMember(ctx, "g1", "bob")), ErrNoSuchUser},
		{"unknown group", second(s.Group("g9")), ErrNoSuchGroup},
		{"duplicate policy", second(s.CreatePolicy(ctx, "p1", []byte(docReadPhotos))), ErrExists},
		{"policy shadowing a built-in", second(s.CreatePolicy(ctx, PolicyAdmin, []byte(docReadPhotos))), ErrBuiltinPolicy},
		{"update built-in", second(s.UpdatePolicy(ctx, PolicyReadOnly, []byte(docReadPhotos))), ErrBuiltinPolicy},
		{"delete built-in", s.DeletePolicy(ctx, PolicyReadWrite), ErrBuiltinPolicy},
		{"delete attached policy", s.DeletePolicy(ctx, "p1"), ErrDeleteConflict},
		{"update unknown policy", second(s.UpdatePolicy(ctx, "p9", []byte(docReadPhotos))), ErrNoSuchPolicy},
		{"malformed policy", second(s.CreatePolicy(ctx, "p2", []byte(`{"Version":"2012-10-17"}`))), ErrMalformedPolicy},
		{"policy with principal", second(s.CreatePolicy(ctx, "p2", []byte(docPublicRead))), ErrMalformedPolicy},
		{"key for unknown user", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "bob"})), ErrNoSuchUser},
		{"key expired at birth", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", Expiration: past})), ErrInvalidArgument},
		{"key with bad inline policy", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", Policy: []byte(`{`)})), ErrMalformedPolicy},
		{"key named like root", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", AccessKey: testRootAK})), ErrExists},
		{"bad access key id", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", AccessKey: "a/b"})), ErrInvalidArgument},
		{"short secret", third(s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", SecretKey: "short"})), ErrInvalidArgument},
		{"update unknown key", second(s.UpdateAccessKey(ctx, "nope", UpdateAccessKeyOptions{})), ErrNoSuchAccessKey},
		{"delete unknown key", s.DeleteAccessKey(ctx, "nope"), ErrNoSuchAccessKey},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// None of that changed anything.
	if n := len(s.Users()); n != 1 {
		t.Errorf("%d users after failed changes, want 1", n)
	}
	if ks, _ := s.AccessKeys(""); len(ks) != 0 {
		t.Errorf("%d keys after failed changes, want 0", len(ks))
	}
	// A secret never appears in an error message.
	_, _, err := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice", SecretKey: "has a space!"})
	if err == nil || strings.Contains(err.Error(), "has a space") {
		t.Errorf("error %v repeats the secret", err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

func TestStoreFailedWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	b := newMemBackend()
	s := openStore(t, b, nil)
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	must[Group](t)(s.CreateGroup(ctx, "g", []string{"alice"}, nil))
	k, _, err := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	b.failFrom(0)
	if _, err := s.CreateUser(ctx, "bob", nil); !errors.Is(err, errInjected) {
		t.Fatalf("CreateUser with failing backend: %v", err)
	}
	if _, err := s.User("bob"); !errors.Is(err, ErrNoSuchUser) {
		t.Error("a user whose write failed exists")
	}
	// DeleteUser fails after deleting the key document: memory keeps the old
	// state until Reload, which sees the key gone and alice still there.
	b.failFrom(1)
	if err := s.DeleteUser(ctx, "alice"); !errors.Is(err, errInjected) {
		t.Fatalf("DeleteUser with failing backend: %v", err)
	}
	if _, err := s.User("alice"); err != nil {
		t.Errorf("alice gone after a failed delete: %v", err)
	}
	b.failFrom(-1)
	if err := s.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccessKey(k.AccessKey); !errors.Is(err, ErrNoSuchAccessKey) {
		t.Error("the key deleted before the failure is back after Reload")
	}
	if u, err := s.User("alice"); err != nil || len(u.Groups) != 1 {
		t.Errorf("alice after Reload: %+v, %v", u, err)
	}
}

func TestStoreCorruptPolicyFailsClosed(t *testing.T) {
	ctx := context.Background()
	b := newMemBackend()
	s := openStore(t, b, nil)
	must[User](t)(s.CreateUser(ctx, "alice", []string{PolicyReadWrite}))
	must[PolicyInfo](t)(s.CreatePolicy(ctx, "deny-delete", []byte(docDenyDelete)))
	must[User](t)(s.AttachUserPolicy(ctx, "alice", "deny-delete"))
	k, _, _ := s.CreateAccessKey(ctx, CreateAccessKeyOptions{User: "alice"})
	authz := NewAuthorizer(s, nil, nil)
	req := Request{Action: "s3:GetObject", Bucket: bkt, Key: "x", AccessKey: k.AccessKey}
	if err := authz.Authorize(ctx, req); err != nil {
		t.Fatalf("before corruption: %v", err)
	}
	// The Deny policy's document is damaged on disk: alice must not gain
	// anything (she loses everything instead).
	b.docs[policyPath("deny-delete")] = bytes.Replace(b.docs[policyPath("deny-delete")], []byte("Deny"), []byte("Dent"), 1)
	s2 := openStore(t, b, nil)
	if err := NewAuthorizer(s2, nil, nil).Authorize(ctx, req); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("with an unreadable attached policy: %v, want access denied", err)
	}
}

func TestStoreDeleteUserLeavesGroups(t *testing.T) {
	ctx := context.Background()
	b := newMemBackend()
	s := openStore(t, b, nil)
	must[User](t)(s.CreateUser(ctx, "alice", nil))
	must[User](t)(s.CreateUser(ctx, "bob", nil))
	must[Group](t)(s.CreateGroup(ctx, "g", []string{"alice", "bob"}, nil))
	if u := must[User](t)(s.SetUserEnabled(ctx, "alice", false)); len(u.Groups) != 1 {
		t.Errorf("SetUserEnabled reports groups %v, want [g]", u.Groups)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, openStore(t, b, nil)} {
		if g := must[Group](t)(st.Group("g")); len(g.Members) != 1 || g.Members[0] != "bob" {
			t.Errorf("members after deleting alice: %v, want [bob]", g.Members)
		}
	}
}
