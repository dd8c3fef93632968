package iam

import (
	"errors"
	"fmt"
)

// Errors of this package, matched with errors.Is. Each is wrapped with detail that
// names the entity ("iam: no such user: \"alice\""); the detail never holds a
// secret, so the whole message is safe to show to an API client.
var (
	// ErrAccessDenied: the request is not allowed (explicit deny or no allow).
	ErrAccessDenied = errors.New("iam: access denied")
	// ErrMalformedPolicy: a policy document is not valid; wrapped by *PolicyError.
	ErrMalformedPolicy = errors.New("iam: malformed policy")
	// ErrInvalidArgument: a name, status, expiry or secret is not acceptable.
	ErrInvalidArgument = errors.New("iam: invalid argument")
	// ErrNoSuchUser, ErrNoSuchGroup, ErrNoSuchPolicy, ErrNoSuchAccessKey: the
	// named entity does not exist.
	ErrNoSuchUser      = errors.New("iam: no such user")
	ErrNoSuchGroup     = errors.New("iam: no such group")
	ErrNoSuchPolicy    = errors.New("iam: no such policy")
	ErrNoSuchAccessKey = errors.New("iam: no such access key")
	// ErrNotAttached: detaching a policy that is not attached, or removing a
	// user from a group they are not a member of.
	ErrNotAttached = errors.New("iam: not attached")
	// ErrExists: an entity with that name (or access key id) already exists.
	ErrExists = errors.New("iam: already exists")
	// ErrDeleteConflict: the entity is still in use (a policy attached somewhere,
	// a group with members).
	ErrDeleteConflict = errors.New("iam: entity in use")
	// ErrBuiltinPolicy: built-in policies cannot be changed or deleted.
	ErrBuiltinPolicy = errors.New("iam: built-in policy")
)

// PolicyError describes what is wrong with a policy document and where. It
// wraps ErrMalformedPolicy.
type PolicyError struct {
	// Path locates the problem, e.g. "Statement[1].Action"; "" for the document.
	Path string
	// Reason says what is wrong.
	Reason string
}

func (e *PolicyError) Error() string {
	if e.Path == "" {
		return ErrMalformedPolicy.Error() + ": " + e.Reason
	}
	return ErrMalformedPolicy.Error() + ": " + e.Path + ": " + e.Reason
}

func (e *PolicyError) Unwrap() error { return ErrMalformedPolicy }

func policyErr(path, format string, args ...any) error {
	return &PolicyError{Path: path, Reason: fmt.Sprintf(format, args...)}
}
