package iam

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-io/cairn/server/internal/objects"
)

// The IAM store: users, groups, managed policies and access keys.
//
// Every entity is one configuration document of the object layer (so it is on
// every drive, written with a write quorum and read with a read quorum):
//
//	iam/format.json             key-derivation parameters for sealed secrets (seal.go)
//	iam/users/<name>.json       a user: enabled or not, attached policies
//	iam/groups/<name>.json      a group: members, attached policies
//	iam/policies/<name>.json    a managed policy: its document as written
//	iam/keys/<access key>.json  an access key: parent user, sealed secret, optional
//	                            inline policy, expiry, enabled or not
//
// Group membership is recorded in the group only. Built-in policies are not
// stored. The root user is not a user: its credentials come from the server's
// configuration and it bypasses every policy.
//
// The store keeps the whole state in memory as an immutable snapshot: request
// authorization reads the current snapshot without locks; a change builds the
// next snapshot, writes the documents it touches and only then publishes it. A
// failed write leaves the published state unchanged (documents written before the
// failure are picked up by the next Reload). Changes are serialized by one mutex.

// Backend stores configuration documents. *objects.Layer implements it; ReadConfig
// returns an error wrapping objects.ErrConfigNotFound for a missing document.
type Backend interface {
	ReadConfig(ctx context.Context, name string) ([]byte, error)
	WriteConfig(ctx context.Context, name string, data []byte) error
	DeleteConfig(ctx context.Context, name string) error
	ListConfig(ctx context.Context, dir string) ([]string, error)
}

var _ Backend = (*objects.Layer)(nil)

// Config configures a Store.
type Config struct {
	// Backend persists the documents. Required.
	Backend Backend
	// RootAccessKey and RootSecretKey are the root credentials. RootSecretKey
	// also seals the stored secret keys (see seal.go). Required.
	RootAccessKey, RootSecretKey string
	// Now is the clock (default time.Now); access key expiry uses it.
	Now func() time.Time
	// Logger receives load problems and changes (never a secret). Default: discard.
	Logger *slog.Logger
	// KDFIterations is the PBKDF2 cost recorded when the deployment's first access
	// key is created (0 = DefaultKDFIterations). Tests lower it.
	KDFIterations int
}

// Store is the IAM store. It is safe for concurrent use. It implements
// sigv4.Credentials (SecretKey).
type Store struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu  sync.Mutex // serializes changes and Reload
	cur atomic.Pointer[state]
	// seal is derived lazily (PBKDF2 is slow) under mu.
	seal *sealer
}

// state is one immutable snapshot of the store. Maps and the records in them are
// never modified once published; changes copy them.
type state struct {
	users      map[string]*userDoc
	groups     map[string]*groupDoc
	policies   map[string]*policyRec
	keys       map[string]*keyRec
	userGroups map[string][]string // derived: user → groups, sorted
	format     *sealFormat         // nil until the first access key
}

type userDoc struct {
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	Disabled bool      `json:"disabled,omitempty"`
	Policies []string  `json:"policies,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

type groupDoc struct {
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	Members  []string  `json:"members,omitempty"`
	Policies []string  `json:"policies,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

type policyDoc struct {
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	Document string    `json:"document"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

type policyRec struct {
	doc     policyDoc
	builtin bool
	parsed  *Policy // nil if the stored document no longer parses
}

type keyDoc struct {
	Version     int        `json:"version"`
	AccessKey   string     `json:"accessKey"`
	User        string     `json:"user"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Disabled    bool       `json:"disabled,omitempty"`
	Expiration  *time.Time `json:"expiration,omitempty"`
	Policy      string     `json:"policy,omitempty"`
	Sealed      string     `json:"sealedSecret"`
	SealedBy    string     `json:"sealedBy"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
}

type keyRec struct {
	doc    keyDoc
	secret string  // plaintext; "" when it could not be unsealed
	inline *Policy // parsed doc.Policy
	broken bool    // doc.Policy no longer parses: the key may do nothing
}

const docVersion = 1

// Document names.
const (
	formatDoc   = "iam/format.json"
	usersDir    = "iam/users"
	groupsDir   = "iam/groups"
	policiesDir = "iam/policies"
	keysDir     = "iam/keys"
)

func userPath(name string) string   { return usersDir + "/" + name + ".json" }
func groupPath(name string) string  { return groupsDir + "/" + name + ".json" }
func policyPath(name string) string { return policiesDir + "/" + name + ".json" }
func keyPath(ak string) string      { return keysDir + "/" + ak + ".json" }

// Open loads the store from cfg.Backend.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Backend == nil {
		return nil, errors.New("iam: no backend")
	}
	if cfg.RootAccessKey == "" || cfg.RootSecretKey == "" {
		return nil, errors.New("iam: root credentials are required")
	}
	if cfg.KDFIterations <= 0 {
		cfg.KDFIterations = DefaultKDFIterations
	}
	s := &Store{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	st, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.cur.Store(st)
	s.log.Info("iam: loaded", "users", len(st.users), "groups", len(st.groups),
		"policies", len(st.policies), "access_keys", len(st.keys))
	return s, nil
}

// Reload reads every document again and replaces the in-memory state (another
// node changed it, or an earlier change failed half-way). A failed Reload keeps
// the current state. Documents that cannot
// be read or parsed are logged and skipped; a policy attached somewhere that
// cannot be loaded makes its users unable to do anything (fail closed).
func (s *Store) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.cur.Store(st)
	return nil
}

func (s *Store) load(ctx context.Context) (*state, error) {
	st := &state{
		users: map[string]*userDoc{}, groups: map[string]*groupDoc{},
		policies: map[string]*policyRec{}, keys: map[string]*keyRec{},
	}
	for name, doc := range BuiltinPolicies() {
		p, err := ParsePolicy([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("iam: built-in policy %s: %w", name, err)
		}
		st.policies[name] = &policyRec{doc: policyDoc{Name: name, Document: doc}, builtin: true, parsed: p}
	}
	b, err := s.cfg.Backend.ReadConfig(ctx, formatDoc)
	switch {
	case err == nil:
		var f sealFormat
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("iam: %s: %w", formatDoc, err)
		}
		st.format = &f
	case !errors.Is(err, objects.ErrConfigNotFound):
		return nil, fmt.Errorf("iam: reading %s: %w", formatDoc, err)
	}

	if err := loadDir(ctx, s, usersDir, func(name string, b []byte) error {
		var d userDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		if d.Name != name {
			return fmt.Errorf("the document names the user %q", d.Name)
		}
		st.users[name] = &d
		return nil
	}); err != nil {
		return nil, err
	}
	if err := loadDir(ctx, s, groupsDir, func(name string, b []byte) error {
		var d groupDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		if d.Name != name {
			return fmt.Errorf("the document names the group %q", d.Name)
		}
		st.groups[name] = &d
		return nil
	}); err != nil {
		return nil, err
	}
	if err := loadDir(ctx, s, policiesDir, func(name string, b []byte) error {
		var d policyDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		if d.Name != name {
			return fmt.Errorf("the document names the policy %q", d.Name)
		}
		if r, ok := st.policies[name]; ok && r.builtin {
			return fmt.Errorf("a stored policy may not shadow the built-in policy %q", name)
		}
		rec := &policyRec{doc: d}
		p, err := ParsePolicy([]byte(d.Document))
		if err != nil {
			// Keep it (so it is visible and can be fixed); users it is attached to get nothing.
			s.log.Error("iam: stored policy does not parse; users it is attached to are denied everything", "policy", name, "err", err.Error())
		}
		rec.parsed = p
		st.policies[name] = rec
		return nil
	}); err != nil {
		return nil, err
	}
	var keyDocs []keyDoc
	if err := loadDir(ctx, s, keysDir, func(name string, b []byte) error {
		var d keyDoc
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		if d.AccessKey != name {
			return fmt.Errorf("the document names the access key %q", d.AccessKey)
		}
		keyDocs = append(keyDocs, d)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(keyDocs) > 0 && st.format != nil && s.seal == nil {
		sl, err := newSealer(s.cfg.RootSecretKey, *st.format)
		if err != nil {
			return nil, err
		}
		s.seal = sl
	}
	unsealed := 0
	for _, d := range keyDocs {
		rec := &keyRec{doc: d}
		switch {
		case s.seal == nil:
			s.log.Error("iam: access key unusable: the secret-key format document is missing", "access_key", d.AccessKey)
		case d.SealedBy != s.seal.id:
			s.log.Error("iam: access key unusable: its secret was sealed with other root credentials; recreate it or restart with the previous root secret key", "access_key", d.AccessKey, "user", d.User)
		default:
			sec, err := s.seal.open(d.AccessKey, d.Sealed)
			if err != nil {
				s.log.Error("iam: access key unusable: its sealed secret does not open", "access_key", d.AccessKey, "user", d.User)
			} else {
				rec.secret = sec
				unsealed++
			}
		}
		if d.Policy != "" {
			p, err := ParsePolicy([]byte(d.Policy))
			if err != nil {
				s.log.Error("iam: access key's inline policy does not parse; the key is denied everything", "access_key", d.AccessKey, "err", err.Error())
				rec.broken = true
			}
			rec.inline = p
		}
		st.keys[d.AccessKey] = rec
	}
	st.index()
	if unsealed < len(keyDocs) {
		s.log.Warn("iam: some access keys cannot be used", "access_keys", len(keyDocs), "usable", unsealed)
	}
	return st, nil
}

// loadDir reads every document of dir and hands it to fn by entity name. A
// document that does not read or that fn refuses is logged and skipped.
func loadDir(ctx context.Context, s *Store, dir string, fn func(name string, b []byte) error) error {
	names, err := s.cfg.Backend.ListConfig(ctx, dir)
	if err != nil {
		return fmt.Errorf("iam: listing %s: %w", dir, err)
	}
	for _, file := range names {
		name, ok := strings.CutSuffix(file, ".json")
		if !ok {
			continue
		}
		b, err := s.cfg.Backend.ReadConfig(ctx, dir+"/"+file)
		if errors.Is(err, objects.ErrConfigNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("iam: reading %s/%s: %w", dir, file, err)
		}
		if err := fn(name, b); err != nil {
			s.log.Error("iam: skipping unreadable document", "document", dir+"/"+file, "err", err.Error())
		}
	}
	return nil
}

// clone returns a copy of st whose maps may be changed.
func (st *state) clone() *state {
	n := &state{
		users: make(map[string]*userDoc, len(st.users)), groups: make(map[string]*groupDoc, len(st.groups)),
		policies: make(map[string]*policyRec, len(st.policies)), keys: make(map[string]*keyRec, len(st.keys)),
		format: st.format,
		// Derived and read-only; update rebuilds it after the change.
		userGroups: st.userGroups,
	}
	for k, v := range st.users {
		n.users[k] = v
	}
	for k, v := range st.groups {
		n.groups[k] = v
	}
	for k, v := range st.policies {
		n.policies[k] = v
	}
	for k, v := range st.keys {
		n.keys[k] = v
	}
	return n
}

// index rebuilds the derived maps.
func (st *state) index() {
	st.userGroups = map[string][]string{}
	for g, d := range st.groups {
		for _, m := range d.Members {
			st.userGroups[m] = append(st.userGroups[m], g)
		}
	}
	for _, gs := range st.userGroups {
		slices.Sort(gs)
	}
}

// change is one document write (data != nil) or delete (data == nil).
type change struct {
	name string
	data []byte
}

func put(name string, v any) change {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("iam: encoding %s: %v", name, err)) // plain structs: cannot fail
	}
	return change{name: name, data: b}
}

func del(name string) change { return change{name: name} }

// update runs fn on a copy of the current state under the change lock, writes
// the documents it returns in order and publishes the new state if all succeed.
func (s *Store) update(ctx context.Context, fn func(st *state) ([]change, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.cur.Load().clone()
	changes, err := fn(next)
	if err != nil {
		return err
	}
	for _, c := range changes {
		var err error
		if c.data == nil {
			err = s.cfg.Backend.DeleteConfig(ctx, c.name)
		} else {
			err = s.cfg.Backend.WriteConfig(ctx, c.name, c.data)
		}
		if err != nil {
			return fmt.Errorf("iam: storing %s: %w", c.name, err)
		}
	}
	next.index()
	s.cur.Store(next)
	return nil
}

func (s *Store) state() *state { return s.cur.Load() }

// RefreshEvery calls Reload every interval until ctx is done: how a cluster node
// picks up the changes other nodes made (until nodes notify each other). Errors
// are logged; the last good state stays in force.
func (s *Store) RefreshEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("iam: refresh failed; keeping the current state", "err", err.Error())
			}
		}
	}
}

// isRoot reports whether accessKey is the root access key (constant time).
func (s *Store) isRoot(accessKey string) bool {
	return subtle.ConstantTimeCompare([]byte(accessKey), []byte(s.cfg.RootAccessKey)) == 1
}

// SecretKey returns the secret of an access key that may sign requests now: the
// root key, or an enabled, unexpired key of an enabled user. It implements
// sigv4.Credentials.
func (s *Store) SecretKey(accessKey string) (string, bool) {
	if s.isRoot(accessKey) {
		return s.cfg.RootSecretKey, true
	}
	st := s.state()
	k, ok := st.keys[accessKey]
	if !ok || !st.keyUsable(k, s.now()) {
		return "", false
	}
	return k.secret, true
}

// keyUsable reports whether k may be used at time now.
func (st *state) keyUsable(k *keyRec, now time.Time) bool {
	if k.doc.Disabled || k.secret == "" {
		return false
	}
	if k.doc.Expiration != nil && !now.Before(*k.doc.Expiration) {
		return false
	}
	u, ok := st.users[k.doc.User]
	return ok && !u.Disabled
}

// identity is a resolved requester.
type identity struct {
	root     bool
	user     string
	policies []*Policy
	session  *Policy
	broken   bool // something attached cannot be loaded: deny everything
}

// resolve finds the identity behind an access key; ok is false for keys that
// cannot be used now.
func (s *Store) resolve(accessKey string) (identity, bool) {
	if s.isRoot(accessKey) {
		return identity{root: true}, true
	}
	st := s.state()
	k, ok := st.keys[accessKey]
	if !ok || !st.keyUsable(k, s.now()) {
		return identity{}, false
	}
	id := identity{user: k.doc.User, session: k.inline, broken: k.broken}
	add := func(names []string) {
		for _, n := range names {
			p, ok := st.policies[n]
			if !ok || p.parsed == nil {
				id.broken = true
				continue
			}
			id.policies = append(id.policies, p.parsed)
		}
	}
	add(st.users[k.doc.User].Policies)
	for _, g := range st.userGroups[k.doc.User] {
		add(st.groups[g].Policies)
	}
	return id, true
}

// UserOf returns the user an access key belongs to ("" for root or an unknown key).
func (s *Store) UserOf(accessKey string) string {
	if k, ok := s.state().keys[accessKey]; ok {
		return k.doc.User
	}
	return ""
}

// IsRoot reports whether accessKey is the root access key.
func (s *Store) IsRoot(accessKey string) bool { return s.isRoot(accessKey) }

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
