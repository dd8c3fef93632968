package iam

import (
	"fmt"
	"strings"
)

// Condition keys and policy variables.
//
// A condition key names a value of the request context: aws:SourceIp, s3:prefix,
// … Names are case-insensitive; the context and parsed policies hold them
// lower-cased. Policy variables ("${aws:username}") in resources and condition
// values are replaced by the context value of that key when the policy is
// evaluated (policies of Version 2012-10-17 only, as in AWS); "${*}", "${?}" and
// "${$}" stand for the literal characters, and "${key, 'default'}" supplies a
// default for a key the request does not have.

// Condition keys Cairn fills in for every request (see Authorizer).
const (
	KeyCurrentTime     = "aws:currenttime"     // RFC 3339, UTC
	KeyEpochTime       = "aws:epochtime"       // seconds since 1970
	KeySourceIP        = "aws:sourceip"        // the client's IP address
	KeySecureTransport = "aws:securetransport" // "true" over TLS
	KeyUsername        = "aws:username"        // the user (an access key's parent user); absent for anonymous and root
	KeyUserID          = "aws:userid"          // same as aws:username; absent for anonymous
	KeyPrincipalType   = "aws:principaltype"   // "Anonymous", "User" or "Account" (root)
	KeyUserAgent       = "aws:useragent"
	KeyReferer         = "aws:referer"
	KeyPrefix          = "s3:prefix"    // listings: the prefix ("" when none)
	KeyDelimiter       = "s3:delimiter" // listings: the delimiter, when given
	KeyMaxKeys         = "s3:max-keys"  // listings: max-keys, when given
	KeyVersionID       = "s3:versionid"
	KeySignatureVer    = "s3:signatureversion"
	KeyAuthType        = "s3:authtype"
)

// knownKey reports whether a lower-cased condition key is one a policy may use.
// Keys Cairn does not fill in are accepted (so AWS policies parse) and are simply
// absent from every request.
func knownKey(k string) bool {
	switch k {
	case KeyCurrentTime, KeyEpochTime, KeySourceIP, KeySecureTransport, KeyUsername,
		KeyUserID, KeyPrincipalType, KeyUserAgent, KeyReferer,
		"aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:sourcevpc",
		"aws:sourcevpce", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
		"aws:requestedregion", "aws:multifactorauthpresent", "aws:multifactorauthage",
		"aws:tokenissuetime", "aws:tagkeys", "aws:viaawsservice", "aws:calledvia",
		"aws:principalisawsservice", "aws:principalservicename",
		KeyPrefix, KeyDelimiter, KeyMaxKeys, KeyVersionID, KeySignatureVer, KeyAuthType,
		"s3:x-amz-acl", "s3:x-amz-content-sha256", "s3:x-amz-copy-source",
		"s3:x-amz-metadata-directive", "s3:x-amz-server-side-encryption",
		"s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-storage-class",
		"s3:x-amz-grant-read", "s3:x-amz-grant-write", "s3:x-amz-grant-read-acp",
		"s3:x-amz-grant-write-acp", "s3:x-amz-grant-full-control",
		"s3:signatureage", "s3:tlsversion", "s3:locationconstraint", "s3:resourceaccount",
		"s3:requestobjecttagkeys", "s3:object-lock-mode", "s3:object-lock-retain-until-date",
		"s3:object-lock-remaining-retention-days", "s3:object-lock-legal-hold",
		"s3:accesspointnetworkorigin", "s3:dataaccesspointaccount", "s3:dataaccesspointarn":
		return true
	}
	for _, p := range []string{"aws:principaltag/", "aws:requesttag/", "aws:resourcetag/",
		"s3:existingobjecttag/", "s3:requestobjecttag/"} {
		if strings.HasPrefix(k, p) && len(k) > len(p) {
			return true
		}
	}
	return false
}

// validateVariables checks the "${…}" references in s (a resource or condition
// value of a 2012-10-17 policy).
func validateVariables(s string) error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return fmt.Errorf("unterminated policy variable in %q", s)
		}
		if _, err := parseVariable(s[i+2 : i+j]); err != nil {
			return err
		}
		s = s[i+j+1:]
	}
}

// variable is a parsed "${…}" reference.
type variable struct {
	literal    string // for ${*}, ${?}, ${$}
	key        string // lower-cased condition key
	def        string
	hasDefault bool
}

func parseVariable(body string) (variable, error) {
	switch body {
	case "*", "?", "$":
		return variable{literal: body}, nil
	}
	key, def, hasDef := strings.Cut(body, ",")
	key = strings.ToLower(strings.TrimSpace(key))
	v := variable{key: key}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return v, fmt.Errorf("policy variable ${%s}: a default value must be quoted like ${%s, 'value'}", body, key)
		}
		v.def, v.hasDefault = def[1:len(def)-1], true
	}
	if !knownKey(key) {
		return v, fmt.Errorf("policy variable ${%s} names an unknown condition key", body)
	}
	return v, nil
}

// Escaped wildcards: substitute(…, quote=true) writes a literal '*' or '?' (from
// ${*}, ${?} or a context value) as these private-use runes, which matchWildcard
// matches against the plain character only. Policy text may not contain them.
const (
	quotedStar     = "\uE000"
	quotedQuestion = "\uE001"
)

// substitute replaces the policy variables of s from ctx. ok is false when a
// variable has no value and no default: the element that holds it then matches
// nothing, as in AWS. With quote set, the '*' and '?' that substitution brings in
// are escaped so they match only themselves. s must have passed
// validateVariables.
func substitute(s string, ctx Context, quote bool) (out string, ok bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	lit := func(v string) {
		if !quote {
			b.WriteString(v)
			return
		}
		for _, r := range v {
			switch r {
			case '*':
				b.WriteString(quotedStar)
			case '?':
				b.WriteString(quotedQuestion)
			default:
				b.WriteRune(r)
			}
		}
	}
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", false
		}
		v, err := parseVariable(s[i+2 : i+j])
		if err != nil {
			return "", false
		}
		b.WriteString(s[:i])
		switch vals, present := ctx[v.key]; {
		case v.literal != "":
			lit(v.literal)
		case present && len(vals) > 0:
			lit(vals[0])
		case v.hasDefault:
			lit(v.def)
		default:
			return "", false
		}
		s = s[i+j+1:]
	}
}

// hasReservedRune reports whether s holds a rune policy text may not contain.
func hasReservedRune(s string) bool {
	return strings.Contains(s, quotedStar) || strings.Contains(s, quotedQuestion)
}
