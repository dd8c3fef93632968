package iam

import (
	"errors"
	"strings"
	"testing"
)

// Parsing: every malformed document is refused with an error that says where and
// what; valid documents of every shape parse.

func TestParsePolicyErrors(t *testing.T) {
	const stmt = `"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
	doc := func(statement string) string {
		return `{"Version":"2012-10-17","Statement":[{` + statement + `}]}`
	}
	cases := []struct {
		name, doc string
		want      string // substring of the error
	}{
		{"empty", ``, "the document is empty"},
		{"not json", `{"Version":`, "not valid JSON"},
		{"trailing garbage", `{"Version":"2012-10-17","Statement":{` + stmt + `}} x`, "unexpected data after"},
		{"array document", `[]`, "must be a JSON object"},
		{"unknown top-level element", `{"Version":"2012-10-17","Statment":[]}`, `unknown element "Statment"`},
		{"wrong case", `{"version":"2012-10-17","Statement":{` + stmt + `}}`, `did you mean "Version"`},
		{"duplicate key", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + stmt + `}}`, "appears more than once"},
		{"bad version", `{"Version":"2012-10-18","Statement":{` + stmt + `}}`, `unsupported version "2012-10-18"`},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement element is missing"},
		{"empty statement list", `{"Version":"2012-10-17","Statement":[]}`, "Statement: the list is empty"},
		{"statement is a string", `{"Version":"2012-10-17","Statement":"x"}`, "must be an object or a list"},
		{"no effect", doc(`"Action":"s3:GetObject","Resource":"*"`), "Effect element is missing"},
		{"bad effect", doc(`"Effect":"allow","Action":"s3:GetObject","Resource":"*"`), `must be "Allow" or "Deny", not "allow"`},
		{"unknown action", doc(`"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"`), `Statement[0].Action[0]: unknown action "s3:GetObjekt"`},
		{"action without service", doc(`"Effect":"Allow","Action":"GetObject","Resource":"*"`), "not of the form service:Action"},
		{"unknown service", doc(`"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"`), `names the service "ec2"`},
		{"pattern matches nothing", doc(`"Effect":"Allow","Action":"s3:Gett*","Resource":"*"`), "matches no known action"},
		{"action list empty", doc(`"Effect":"Allow","Action":[],"Resource":"*"`), "the list is empty"},
		{"action number", doc(`"Effect":"Allow","Action":[7],"Resource":"*"`), "Action[0]: must be a string"},
		{"action and notaction", doc(`"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"`), "either Action or NotAction"},
		{"no action", doc(`"Effect":"Allow","Resource":"*"`), "Action element is missing"},
		{"no resource", doc(`"Effect":"Allow","Action":"s3:GetObject"`), "Resource element is missing"},
		{"resource not an arn", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"mybucket/*"`), "is not an ARN"},
		{"resource other service", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:sqs:::q"`), `names the service "sqs"`},
		{"resource with region", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:us-east-1::b"`), "has a region or account"},
		{"resource other partition", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws-cn:s3:::b"`), `partition "aws-cn"`},
		{"resource without bucket", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"`), "names no bucket"},
		{"resource uppercase bucket", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::MyBucket/*"`), "lowercase letters"},
		{"resource control char", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/\u0001"`), "control character"},
		{"unterminated variable", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username"`), "unterminated policy variable"},
		{"unknown variable", doc(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:nobody}/*"`), "unknown condition key"},
		{"principal in identity policy", doc(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"`), "must not have a Principal"},
		{"notprincipal", doc(`"Effect":"Allow","NotPrincipal":"*","Action":"s3:GetObject","Resource":"*"`), "NotPrincipal is not supported"},
		{"unknown statement element", doc(stmt + `,"Conditions":{}`), `unknown element "Conditions"`},
		{"unknown operator", doc(stmt + `,"Condition":{"StringMatches":{"s3:prefix":"a"}}`), `unknown condition operator "StringMatches"`},
		{"unknown condition key", doc(stmt + `,"Condition":{"StringEquals":{"s3:prefx":"a"}}`), `unknown condition key "s3:prefx"`},
		{"bad ip", doc(stmt + `,"Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}`), "needs an IP address or CIDR"},
		{"bad date", doc(stmt + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), "needs a date"},
		{"bad bool", doc(stmt + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`), "needs true or false"},
		{"bad number", doc(stmt + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`), "needs a number"},
		{"empty condition values", doc(stmt + `,"Condition":{"StringEquals":{"s3:prefix":[]}}`), "the value list is empty"},
		{"object condition value", doc(stmt + `,"Condition":{"StringEquals":{"s3:prefix":{"a":1}}}`), "must be a string, number or boolean"},
		{"operator without keys", doc(stmt + `,"Condition":{"StringEquals":{}}`), "names no condition key"},
		{"null with IfExists", doc(stmt + `,"Condition":{"NullIfExists":{"s3:prefix":"true"}}`), "unknown condition operator"},
		{"variable in numeric", doc(stmt + `,"Condition":{"NumericEquals":{"s3:max-keys":"${aws:username}"}}`), "only allowed in String and Arn"},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[{"Sid":"a",` + stmt + `},{"Sid":"a",` + stmt + `}]}`, "used by an earlier statement"},
		{"bad sid", doc(`"Sid":"a/b",` + stmt), "may hold only letters"},
		{"too large", `{"Version":"2012-10-17","Id":"` + strings.Repeat("x", MaxPolicySize) + `","Statement":{` + stmt + `}}`, "the limit is"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.doc))
			if err == nil {
				t.Fatalf("ParsePolicy succeeded, want an error containing %q", tc.want)
			}
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Errorf("error %v does not wrap ErrMalformedPolicy", err)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *PolicyError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseBucketPolicyErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      string
	}{
		{"no principal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "needs a Principal"},
		{"other bucket", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}}`, `is not in the bucket "photos"`},
		{"all buckets", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}}`, "is not in the bucket"},
		{"star resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, "is not in the bucket"},
		{"bad principal string", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, `must be "*" or {"AWS"`},
		{"service principal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, `unsupported principal type "Service"`},
		{"bad principal arn", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:role/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "is not an IAM principal ARN"},
		{"principal group", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}`, "names neither a user"},
		{"admin action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"admin:CreateUser","Resource":"arn:aws:s3:::photos"}}`, "admin actions cannot be granted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBucketPolicy([]byte(tc.doc), "photos")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseBucketPolicy error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParsePolicyShapes(t *testing.T) {
	p := mustParse(t, `{
	  "Version": "2012-10-17",
	  "Id": "shapes",
	  "Statement": {
	    "Sid": "One statement as an object",
	    "Effect": "Deny",
	    "NotAction": ["s3:Get*", "S3:LISTBUCKET"],
	    "NotResource": "arn:aws:s3:::b/public/*",
	    "Condition": {
	      "ForAnyValue:StringLike": {"s3:prefix": ["a*", "b?"]},
	      "NumericGreaterThanEquals": {"s3:max-keys": 5},
	      "BoolIfExists": {"aws:SecureTransport": false},
	      "DateGreaterThan": {"aws:CurrentTime": "2020-01-01"},
	      "IpAddress": {"aws:SourceIp": ["10.0.0.1", "2001:db8::/32"]}
	    }
	  }
	}`)
	if p.ID != "shapes" || len(p.Statements) != 1 {
		t.Fatalf("parsed %+v", p)
	}
	st := p.Statements[0]
	if st.Effect != Deny || !st.NotAction || !st.NotResource || len(st.Conditions) != 5 {
		t.Fatalf("statement %+v", st)
	}
	if st.Actions[1] != "s3:listbucket" {
		t.Errorf("actions are not lower-cased: %v", st.Actions)
	}
	// Admin-only statements may omit the resource.
	p = mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["admin:*"]}]}`)
	if got := p.Statements[0].Resources; len(got) != 1 || got[0] != "*" {
		t.Errorf("admin statement resources = %v, want [*]", got)
	}
	// Bucket policies: principals of every form.
	bp := mustParseBucket(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/alice","111122223333","arn:aws:iam::111122223333:root"]},
	   "Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`, "b")
	pr := bp.Statements[0].Principal
	if pr.Any || !pr.Root || len(pr.Users) != 1 || pr.Users[0] != "alice" {
		t.Errorf("principal %+v", pr)
	}
	// A document without Version is 2008-10-17.
	if p := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`); p.Version != Version2008 {
		t.Errorf("Version = %q, want %q", p.Version, Version2008)
	}
}
