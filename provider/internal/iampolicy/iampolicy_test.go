package iampolicy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-io/cairn/provider/internal/iampolicy"
)

const base = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/bob"]},
     "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
     "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}, "Bool": {"aws:SecureTransport": "true"}}},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}
  ]
}`

func TestEquivalent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		other string
		equal bool
	}{
		{"identical", base, true},
		{"minified and keys reordered", `{"Statement":[{"Resource":"arn:aws:s3:::b/*","Action":["s3:DeleteObject"],"Principal":{"AWS":"*"},"Effect":"Deny"},{"Condition":{"Bool":{"aws:SecureTransport":true},"StringEquals":{"aws:sourcevpce":["vpce-2","vpce-1","vpce-1"]}},"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"],"Action":["S3:ListBucket","s3:getobject"],"Principal":{"AWS":["arn:aws:iam::000000000000:user/bob","arn:aws:iam::000000000000:user/alice"]},"Effect":"Allow","Sid":"Read"}],"Version":"2012-10-17"}`, true},
		{"duplicate statement", strings.Replace(base, `"Statement": [`, `"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},`, 1), true},
		{"effect differs", strings.Replace(base, `"Deny"`, `"Allow"`, 1), false},
		{"resource case differs", strings.Replace(base, `arn:aws:s3:::b/*"}`, `arn:aws:s3:::B/*"}`, 1), false},
		{"extra action", strings.Replace(base, `"s3:DeleteObject"`, `["s3:DeleteObject", "s3:PutObject"]`, 1), false},
		{"condition value differs", strings.Replace(base, `"vpce-2"`, `"vpce-3"`, 1), false},
		{"sid differs", strings.Replace(base, `"Read"`, `"Read2"`, 1), false},
		{"version differs", strings.Replace(base, `2012-10-17`, `2008-10-17`, 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eq, err := iampolicy.Equivalent([]byte(base), []byte(tc.other))
			if err != nil {
				t.Fatal(err)
			}
			if eq != tc.equal {
				t.Fatalf("Equivalent = %v, want %v", eq, tc.equal)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not json", `{"Version":`, "not valid JSON"},
		{"array", `[]`, "must be a JSON object"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, `Version must be "2012-10-17"`},
		{"unknown top key", `{"Statement":[],"Statements":[]}`, `unknown top-level key "Statements"`},
		{"lower-case effect", `{"Statement":[{"Effect":"allow","Action":"s3:*"}]}`, `Statement[0]: Effect must be "Allow" or "Deny"`},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Statement[0]: one of Action or NotAction is required"},
		{"typo key", `{"Statement":[{"Effect":"Allow","Actions":"s3:*"}]}`, `Statement[0]: unknown key "Actions"`},
		{"null action", `{"Statement":[{"Effect":"Allow","Action":null}]}`, "Action must be a string or a non-empty list of strings"},
		{"action number", `{"Statement":[{"Effect":"Allow","Action":1}]}`, "Action must be a string or a non-empty list of strings"},
		{"bad principal", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Principal":"alice"}]}`, `string principal must be "*"`},
		{"both actions", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*"}]}`, "cannot both be set"},
		{"bad condition", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringEquals":"x"}}]}`, "Condition: must look like"},
		{"second statement", `{"Statement":[{"Effect":"Allow","Action":"s3:*"},{"Effect":"Deny"}]}`, "Statement[1]: one of Action"},
		{"empty action list", `{"Statement":[{"Effect":"Allow","Action":[]}]}`, "non-empty list"},
		{"trailing data", `{"Statement":[{"Effect":"Allow","Action":"s3:*"}]} {}`, "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := iampolicy.Validate([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	err := iampolicy.Validate([]byte(`{"Statement":[{"Effect":"Allow"}]}`))
	if !errors.Is(err, iampolicy.ErrInvalid) {
		t.Fatalf("structural error %v does not wrap ErrInvalid", err)
	}
}

func TestSingleStatementObject(t *testing.T) {
	a := `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
	b := `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}`
	if eq, err := iampolicy.Equivalent([]byte(a), []byte(b)); err != nil || !eq {
		t.Fatalf("Equivalent = %v, %v; want true", eq, err)
	}
}

func ExampleEquivalent() {
	a := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::photos/*"}]}`
	b := `{
	  "Statement": [{
	    "Resource": ["arn:aws:s3:::photos/*"],
	    "Action": ["s3:ListBucket", "s3:GetObject"],
	    "Principal": {"AWS": "*"},
	    "Effect": "Allow"
	  }],
	  "Version": "2012-10-17"
	}`
	eq, _ := iampolicy.Equivalent([]byte(a), []byte(b))
	fmt.Println(eq)
	// Output: true
}
