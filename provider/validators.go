package provider

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// bucketNameProblem explains why name is not a valid bucket name under the S3
// general-purpose bucket rules, or returns "".
func bucketNameProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Sprintf("must be 3 to 63 characters long (it is %d)", len(name))
	case !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]):
		return "must begin and end with a lower-case letter or a digit"
	case strings.Contains(name, ".."):
		return "must not contain two adjacent periods"
	case net.ParseIP(name) != nil:
		return "must not be formatted as an IP address"
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-"):
		return "must not begin with xn-- or sthree-"
	case strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3"):
		return "must not end with -s3alias or --ol-s3"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLowerAlnum(c) && c != '-' && c != '.' {
			return fmt.Sprintf("may contain only lower-case letters, digits, hyphens and periods (found %q at position %d)", c, i+1)
		}
	}
	return ""
}

// bucketPrefixProblem is bucketNameProblem for a prefix that gets a generated
// suffix of bucketSuffixLen characters appended.
func bucketPrefixProblem(prefix string) string {
	if prefix == "" {
		return "must not be empty"
	}
	if len(prefix) > 63-bucketSuffixLen {
		return fmt.Sprintf("must be at most %d characters long (a %d-character unique suffix is appended)", 63-bucketSuffixLen, bucketSuffixLen)
	}
	// The suffix is lower-case alphanumeric, so check the prefix with one appended.
	if p := bucketNameProblem(prefix + strings.Repeat("0", bucketSuffixLen)); p != "" {
		return p
	}
	return ""
}

func isLowerAlnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

// stringCheck is a validator.String built from a function that explains a problem.
type stringCheck struct {
	desc  string
	check func(string) string
}

var _ validator.String = stringCheck{}

func (v stringCheck) Description(context.Context) string         { return v.desc }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.desc }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if p := v.check(req.ConfigValue.ValueString()); p != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.desc, fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), p))
	}
}

func validBucketName() validator.String {
	return stringCheck{desc: "bucket name", check: bucketNameProblem}
}

func validBucketPrefix() validator.String {
	return stringCheck{desc: "bucket prefix", check: bucketPrefixProblem}
}

// IAM name limits, as the server enforces them (server/internal/iam/names.go).
const (
	maxUserName   = 64
	maxGroupName  = 128
	maxPolicyName = 128
)

// iamNameProblem explains why name is not a valid user, group or policy name of at
// most max characters (letters, digits and +=,.@_-, as in AWS IAM), or returns "".
func iamNameProblem(max int) func(string) string {
	return func(name string) string {
		switch {
		case name == "":
			return "must not be empty"
		case len(name) > max:
			return fmt.Sprintf("must be at most %d characters long (it is %d)", max, len(name))
		case name == "." || name == "..":
			return "is not a valid name"
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; !isIAMNameChar(c) {
				return fmt.Sprintf("may contain only letters, digits and +=,.@_- (found %q at position %d)", c, i+1)
			}
		}
		return ""
	}
}

func isIAMNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0
}

func validUserName() validator.String {
	return stringCheck{desc: "user name", check: iamNameProblem(maxUserName)}
}

func validGroupName() validator.String {
	return stringCheck{desc: "group name", check: iamNameProblem(maxGroupName)}
}

func validPolicyName() validator.String {
	return stringCheck{desc: "policy name", check: iamNameProblem(maxPolicyName)}
}

// accessKeyIDProblem explains why id is not a valid access key id (3–128 letters
// and digits, with '.', '_' and '-' allowed after the first), or returns "".
func accessKeyIDProblem(id string) string {
	if len(id) < 3 || len(id) > 128 {
		return fmt.Sprintf("must be 3 to 128 characters long (it is %d)", len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || strings.IndexByte("._-", c) < 0) {
			return fmt.Sprintf("may contain only letters and digits, and '.', '_' or '-' after the first character (found %q at position %d)", c, i+1)
		}
	}
	return ""
}

// secretKeyProblem explains why a caller-chosen secret key would be refused by
// the server (8–128 printable ASCII characters, no spaces), or returns "". It
// never repeats the secret.
func secretKeyProblem(sk string) string {
	if len(sk) < 8 || len(sk) > 128 {
		return fmt.Sprintf("must be 8 to 128 characters long (it is %d)", len(sk))
	}
	for i := 0; i < len(sk); i++ {
		if sk[i] <= ' ' || sk[i] >= 0x7f {
			return fmt.Sprintf("may contain only printable ASCII characters without spaces (position %d is not)", i+1)
		}
	}
	return ""
}

// secretCheck is a validator.String for secret values: its messages never quote
// the value (stringCheck's do).
type secretCheck struct {
	desc  string
	check func(string) string
}

var _ validator.String = secretCheck{}

func (v secretCheck) Description(context.Context) string         { return v.desc }
func (v secretCheck) MarkdownDescription(context.Context) string { return v.desc }

func (v secretCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if p := v.check(req.ConfigValue.ValueString()); p != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.desc, "The value "+p+".")
	}
}

// rfc3339Problem explains why s is not an RFC 3339 timestamp, or returns "".
func rfc3339Problem(s string) string {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return "is not an RFC 3339 timestamp such as 2030-01-31T00:00:00Z"
	}
	return ""
}

// kmsKeyIDProblem explains why id is not a usable KMS key name or id (1–256
// letters, digits and - _ . / :, which fits built-in key names, AWS ARNs and
// aliases, GCP resource names and Vault paths), or returns "".
func kmsKeyIDProblem(id string) string {
	if id == "" || len(id) > 256 {
		return fmt.Sprintf("must be 1 to 256 characters long (it is %d)", len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./:", c) >= 0) {
			return fmt.Sprintf("may contain only letters, digits and - _ . / : (found %q at position %d)", c, i+1)
		}
	}
	return ""
}

func validKMSKeyID() validator.String {
	return stringCheck{desc: "KMS key id", check: kmsKeyIDProblem}
}

// tierNameProblem explains why name is not a storage class a lifecycle
// transition can name (a remote tier's name: 1–64 upper-case letters, digits,
// '-' and '_', starting with a letter, as server/internal/tier enforces it), or
// returns "".
func tierNameProblem(name string) string {
	if name == "" || len(name) > 64 {
		return fmt.Sprintf("must be 1 to 64 characters long (it is %d)", len(name))
	}
	if name[0] < 'A' || name[0] > 'Z' {
		return "must start with an upper-case letter"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("may contain only upper-case letters, digits, '-' and '_' (found %q at position %d)", c, i+1)
		}
	}
	return ""
}

func validTierName() validator.String {
	return stringCheck{desc: "tier name", check: tierNameProblem}
}
