package s3api

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidateTags(t *testing.T) {
	t.Parallel()
	many := func(n int) []tag {
		tags := make([]tag, n)
		for i := range tags {
			tags[i] = tag{Key: fmt.Sprintf("k%d", i), Value: "v"}
		}
		return tags
	}
	tests := []struct {
		name    string
		tags    []tag
		limit   int
		wantErr bool
	}{
		{name: "empty set", tags: nil, limit: maxObjectTags},
		{name: "one", tags: []tag{{"env", "prod"}}, limit: maxObjectTags},
		{name: "empty value", tags: []tag{{"flag", ""}}, limit: maxObjectTags},
		{name: "allowed punctuation", tags: []tag{{"a+b-c=d.e_f:g/h@i", "x y"}}, limit: maxObjectTags},
		{name: "unicode letters", tags: []tag{{"Größe", "日本"}}, limit: maxObjectTags},
		{name: "10 object tags", tags: many(10), limit: maxObjectTags},
		{name: "11 object tags", tags: many(11), limit: maxObjectTags, wantErr: true},
		{name: "50 bucket tags", tags: many(50), limit: maxBucketTags},
		{name: "51 bucket tags", tags: many(51), limit: maxBucketTags, wantErr: true},
		{name: "key 128", tags: []tag{{strings.Repeat("k", 128), "v"}}, limit: maxObjectTags},
		{name: "key 129", tags: []tag{{strings.Repeat("k", 129), "v"}}, limit: maxObjectTags, wantErr: true},
		{name: "key 128 multibyte chars", tags: []tag{{strings.Repeat("é", 128), "v"}}, limit: maxObjectTags},
		{name: "value 256", tags: []tag{{"k", strings.Repeat("v", 256)}}, limit: maxObjectTags},
		{name: "value 257", tags: []tag{{"k", strings.Repeat("v", 257)}}, limit: maxObjectTags, wantErr: true},
		{name: "empty key", tags: []tag{{"", "v"}}, limit: maxObjectTags, wantErr: true},
		{name: "duplicate key", tags: []tag{{"k", "1"}, {"k", "2"}}, limit: maxObjectTags, wantErr: true},
		{name: "aws prefix", tags: []tag{{"aws:cloudformation", "v"}}, limit: maxObjectTags, wantErr: true},
		{name: "forbidden character", tags: []tag{{"a<b", "v"}}, limit: maxObjectTags, wantErr: true},
		{name: "forbidden value character", tags: []tag{{"k", "a&b"}}, limit: maxObjectTags, wantErr: true},
		{name: "invalid utf8", tags: []tag{{"k\xff", "v"}}, limit: maxObjectTags, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateTags(tc.tags, tc.limit)
			if (err != nil) != tc.wantErr {
				t.Fatalf("validateTags = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && errorResponse(err).Code != "InvalidTag" {
				t.Fatalf("code = %s, want InvalidTag", errorResponse(err).Code)
			}
		})
	}
}

func TestTagEncoding(t *testing.T) {
	t.Parallel()
	tags := []tag{{"b key", "v=1&2"}, {"a", ""}, {"ü/x", "+"}}
	enc := encodeTags(tags)
	if want := "b+key=v%3D1%262&a=&%C3%BC%2Fx=%2B"; enc != want {
		t.Fatalf("encodeTags = %q, want %q", enc, want)
	}
	got, err := decodeTags(enc)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(tags) {
		t.Fatalf("round trip = %v, want %v (order kept)", got, tags)
	}
	if n := countTags(enc); n != 3 {
		t.Fatalf("countTags = %d", n)
	}
	if n := countTags(""); n != 0 {
		t.Fatalf("countTags(\"\") = %d", n)
	}
}

func TestParseTagHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, wantCode string
	}{
		{name: "absent"},
		{name: "simple", in: "a=1&b=2", want: "a=1&b=2"},
		{name: "escaped", in: "k%20x=v%2F1", want: "k+x=v%2F1"},
		{name: "no value", in: "flag", want: "flag="},
		{name: "duplicate", in: "a=1&a=2", wantCode: "InvalidTag"},
		{name: "bad escape", in: "a=%zz", wantCode: "InvalidArgument"},
		{name: "too many", in: "a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1", wantCode: "InvalidTag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseTagHeader(tc.in)
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("parseTagHeader(%q) error = %v, want %s", tc.in, err, tc.wantCode)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseTagHeader(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
