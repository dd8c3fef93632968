package iam

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Policy documents: AWS IAM JSON, parsed strictly.
//
// A document is {"Version", "Id"?, "Statement"}; Statement is one statement or a
// list. A statement has "Sid"?, "Effect" ("Allow" or "Deny"), exactly one of
// "Action"/"NotAction", exactly one of "Resource"/"NotResource" (statements whose
// actions are all admin actions may omit it: their resource is "*"),
// "Condition"? and — in bucket policies only, where it is required —
// "Principal". Unknown elements, wrong case, duplicate keys, unknown actions,
// malformed ARNs, unknown condition operators or keys and values that do not fit
// their operator are errors (*PolicyError) that say where and what.

// Policy versions. Policy variables are substituted only in 2012-10-17
// documents; in 2008-10-17 (and documents without a Version, as AWS treats them)
// "${…}" is literal text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MaxPolicySize is the largest policy document accepted, in bytes (AWS allows
// 20 KiB for bucket policies; IAM policies are smaller there).
const MaxPolicySize = 20 << 10

// Effect is a statement's effect.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed, validated policy document. It is immutable and safe for
// concurrent use.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Principal is nil in identity policies; bucket policies always have one.
	Principal *Principal
	// Actions holds the lower-cased action patterns; NotAction inverts them.
	Actions   []string
	NotAction bool
	// Resources holds the resource patterns; NotResource inverts them.
	Resources   []string
	NotResource bool
	Conditions  []Condition

	variables bool // resolve ${…} (Version 2012-10-17)
}

// Principal is whom a bucket-policy statement applies to.
type Principal struct {
	// Any is "*" (everyone, anonymous requests included).
	Any bool
	// Users are IAM user names from "arn:aws:iam::<account>:user/<name>".
	Users []string
	// Root is set by "arn:aws:iam::<account>:root" or a bare account id: the
	// account's root user. Cairn's root bypasses policies, so this matches
	// nothing else.
	Root bool
}

// parseOptions select identity- or bucket-policy rules.
type parseOptions struct {
	bucket string // non-empty: a bucket policy for this bucket
}

// ParsePolicy parses an identity policy: one attached to users, groups or access
// keys. Such a policy must not have a Principal.
func ParsePolicy(doc []byte) (*Policy, error) { return parse(doc, parseOptions{}) }

// ParseBucketPolicy parses the policy of bucket: every statement needs a
// Principal, and every resource must lie inside the bucket.
func ParseBucketPolicy(doc []byte, bucket string) (*Policy, error) {
	if bucket == "" {
		return nil, policyErr("", "no bucket given for a bucket policy")
	}
	return parse(doc, parseOptions{bucket: bucket})
}

func parse(doc []byte, opts parseOptions) (*Policy, error) {
	if len(doc) > MaxPolicySize {
		return nil, policyErr("", "the document is %d bytes; the limit is %d", len(doc), MaxPolicySize)
	}
	if len(trimJSON(doc)) == 0 {
		return nil, policyErr("", "the document is empty")
	}
	top, err := decodeObject(doc, "")
	if err != nil {
		return nil, err
	}
	if err := checkKeys(top, "", "Version", "Id", "Statement"); err != nil {
		return nil, err
	}
	p := &Policy{Version: Version2008}
	if raw, ok := top.fields["Version"]; ok {
		if err := json.Unmarshal(raw, &p.Version); err != nil {
			return nil, policyErr("Version", "must be a string")
		}
		if p.Version != Version2012 && p.Version != Version2008 {
			return nil, policyErr("Version", "unsupported version %q; use %q", p.Version, Version2012)
		}
	}
	if raw, ok := top.fields["Id"]; ok {
		if err := json.Unmarshal(raw, &p.ID); err != nil {
			return nil, policyErr("Id", "must be a string")
		}
	}
	raw, ok := top.fields["Statement"]
	if !ok {
		return nil, policyErr("", "the Statement element is missing")
	}
	var stmts []json.RawMessage
	switch raw = trimJSON(raw); {
	case len(raw) > 0 && raw[0] == '[':
		if err := json.Unmarshal(raw, &stmts); err != nil {
			return nil, policyErr("Statement", "not a JSON array: %v", err)
		}
		if len(stmts) == 0 {
			return nil, policyErr("Statement", "the list is empty")
		}
	case len(raw) > 0 && raw[0] == '{':
		stmts = []json.RawMessage{raw}
	default:
		return nil, policyErr("Statement", "must be an object or a list of objects")
	}
	known := lowerKnownActions()
	sids := map[string]bool{}
	for i, sraw := range stmts {
		path := fmt.Sprintf("Statement[%d]", i)
		st, err := parseStatement(sraw, path, p.Version == Version2012, opts, known)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, policyErr(path+".Sid", "the Sid %q is used by an earlier statement", st.Sid)
			}
			sids[st.Sid] = true
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, path string, variables bool, opts parseOptions, known []string) (Statement, error) {
	st := Statement{variables: variables}
	obj, err := decodeObject(raw, path)
	if err != nil {
		return st, err
	}
	if err := checkKeys(obj, path, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
		"Resource", "NotResource", "Condition"); err != nil {
		return st, err
	}
	if r, ok := obj.fields["Sid"]; ok {
		if err := json.Unmarshal(r, &st.Sid); err != nil {
			return st, policyErr(path+".Sid", "must be a string")
		}
		for _, c := range st.Sid {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '_' || c == '.') {
				return st, policyErr(path+".Sid", "%q may hold only letters, digits, spaces, '-', '_' and '.'", st.Sid)
			}
		}
	}
	var eff string
	if r, ok := obj.fields["Effect"]; !ok {
		return st, policyErr(path, "the Effect element is missing")
	} else if err := json.Unmarshal(r, &eff); err != nil {
		return st, policyErr(path+".Effect", "must be a string")
	}
	switch Effect(eff) {
	case Allow, Deny:
		st.Effect = Effect(eff)
	default:
		return st, policyErr(path+".Effect", "must be \"Allow\" or \"Deny\", not %q", eff)
	}

	if _, ok := obj.fields["NotPrincipal"]; ok {
		return st, policyErr(path, "NotPrincipal is not supported; use Principal with a Condition")
	}
	if r, ok := obj.fields["Principal"]; ok {
		if opts.bucket == "" {
			return st, policyErr(path+".Principal", "an identity policy (attached to users, groups or keys) must not have a Principal")
		}
		pr, err := parsePrincipal(r, path+".Principal")
		if err != nil {
			return st, err
		}
		st.Principal = pr
	} else if opts.bucket != "" {
		return st, policyErr(path, "a bucket policy statement needs a Principal")
	}

	actKey, err := exactlyOne(obj, path, "Action", "NotAction")
	if err != nil {
		return st, err
	}
	st.NotAction = actKey == "NotAction"
	acts, err := stringOrList(obj.fields[actKey], path+"."+actKey)
	if err != nil {
		return st, err
	}
	onlyAdmin := true
	for j, a := range acts {
		la, err := parseAction(a, known)
		if err != nil {
			return st, policyErr(fmt.Sprintf("%s.%s[%d]", path, actKey, j), "%v", err)
		}
		if !strings.HasPrefix(la, "admin:") {
			onlyAdmin = false
		} else if opts.bucket != "" {
			return st, policyErr(fmt.Sprintf("%s.%s[%d]", path, actKey, j), "admin actions cannot be granted by a bucket policy")
		}
		st.Actions = append(st.Actions, la)
	}

	_, hasRes := obj.fields["Resource"]
	_, hasNotRes := obj.fields["NotResource"]
	if !hasRes && !hasNotRes && onlyAdmin && !st.NotAction && opts.bucket == "" {
		st.Resources = []string{"*"}
	} else {
		resKey, err := exactlyOne(obj, path, "Resource", "NotResource")
		if err != nil {
			return st, err
		}
		st.NotResource = resKey == "NotResource"
		res, err := stringOrList(obj.fields[resKey], path+"."+resKey)
		if err != nil {
			return st, err
		}
		for j, r := range res {
			rp := fmt.Sprintf("%s.%s[%d]", path, resKey, j)
			if err := validateResource(r, variables); err != nil {
				return st, policyErr(rp, "%v", err)
			}
			if opts.bucket != "" && !st.NotResource && !resourceInBucket(r, opts.bucket) {
				return st, policyErr(rp, "the resource %q is not in the bucket %q (bucket policies name \"arn:aws:s3:::%s\" or \"arn:aws:s3:::%s/…\")", r, opts.bucket, opts.bucket, opts.bucket)
			}
			st.Resources = append(st.Resources, r)
		}
	}

	if r, ok := obj.fields["Condition"]; ok {
		cs, err := parseConditionBlock(r, path+".Condition", variables)
		if err != nil {
			return st, err
		}
		st.Conditions = cs
	}
	return st, nil
}

// exactlyOne returns which of a and b obj has, refusing both and neither.
func exactlyOne(obj object, path, a, b string) (string, error) {
	_, hasA := obj.fields[a]
	_, hasB := obj.fields[b]
	switch {
	case hasA && hasB:
		return "", policyErr(path, "a statement has either %s or %s, not both", a, b)
	case hasA:
		return a, nil
	case hasB:
		return b, nil
	}
	return "", policyErr(path, "the %s element is missing", a)
}

// validateResource checks a Resource entry: "*" or an S3 ARN.
func validateResource(r string, variables bool) error {
	if r == "*" {
		return nil
	}
	if hasReservedRune(r) {
		return fmt.Errorf("the resource contains a reserved character (U+E000 or U+E001)")
	}
	for _, c := range r {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("the resource %q contains a control character", r)
		}
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fmt.Errorf("the resource %q is not an ARN; S3 resources are written \"arn:aws:s3:::bucket\" or \"arn:aws:s3:::bucket/key\"", r)
	}
	if parts[1] != "aws" {
		return fmt.Errorf("the resource %q names the partition %q; Cairn uses \"aws\"", r, parts[1])
	}
	if parts[2] != "s3" {
		return fmt.Errorf("the resource %q names the service %q; Cairn policies name S3 resources (\"arn:aws:s3:::bucket/key\")", r, parts[2])
	}
	if parts[3] != "" || parts[4] != "" {
		return fmt.Errorf("the resource %q has a region or account; S3 bucket ARNs have neither (\"arn:aws:s3:::bucket\")", r)
	}
	res := parts[5]
	if res == "" {
		return fmt.Errorf("the resource %q names no bucket", r)
	}
	if variables && strings.Contains(res, "${") {
		if err := validateVariables(res); err != nil {
			return err
		}
	}
	bucket, _, _ := strings.Cut(res, "/")
	if variables {
		bucket = stripVariables(bucket)
	}
	if bucket == "" {
		return fmt.Errorf("the resource %q names no bucket", r)
	}
	for i := 0; i < len(bucket); i++ {
		c := bucket[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '*' || c == '?') {
			return fmt.Errorf("the bucket part of the resource %q may hold only lowercase letters, digits, '.', '-' and wildcards", r)
		}
	}
	return nil
}

// stripVariables removes "${…}" references from s.
func stripVariables(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		s = s[:i] + s[i+j+1:]
	}
}

// resourceInBucket reports whether the resource pattern r can only name bucket
// or objects in it: "*", "arn:aws:s3:::*" and patterns for other buckets are
// refused, as S3 refuses them with "Policy has invalid resource".
func resourceInBucket(r, bucket string) bool {
	rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
	if !ok {
		return false
	}
	b, _, _ := strings.Cut(rest, "/")
	return b == bucket
}

// parsePrincipal reads "*" or {"AWS": "*" | ARN | [ARN…]}.
func parsePrincipal(raw json.RawMessage, path string) (*Principal, error) {
	raw = trimJSON(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return nil, policyErr(path, "must be \"*\" or {\"AWS\": …}")
		}
		return &Principal{Any: true}, nil
	}
	obj, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	for _, k := range obj.keys {
		if k != "AWS" {
			return nil, policyErr(path, "unsupported principal type %q; Cairn knows {\"AWS\": …} principals", k)
		}
	}
	r, ok := obj.fields["AWS"]
	if !ok {
		return nil, policyErr(path, "names no principal; use {\"AWS\": \"*\"} or {\"AWS\": \"arn:aws:iam::<account>:user/<name>\"}")
	}
	vals, err := stringOrList(r, path+".AWS")
	if err != nil {
		return nil, err
	}
	p := &Principal{}
	for i, v := range vals {
		vp := fmt.Sprintf("%s.AWS[%d]", path, i)
		switch {
		case v == "*":
			p.Any = true
		case isAccountID(v):
			p.Root = true
		case strings.HasPrefix(v, "arn:"):
			parts := strings.SplitN(v, ":", 6)
			if len(parts) != 6 || parts[1] != "aws" || parts[2] != "iam" || parts[3] != "" || !isAccountID(parts[4]) && parts[4] != "" {
				return nil, policyErr(vp, "%q is not an IAM principal ARN (\"arn:aws:iam::<account>:user/<name>\" or \"arn:aws:iam::<account>:root\")", v)
			}
			switch res := parts[5]; {
			case res == "root":
				p.Root = true
			case strings.HasPrefix(res, "user/"):
				name := res[strings.LastIndexByte(res, '/')+1:]
				if err := validName("user", name, maxUserName); err != nil {
					return nil, policyErr(vp, "%v", err)
				}
				p.Users = append(p.Users, name)
			default:
				return nil, policyErr(vp, "%q names neither a user nor the account root", v)
			}
		default:
			return nil, policyErr(vp, "%q is not a principal; use \"*\" or \"arn:aws:iam::<account>:user/<name>\"", v)
		}
	}
	return p, nil
}

// isAccountID reports whether s looks like an AWS account id (12 digits).
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
