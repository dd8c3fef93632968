package iam

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"
)

// AccessKey is an access key as the store reports it: never with its secret.
type AccessKey struct {
	AccessKey   string
	User        string // parent user
	Name        string
	Description string
	Enabled     bool
	Expiration  time.Time // zero: never expires
	Expired     bool      // Expiration has passed
	Policy      string    // inline policy ("" = the user's permissions, unrestricted)
	Created     time.Time
	Updated     time.Time
	// Usable is false when the secret could not be unsealed (see seal.go).
	Usable bool
}

func keyView(r *keyRec, now time.Time) AccessKey {
	k := AccessKey{AccessKey: r.doc.AccessKey, User: r.doc.User, Name: r.doc.Name,
		Description: r.doc.Description, Enabled: !r.doc.Disabled, Policy: r.doc.Policy,
		Created: r.doc.Created, Updated: r.doc.Updated, Usable: r.secret != ""}
	if r.doc.Expiration != nil {
		k.Expiration = *r.doc.Expiration
		k.Expired = !now.Before(k.Expiration)
	}
	return k
}

// CreateAccessKeyOptions describe a new access key.
type CreateAccessKeyOptions struct {
	User        string // parent user, required
	Name        string
	Description string
	// Policy is an optional inline policy; the key can then do only what both
	// the user's policies and this policy allow.
	Policy []byte
	// Expiration, if not zero, must be in the future.
	Expiration time.Time
	// AccessKey and SecretKey, if set, are used instead of generated ones.
	AccessKey, SecretKey string
}

// UpdateAccessKeyOptions change an access key; nil fields stay as they are.
type UpdateAccessKeyOptions struct {
	Name        *string
	Description *string
	Enabled     *bool
	// Policy replaces the inline policy; a pointer to an empty slice removes it.
	Policy *[]byte
	// Expiration replaces the expiry; a pointer to the zero time removes it.
	Expiration *time.Time
}

const (
	maxKeyName        = 64
	maxKeyDescription = 256
)

// AccessKeys lists the access keys of user, or of every user when user is "".
func (s *Store) AccessKeys(user string) ([]AccessKey, error) {
	st := s.state()
	if user != "" {
		if _, ok := st.users[user]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, user)
		}
	}
	var out []AccessKey
	for _, ak := range sortedKeys(st.keys) {
		if r := st.keys[ak]; user == "" || r.doc.User == user {
			out = append(out, keyView(r, s.now()))
		}
	}
	return out, nil
}

// AccessKey returns one access key.
func (s *Store) AccessKey(accessKey string) (AccessKey, error) {
	r, ok := s.state().keys[accessKey]
	if !ok {
		return AccessKey{}, fmt.Errorf("%w: %q", ErrNoSuchAccessKey, accessKey)
	}
	return keyView(r, s.now()), nil
}

// CreateAccessKey creates an access key and returns it with its secret key. This
// is the only time the secret is returned.
func (s *Store) CreateAccessKey(ctx context.Context, o CreateAccessKeyOptions) (AccessKey, string, error) {
	ak, sk := o.AccessKey, o.SecretKey
	if ak == "" {
		ak = "CK" + rand.Text()[:18]
	} else if err := validAccessKey(ak); err != nil {
		return AccessKey{}, "", err
	}
	if sk == "" {
		sk = (rand.Text() + rand.Text())[:40]
	} else if err := validSecretKey(sk); err != nil {
		return AccessKey{}, "", err
	}
	if s.isRoot(ak) {
		return AccessKey{}, "", fmt.Errorf("%w: the access key %q", ErrExists, ak)
	}
	if err := checkKeyText(o.Name, o.Description); err != nil {
		return AccessKey{}, "", err
	}
	var inline *Policy
	if len(o.Policy) > 0 {
		p, err := ParsePolicy(o.Policy)
		if err != nil {
			return AccessKey{}, "", err
		}
		inline = p
	}
	now := s.now()
	if !o.Expiration.IsZero() && !o.Expiration.After(now) {
		return AccessKey{}, "", fmt.Errorf("%w: the expiration %s is not in the future", ErrInvalidArgument, o.Expiration.UTC().Format(time.RFC3339))
	}
	var out AccessKey
	err := s.update(ctx, func(st *state) ([]change, error) {
		if _, ok := st.users[o.User]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, o.User)
		}
		if _, ok := st.keys[ak]; ok {
			return nil, fmt.Errorf("%w: the access key %q", ErrExists, ak)
		}
		var cs []change
		if st.format == nil {
			f, err := newSealFormat(s.cfg.KDFIterations)
			if err != nil {
				return nil, err
			}
			st.format = &f
			s.seal = nil
			cs = append(cs, put(formatDoc, &f))
		}
		if s.seal == nil {
			sl, err := newSealer(s.cfg.RootSecretKey, *st.format)
			if err != nil {
				return nil, err
			}
			s.seal = sl
		}
		sealed, err := s.seal.seal(ak, sk)
		if err != nil {
			return nil, err
		}
		d := keyDoc{Version: docVersion, AccessKey: ak, User: o.User, Name: o.Name, Description: o.Description,
			Policy: strings.TrimSpace(string(o.Policy)), Sealed: sealed, SealedBy: s.seal.id,
			Created: now.UTC(), Updated: now.UTC()}
		if !o.Expiration.IsZero() {
			e := o.Expiration.UTC()
			d.Expiration = &e
		}
		r := &keyRec{doc: d, secret: sk, inline: inline}
		st.keys[ak] = r
		out = keyView(r, now)
		return append(cs, put(keyPath(ak), &d)), nil
	})
	if err != nil {
		return AccessKey{}, "", err
	}
	s.log.Info("iam: access key created", "access_key", ak, "user", o.User, "inline_policy", inline != nil, "expires", out.Expiration)
	return out, sk, nil
}

func checkKeyText(name, desc string) error {
	if len(name) > maxKeyName {
		return fmt.Errorf("%w: an access key name has at most %d characters", ErrInvalidArgument, maxKeyName)
	}
	if len(desc) > maxKeyDescription {
		return fmt.Errorf("%w: an access key description has at most %d characters", ErrInvalidArgument, maxKeyDescription)
	}
	for _, c := range name + desc {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: an access key name or description must not contain control characters", ErrInvalidArgument)
		}
	}
	return nil
}

// UpdateAccessKey changes an access key's name, description, status, inline
// policy or expiry.
func (s *Store) UpdateAccessKey(ctx context.Context, accessKey string, o UpdateAccessKeyOptions) (AccessKey, error) {
	var name, desc string
	if o.Name != nil {
		name = *o.Name
	}
	if o.Description != nil {
		desc = *o.Description
	}
	if err := checkKeyText(name, desc); err != nil {
		return AccessKey{}, err
	}
	var inline *Policy
	if o.Policy != nil && len(*o.Policy) > 0 {
		p, err := ParsePolicy(*o.Policy)
		if err != nil {
			return AccessKey{}, err
		}
		inline = p
	}
	now := s.now()
	if o.Expiration != nil && !o.Expiration.IsZero() && !o.Expiration.After(now) {
		return AccessKey{}, fmt.Errorf("%w: the expiration %s is not in the future", ErrInvalidArgument, o.Expiration.UTC().Format(time.RFC3339))
	}
	var out AccessKey
	err := s.update(ctx, func(st *state) ([]change, error) {
		old, ok := st.keys[accessKey]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchAccessKey, accessKey)
		}
		r := *old
		if o.Name != nil {
			r.doc.Name = name
		}
		if o.Description != nil {
			r.doc.Description = desc
		}
		if o.Enabled != nil {
			r.doc.Disabled = !*o.Enabled
		}
		if o.Policy != nil {
			r.doc.Policy = strings.TrimSpace(string(*o.Policy))
			r.inline, r.broken = inline, false
		}
		if o.Expiration != nil {
			if o.Expiration.IsZero() {
				r.doc.Expiration = nil
			} else {
				e := o.Expiration.UTC()
				r.doc.Expiration = &e
			}
		}
		r.doc.Updated = now.UTC()
		st.keys[accessKey] = &r
		out = keyView(&r, now)
		return []change{put(keyPath(accessKey), &r.doc)}, nil
	})
	if err == nil {
		s.log.Info("iam: access key updated", "access_key", accessKey)
	}
	return out, err
}

// DeleteAccessKey deletes an access key.
func (s *Store) DeleteAccessKey(ctx context.Context, accessKey string) error {
	err := s.update(ctx, func(st *state) ([]change, error) {
		if _, ok := st.keys[accessKey]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchAccessKey, accessKey)
		}
		delete(st.keys, accessKey)
		return []change{del(keyPath(accessKey))}, nil
	})
	if err == nil {
		s.log.Info("iam: access key deleted", "access_key", accessKey)
	}
	return err
}
