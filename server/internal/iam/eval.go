package iam

import "strings"

// Evaluation, as AWS evaluates policies within one account:
//
//  1. An explicit Deny in any applicable policy (identity policies, the access
//     key's inline policy, the bucket policy) denies.
//  2. Otherwise the request needs an Allow from an identity policy or from the
//     bucket policy (a statement whose Principal matches the requester).
//  3. An access key with an inline policy is further restricted: the inline
//     policy must allow the request too (like an AWS session policy).
//  4. Anonymous requests are allowed only by bucket-policy statements whose
//     Principal is "*".
//
// Root is not evaluated: it may do everything (see Authorizer).

// Decision is the outcome of an evaluation.
type Decision uint8

const (
	// DenyImplicit: nothing allowed the request.
	DenyImplicit Decision = iota
	// DenyExplicit: a Deny statement matched.
	DenyExplicit
	// Allowed: an Allow statement matched and no Deny did.
	Allowed
)

func (d Decision) String() string {
	switch d {
	case DenyExplicit:
		return "explicit deny"
	case Allowed:
		return "allow"
	}
	return "implicit deny"
}

// Requester is who makes a request, as policies see it.
type Requester struct {
	Anonymous bool
	// User is the IAM user (an access key's parent user); "" when anonymous.
	User string
}

// Input is everything one decision depends on.
type Input struct {
	Action    string // e.g. "s3:GetObject"
	Resource  string // e.g. "arn:aws:s3:::bucket/key", or "*" for admin actions
	Requester Requester
	// Identity are the policies attached to the user and to the user's groups.
	Identity []*Policy
	// Session is the access key's inline policy, nil when it has none.
	Session *Policy
	// Bucket is the bucket policy, nil when none applies.
	Bucket *Policy
	// Context holds the condition keys (lower-cased).
	Context Context
}

// Evaluate decides a request.
func Evaluate(in Input) Decision {
	action := strings.ToLower(in.Action)
	identity := DenyImplicit
	if !in.Requester.Anonymous {
		for _, p := range in.Identity {
			identity = combine(identity, p.decide(action, in.Resource, nil, in.Context))
		}
	}
	bucket := DenyImplicit
	if in.Bucket != nil {
		bucket = in.Bucket.decide(action, in.Resource, &in.Requester, in.Context)
	}
	session := Allowed
	if in.Session != nil && !in.Requester.Anonymous {
		session = in.Session.decide(action, in.Resource, nil, in.Context)
	}
	switch {
	case identity == DenyExplicit, bucket == DenyExplicit, session == DenyExplicit:
		return DenyExplicit
	case identity != Allowed && bucket != Allowed:
		return DenyImplicit
	case session != Allowed:
		return DenyImplicit
	}
	return Allowed
}

// combine merges decisions of policies evaluated side by side.
func combine(a, b Decision) Decision {
	if a == DenyExplicit || b == DenyExplicit {
		return DenyExplicit
	}
	if a == Allowed || b == Allowed {
		return Allowed
	}
	return DenyImplicit
}

// decide evaluates one policy: DenyExplicit if a Deny statement matches, Allowed
// if an Allow statement does, DenyImplicit otherwise. who is nil for identity
// policies (they have no Principal).
func (p *Policy) decide(action, resource string, who *Requester, ctx Context) Decision {
	d := DenyImplicit
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.applies(action, resource, who, ctx) {
			continue
		}
		if st.Effect == Deny {
			return DenyExplicit
		}
		d = Allowed
	}
	return d
}

func (st *Statement) applies(action, resource string, who *Requester, ctx Context) bool {
	if who != nil && !st.Principal.matches(*who) {
		return false
	}
	if st.matchAction(action) == st.NotAction {
		return false
	}
	if st.matchResource(resource, ctx) == st.NotResource {
		return false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].eval(ctx) {
			return false
		}
	}
	return true
}

func (st *Statement) matchAction(action string) bool {
	for _, a := range st.Actions {
		if a == "*" || matchWildcard(a, action) {
			return true
		}
	}
	return false
}

func (st *Statement) matchResource(resource string, ctx Context) bool {
	for _, r := range st.Resources {
		if r == "*" {
			return true
		}
		if st.variables {
			var ok bool
			if r, ok = substitute(r, ctx, true); !ok {
				continue
			}
		}
		if matchWildcard(r, resource) {
			return true
		}
	}
	return false
}

func (p *Principal) matches(who Requester) bool {
	if p == nil {
		return false
	}
	if p.Any {
		return true
	}
	if who.Anonymous {
		return false
	}
	for _, u := range p.Users {
		if u == who.User {
			return true
		}
	}
	return false
}

// ResourceARN is the resource of an S3 request: the bucket ARN, the object ARN,
// or "arn:aws:s3:::*" for requests that address no bucket (ListBuckets).
func ResourceARN(bucket, key string) string {
	switch {
	case bucket == "":
		return "arn:aws:s3:::*"
	case key == "":
		return "arn:aws:s3:::" + bucket
	}
	return "arn:aws:s3:::" + bucket + "/" + key
}
