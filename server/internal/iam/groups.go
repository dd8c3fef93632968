package iam

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Group is a group as the store reports it.
type Group struct {
	Name     string
	Members  []string // sorted
	Policies []string // sorted
	Created  time.Time
	Updated  time.Time
}

func groupView(d *groupDoc) Group {
	return Group{Name: d.Name, Members: slices.Clone(d.Members), Policies: slices.Clone(d.Policies),
		Created: d.Created, Updated: d.Updated}
}

// Groups lists all groups, sorted by name.
func (s *Store) Groups() []Group {
	st := s.state()
	out := make([]Group, 0, len(st.groups))
	for _, n := range sortedKeys(st.groups) {
		out = append(out, groupView(st.groups[n]))
	}
	return out
}

// Group returns one group.
func (s *Store) Group(name string) (Group, error) {
	d, ok := s.state().groups[name]
	if !ok {
		return Group{}, fmt.Errorf("%w: %q", ErrNoSuchGroup, name)
	}
	return groupView(d), nil
}

// CreateGroup creates a group with members and policies, which must exist.
func (s *Store) CreateGroup(ctx context.Context, name string, members, policies []string) (Group, error) {
	if err := validName("group", name, maxGroupName); err != nil {
		return Group{}, err
	}
	var out Group
	err := s.update(ctx, func(st *state) ([]change, error) {
		if _, ok := st.groups[name]; ok {
			return nil, fmt.Errorf("%w: the group %q", ErrExists, name)
		}
		ms := slices.Clone(members)
		slices.Sort(ms)
		ms = slices.Compact(ms)
		for _, m := range ms {
			if _, ok := st.users[m]; !ok {
				return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, m)
			}
		}
		if len(ms) == 0 {
			ms = nil
		}
		ps, err := st.checkPolicies(policies)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC()
		d := &groupDoc{Version: docVersion, Name: name, Members: ms, Policies: ps, Created: now, Updated: now}
		st.groups[name] = d
		out = groupView(d)
		return []change{put(groupPath(name), d)}, nil
	})
	if err == nil {
		s.log.Info("iam: group created", "group", name)
	}
	return out, err
}

// DeleteGroup deletes a group without members (ErrDeleteConflict otherwise).
// Its policy attachments go with it.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	err := s.update(ctx, func(st *state) ([]change, error) {
		d, ok := st.groups[name]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchGroup, name)
		}
		if len(d.Members) > 0 {
			return nil, fmt.Errorf("%w: the group %q has %d member(s); remove them first", ErrDeleteConflict, name, len(d.Members))
		}
		delete(st.groups, name)
		return []change{del(groupPath(name))}, nil
	})
	if err == nil {
		s.log.Info("iam: group deleted", "group", name)
	}
	return err
}

// AddGroupMember adds a user to a group (a no-op if already a member).
func (s *Store) AddGroupMember(ctx context.Context, group, user string) (Group, error) {
	return s.editGroup(ctx, group, func(st *state, d *groupDoc) (bool, error) {
		if _, ok := st.users[user]; !ok {
			return false, fmt.Errorf("%w: %q", ErrNoSuchUser, user)
		}
		if slices.Contains(d.Members, user) {
			return false, nil
		}
		d.Members = append(slices.Clone(d.Members), user)
		slices.Sort(d.Members)
		return true, nil
	})
}

// RemoveGroupMember removes a user from a group (ErrNotAttached if not a member).
func (s *Store) RemoveGroupMember(ctx context.Context, group, user string) (Group, error) {
	return s.editGroup(ctx, group, func(st *state, d *groupDoc) (bool, error) {
		if !slices.Contains(d.Members, user) {
			return false, fmt.Errorf("%w: %q is not a member of the group %q", ErrNotAttached, user, group)
		}
		d.Members = slices.DeleteFunc(slices.Clone(d.Members), func(m string) bool { return m == user })
		if len(d.Members) == 0 {
			d.Members = nil
		}
		return true, nil
	})
}

// AttachGroupPolicy attaches a policy to a group (a no-op if attached).
func (s *Store) AttachGroupPolicy(ctx context.Context, group, policy string) (Group, error) {
	return s.editGroup(ctx, group, func(st *state, d *groupDoc) (bool, error) {
		ps, changed, err := st.editPolicyList(d.Policies, policy, true, "group "+group)
		d.Policies = ps
		return changed, err
	})
}

// DetachGroupPolicy detaches a policy from a group (ErrNotAttached if it is not).
func (s *Store) DetachGroupPolicy(ctx context.Context, group, policy string) (Group, error) {
	return s.editGroup(ctx, group, func(st *state, d *groupDoc) (bool, error) {
		ps, changed, err := st.editPolicyList(d.Policies, policy, false, "group "+group)
		d.Policies = ps
		return changed, err
	})
}

// editGroup applies edit to a copy of the group's document and stores it if edit
// reports a change.
func (s *Store) editGroup(ctx context.Context, group string, edit func(st *state, d *groupDoc) (bool, error)) (Group, error) {
	var out Group
	err := s.update(ctx, func(st *state) ([]change, error) {
		old, ok := st.groups[group]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchGroup, group)
		}
		d := *old
		changed, err := edit(st, &d)
		if err != nil {
			return nil, err
		}
		if !changed {
			out = groupView(old)
			return nil, nil
		}
		d.Updated = s.now().UTC()
		st.groups[group] = &d
		out = groupView(&d)
		return []change{put(groupPath(group), &d)}, nil
	})
	if err == nil {
		s.log.Info("iam: group changed", "group", group)
	}
	return out, err
}
