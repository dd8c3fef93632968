package iam

import "fmt"

// Name rules. User, group and policy names follow AWS IAM: letters, digits and
// "+=,.@_-". Access key ids are letters and digits (and "._-" inside). All are
// also file names of the configuration documents, so "." and ".." are refused.
const (
	maxUserName   = 64
	maxGroupName  = 128
	maxPolicyName = 128
	minAccessKey  = 3
	maxAccessKey  = 128
	minSecretKey  = 8
	maxSecretKey  = 128
)

func validName(kind, name string, max int) error {
	if name == "" {
		return fmt.Errorf("%w: the %s name is empty", ErrInvalidArgument, kind)
	}
	if len(name) > max {
		return fmt.Errorf("%w: the %s name is longer than %d characters", ErrInvalidArgument, kind, max)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%w: %q is not a valid %s name", ErrInvalidArgument, name, kind)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '_' || c == '-') {
			return fmt.Errorf("%w: the %s name %q may hold only letters, digits and +=,.@_-", ErrInvalidArgument, kind, name)
		}
	}
	return nil
}

func validAccessKey(ak string) error {
	if len(ak) < minAccessKey || len(ak) > maxAccessKey {
		return fmt.Errorf("%w: an access key id has %d to %d characters", ErrInvalidArgument, minAccessKey, maxAccessKey)
	}
	for i := 0; i < len(ak); i++ {
		c := ak[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !(c == '.' || c == '_' || c == '-')) {
			return fmt.Errorf("%w: an access key id holds letters and digits (and '.', '_', '-' after the first character)", ErrInvalidArgument)
		}
	}
	return nil
}

// validSecretKey checks a caller-chosen secret key. The message never repeats it.
func validSecretKey(sk string) error {
	if len(sk) < minSecretKey || len(sk) > maxSecretKey {
		return fmt.Errorf("%w: a secret key has %d to %d characters", ErrInvalidArgument, minSecretKey, maxSecretKey)
	}
	for i := 0; i < len(sk); i++ {
		if sk[i] <= ' ' || sk[i] >= 0x7f {
			return fmt.Errorf("%w: a secret key holds printable ASCII characters without spaces", ErrInvalidArgument)
		}
	}
	return nil
}
