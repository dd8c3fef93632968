package iam

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParsePolicy feeds arbitrary bytes to the policy parsers. Properties: no
// panic; every failure is a *PolicyError wrapping ErrMalformedPolicy; parsing is
// deterministic; a parsed policy evaluates without panicking for assorted
// requests.
func FuzzParsePolicy(f *testing.F) {
	for _, doc := range BuiltinPolicies() {
		f.Add(doc)
	}
	for _, doc := range []string{
		docUserFolder, docHomeDirectory, docPublicRead, docIPDeny, docIPMixed, docRequireTLS,
		docDateWindow, docNotResource, docNotAction, docMaxKeys, docBucketAllowsCarlos,
		docStringNotEquals, docIfExists, docNull, docVersion2008, docLiteralStar,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, 'x'}/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"ForAllValues:StringNotLike":{"s3:prefix":["${aws:username}/*"]}}}]}`,
		`{"Version":`, `[]`, `{}`, `null`, `{"Statement":[{}]}`,
	} {
		f.Add(doc)
	}
	ctxs := []Context{
		{},
		{KeyUsername: {"alice"}, KeyPrefix: {"alice/"}, KeySourceIP: {"192.0.2.7"}, KeySecureTransport: {"false"},
			KeyCurrentTime: {"2024-05-01T00:00:00Z"}, KeyMaxKeys: {"100"}, KeyDelimiter: {"/"}},
		{KeyUsername: {"*?"}, KeySourceIP: {"not-an-ip"}, KeyCurrentTime: {"garbage"}, KeyMaxKeys: {"x"}},
	}
	requesters := []Requester{{Anonymous: true}, {User: "alice"}, {User: "carlos"}}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, bucket := range []string{"", bkt} {
			parse := func() (*Policy, error) {
				if bucket == "" {
					return ParsePolicy([]byte(doc))
				}
				return ParseBucketPolicy([]byte(doc), bucket)
			}
			p, err := parse()
			if err != nil {
				var pe *PolicyError
				if !errors.Is(err, ErrMalformedPolicy) || !errors.As(err, &pe) {
					t.Fatalf("error %v (%T) is not a *PolicyError wrapping ErrMalformedPolicy", err, err)
				}
				continue
			}
			p2, err2 := parse()
			if err2 != nil || !reflect.DeepEqual(p, p2) {
				t.Fatalf("parsing is not deterministic: %v", err2)
			}
			_ = IsPublic(p)
			for _, ctx := range ctxs {
				for _, who := range requesters {
					for _, res := range []string{ResourceARN(bkt, "alice/x"), ResourceARN(bkt, ""), "*"} {
						in := Input{Action: "s3:GetObject", Resource: res, Requester: who, Context: ctx}
						if bucket == "" {
							in.Identity, in.Session = []*Policy{p}, p
						} else {
							in.Bucket = p
						}
						_ = Evaluate(in)
					}
				}
			}
		}
	})
}
