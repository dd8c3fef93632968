package provider

import (
	"context"
	"fmt"
	"net"
	"strings"

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
