package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PolicyInfo is a managed or built-in policy as the store reports it.
type PolicyInfo struct {
	Name     string
	Builtin  bool
	Document string    // as written by its author
	Created  time.Time // zero for built-in policies
	Updated  time.Time
	// Users and Groups the policy is attached to, sorted.
	Users  []string
	Groups []string
}

func (st *state) policyView(r *policyRec) PolicyInfo {
	p := PolicyInfo{Name: r.doc.Name, Builtin: r.builtin, Document: r.doc.Document,
		Created: r.doc.Created, Updated: r.doc.Updated}
	for _, n := range sortedKeys(st.users) {
		if slices.Contains(st.users[n].Policies, r.doc.Name) {
			p.Users = append(p.Users, n)
		}
	}
	for _, n := range sortedKeys(st.groups) {
		if slices.Contains(st.groups[n].Policies, r.doc.Name) {
			p.Groups = append(p.Groups, n)
		}
	}
	return p
}

// Policies lists built-in and managed policies, sorted by name.
func (s *Store) Policies() []PolicyInfo {
	st := s.state()
	out := make([]PolicyInfo, 0, len(st.policies))
	for _, n := range sortedKeys(st.policies) {
		out = append(out, st.policyView(st.policies[n]))
	}
	return out
}

// Policy returns one policy.
func (s *Store) Policy(name string) (PolicyInfo, error) {
	st := s.state()
	r, ok := st.policies[name]
	if !ok {
		return PolicyInfo{}, fmt.Errorf("%w: %q", ErrNoSuchPolicy, name)
	}
	return st.policyView(r), nil
}

// CreatePolicy stores a new managed policy. The document must parse as an
// identity policy (ParsePolicy); it is stored as written.
func (s *Store) CreatePolicy(ctx context.Context, name string, document []byte) (PolicyInfo, error) {
	return s.putPolicy(ctx, name, document, true)
}

// UpdatePolicy replaces the document of a managed policy; users and groups it is
// attached to get the new permissions at once.
func (s *Store) UpdatePolicy(ctx context.Context, name string, document []byte) (PolicyInfo, error) {
	return s.putPolicy(ctx, name, document, false)
}

func (s *Store) putPolicy(ctx context.Context, name string, document []byte, create bool) (PolicyInfo, error) {
	if err := validName("policy", name, maxPolicyName); err != nil {
		return PolicyInfo{}, err
	}
	parsed, err := ParsePolicy(document)
	if err != nil {
		return PolicyInfo{}, err
	}
	doc := strings.TrimSpace(string(document))
	var out PolicyInfo
	err = s.update(ctx, func(st *state) ([]change, error) {
		old, exists := st.policies[name]
		switch {
		case exists && old.builtin:
			return nil, fmt.Errorf("%w: %q cannot be changed", ErrBuiltinPolicy, name)
		case exists && create:
			return nil, fmt.Errorf("%w: the policy %q", ErrExists, name)
		case !exists && !create:
			return nil, fmt.Errorf("%w: %q", ErrNoSuchPolicy, name)
		}
		now := s.now().UTC()
		d := policyDoc{Version: docVersion, Name: name, Document: doc, Created: now, Updated: now}
		if exists {
			d.Created = old.doc.Created
		}
		r := &policyRec{doc: d, parsed: parsed}
		st.policies[name] = r
		out = st.policyView(r)
		return []change{put(policyPath(name), &d)}, nil
	})
	if err == nil {
		s.log.Info("iam: policy stored", "policy", name, "created", create)
	}
	return out, err
}

// DeletePolicy deletes a managed policy that is attached to no user or group.
func (s *Store) DeletePolicy(ctx context.Context, name string) error {
	err := s.update(ctx, func(st *state) ([]change, error) {
		r, ok := st.policies[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchPolicy, name)
		}
		if r.builtin {
			return nil, fmt.Errorf("%w: %q cannot be deleted", ErrBuiltinPolicy, name)
		}
		v := st.policyView(r)
		if n := len(v.Users) + len(v.Groups); n > 0 {
			var who []string
			for _, u := range v.Users {
				who = append(who, "user "+u)
			}
			for _, g := range v.Groups {
				who = append(who, "group "+g)
			}
			if len(who) > 5 {
				who = append(who[:5], "…")
			}
			return nil, fmt.Errorf("%w: the policy %q is attached to %s; detach it first", ErrDeleteConflict, name, strings.Join(who, ", "))
		}
		delete(st.policies, name)
		return []change{del(policyPath(name))}, nil
	})
	if err == nil {
		s.log.Info("iam: policy deleted", "policy", name)
	}
	return err
}
