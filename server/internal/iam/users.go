package iam

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// User is a user as the store reports it.
type User struct {
	Name     string
	Enabled  bool
	Policies []string // attached directly, sorted
	Groups   []string // groups the user is a member of, sorted
	Created  time.Time
	Updated  time.Time
}

func (st *state) userView(d *userDoc) User {
	return User{
		Name: d.Name, Enabled: !d.Disabled,
		Policies: slices.Clone(d.Policies), Groups: slices.Clone(st.userGroups[d.Name]),
		Created: d.Created, Updated: d.Updated,
	}
}

// Users lists all users, sorted by name.
func (s *Store) Users() []User {
	st := s.state()
	out := make([]User, 0, len(st.users))
	for _, n := range sortedKeys(st.users) {
		out = append(out, st.userView(st.users[n]))
	}
	return out
}

// User returns one user.
func (s *Store) User(name string) (User, error) {
	st := s.state()
	d, ok := st.users[name]
	if !ok {
		return User{}, fmt.Errorf("%w: %q", ErrNoSuchUser, name)
	}
	return st.userView(d), nil
}

// CreateUser creates an enabled user with the given policies attached.
func (s *Store) CreateUser(ctx context.Context, name string, policies []string) (User, error) {
	if err := validName("user", name, maxUserName); err != nil {
		return User{}, err
	}
	if s.isRoot(name) {
		return User{}, fmt.Errorf("%w: %q is the root user's access key; choose another user name", ErrInvalidArgument, name)
	}
	var out User
	err := s.update(ctx, func(st *state) ([]change, error) {
		if _, ok := st.users[name]; ok {
			return nil, fmt.Errorf("%w: the user %q", ErrExists, name)
		}
		ps, err := st.checkPolicies(policies)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC()
		d := &userDoc{Version: docVersion, Name: name, Policies: ps, Created: now, Updated: now}
		st.users[name] = d
		out = st.userView(d)
		return []change{put(userPath(name), d)}, nil
	})
	if err == nil {
		s.log.Info("iam: user created", "user", name)
	}
	return out, err
}

// SetUserEnabled enables or disables a user. A disabled user's access keys
// cannot sign requests.
func (s *Store) SetUserEnabled(ctx context.Context, name string, enabled bool) (User, error) {
	var out User
	err := s.update(ctx, func(st *state) ([]change, error) {
		old, ok := st.users[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, name)
		}
		d := *old
		d.Disabled = !enabled
		d.Updated = s.now().UTC()
		st.users[name] = &d
		out = st.userView(&d)
		return []change{put(userPath(name), &d)}, nil
	})
	if err == nil {
		s.log.Info("iam: user status changed", "user", name, "enabled", enabled)
	}
	return out, err
}

// DeleteUser deletes a user, the user's access keys and the user's group
// memberships. The keys go first, so a failure half-way never leaves a key
// that works without its user.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	err := s.update(ctx, func(st *state) ([]change, error) {
		if _, ok := st.users[name]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, name)
		}
		var cs []change
		for _, ak := range sortedKeys(st.keys) {
			if st.keys[ak].doc.User == name {
				delete(st.keys, ak)
				cs = append(cs, del(keyPath(ak)))
			}
		}
		now := s.now().UTC()
		for _, g := range st.userGroups[name] {
			d := *st.groups[g]
			d.Members = slices.DeleteFunc(slices.Clone(d.Members), func(m string) bool { return m == name })
			d.Updated = now
			st.groups[g] = &d
			cs = append(cs, put(groupPath(g), &d))
		}
		delete(st.users, name)
		return append(cs, del(userPath(name))), nil
	})
	if err == nil {
		s.log.Info("iam: user deleted", "user", name)
	}
	return err
}

// AttachUserPolicy attaches a policy to a user (attaching it again is a no-op).
func (s *Store) AttachUserPolicy(ctx context.Context, user, policy string) (User, error) {
	return s.editUserPolicies(ctx, user, policy, true)
}

// DetachUserPolicy detaches a policy from a user (ErrNotAttached if it is not).
func (s *Store) DetachUserPolicy(ctx context.Context, user, policy string) (User, error) {
	return s.editUserPolicies(ctx, user, policy, false)
}

func (s *Store) editUserPolicies(ctx context.Context, user, policy string, attach bool) (User, error) {
	var out User
	err := s.update(ctx, func(st *state) ([]change, error) {
		old, ok := st.users[user]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, user)
		}
		ps, changed, err := st.editPolicyList(old.Policies, policy, attach, "user "+user)
		if err != nil {
			return nil, err
		}
		if !changed {
			out = st.userView(old)
			return nil, nil
		}
		d := *old
		d.Policies, d.Updated = ps, s.now().UTC()
		st.users[user] = &d
		out = st.userView(&d)
		return []change{put(userPath(user), &d)}, nil
	})
	if err == nil {
		s.log.Info("iam: user policies changed", "user", user, "policy", policy, "attached", attach)
	}
	return out, err
}

// checkPolicies validates a list of policy names to attach: they must exist;
// the result is sorted without duplicates.
func (st *state) checkPolicies(names []string) ([]string, error) {
	out := slices.Clone(names)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, n := range out {
		if _, ok := st.policies[n]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchPolicy, n)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// editPolicyList adds or removes policy from list (a new slice); changed is false
// for an attach of a policy already attached.
func (st *state) editPolicyList(list []string, policy string, attach bool, owner string) ([]string, bool, error) {
	has := slices.Contains(list, policy)
	if attach {
		if _, ok := st.policies[policy]; !ok {
			return nil, false, fmt.Errorf("%w: %q", ErrNoSuchPolicy, policy)
		}
		if has {
			return list, false, nil
		}
		out := append(slices.Clone(list), policy)
		slices.Sort(out)
		return out, true, nil
	}
	if !has {
		return nil, false, fmt.Errorf("%w: the policy %q is not attached to %s", ErrNotAttached, policy, owner)
	}
	out := slices.DeleteFunc(slices.Clone(list), func(p string) bool { return p == policy })
	if len(out) == 0 {
		out = nil
	}
	return out, true, nil
}
