package s3api

import (
	"net/http"
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		valid bool
	}{
		{"abc", true},
		{"my-bucket", true},
		{"my.bucket.name", true},
		{"123", true},
		{"a1-b2.c3", true},
		{strings.Repeat("a", 63), true},
		{"cairn", true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"MyBucket", false},
		{"my_bucket", false},
		{"my bucket", false},
		{"-bucket", false},
		{"bucket-", false},
		{".bucket", false},
		{"bucket.", false},
		{"my..bucket", false},
		{"192.168.1.1", false},
		{"1.2.3.4", false},
		{"1.2.3.4.5", true},
		{"1.2.3", true},
		{"xn--bucket", false},
		{"sthree-bucket", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"bucket.mrap", false},
		{"bucket--x-s3", false},
		{"bucket--table-s3", false},
		{"bücket", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateBucketName(tc.name)
			if (err == nil) != tc.valid {
				t.Fatalf("validateBucketName(%q) = %v, want valid=%v", tc.name, err, tc.valid)
			}
			if err != nil && errorResponse(err).Code != "InvalidBucketName" {
				t.Fatalf("code = %s, want InvalidBucketName", errorResponse(err).Code)
			}
		})
	}
}

func TestValidateObjectKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, wantCode string
	}{
		{"simple", "a/b/c", ""},
		{"dot segments are the object layer's call", "a/../b", ""},
		{"leading slash", "/a", ""},
		{"unicode", "日本/ü", ""},
		{"max length", strings.Repeat("x", 1024), ""},
		{"too long", strings.Repeat("x", 1025), "KeyTooLongError"},
		{"too long multibyte", strings.Repeat("é", 513), "KeyTooLongError"},
		{"invalid utf8", "a\xc3", "InvalidArgument"},
		{"empty", "", "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateObjectKey(tc.key)
			got := ""
			if err != nil {
				got = errorResponse(err).Code
			}
			if got != tc.wantCode {
				t.Fatalf("validateObjectKey = %v, want %q", err, tc.wantCode)
			}
		})
	}
}

func TestObjectMeta(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Encoding", "aws-chunked, gzip")
	h.Set("Content-Disposition", "attachment")
	h.Set("Content-Language", "en")
	h.Set("Cache-Control", "no-cache")
	h.Set("Expires", "Thu, 01 Dec 2034 16:00:00 GMT")
	h.Set("X-Amz-Meta-Color", "blue")
	h.Add("X-Amz-Meta-Multi", "a")
	h.Add("X-Amz-Meta-Multi", "b")
	h.Set("X-Amz-Date", "not stored")
	h.Set("Authorization", "not stored")
	meta, err := objectMeta(h)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Content-Type": "text/plain", "Content-Encoding": "gzip", "Content-Disposition": "attachment",
		"Content-Language": "en", "Cache-Control": "no-cache", "Expires": "Thu, 01 Dec 2034 16:00:00 GMT",
		"X-Amz-Meta-Color": "blue", "X-Amz-Meta-Multi": "a,b",
	}
	if len(meta) != len(want) {
		t.Fatalf("meta = %v, want %v", meta, want)
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("meta[%s] = %q, want %q", k, meta[k], v)
		}
	}

	onlyChunked := http.Header{"Content-Encoding": {"aws-chunked"}}
	if meta, _ := objectMeta(onlyChunked); len(meta) != 0 {
		t.Errorf("aws-chunked alone stored as %v", meta)
	}
}

func TestObjectMetaSizeLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		valueLen int
		wantErr  bool
	}{
		{"exactly 2 KiB", 2048 - len("k"), false},
		{"one byte over", 2048 - len("k") + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"X-Amz-Meta-K": {strings.Repeat("v", tc.valueLen)}}
			h.Set("Content-Type", strings.Repeat("t", 4000)) // standard headers do not count
			_, err := objectMeta(h)
			if tc.wantErr != (err != nil) {
				t.Fatalf("objectMeta error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && errorResponse(err).Code != "MetadataTooLarge" {
				t.Fatalf("code = %s", errorResponse(err).Code)
			}
		})
	}
}

func TestContentMD5(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  []string
		wantLen int
		wantErr bool
	}{
		{name: "absent"},
		{name: "valid", header: []string{"1B2M2Y8AsgTpgAmY7PhCfg=="}, wantLen: 16},
		{name: "not base64", header: []string{"!!!"}, wantErr: true},
		{name: "wrong length", header: []string{"AAAA"}, wantErr: true},
		{name: "hex instead of base64", header: []string{"d41d8cd98f00b204e9800998ecf8427e"}, wantErr: true},
		{name: "empty", header: []string{""}, wantErr: true},
		{name: "twice", header: []string{"1B2M2Y8AsgTpgAmY7PhCfg==", "1B2M2Y8AsgTpgAmY7PhCfg=="}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.header != nil {
				h["Content-Md5"] = tc.header
			}
			b, err := contentMD5(h)
			if tc.wantErr {
				if err == nil || errorResponse(err).Code != "InvalidDigest" {
					t.Fatalf("contentMD5 error = %v, want InvalidDigest", err)
				}
				return
			}
			if err != nil || len(b) != tc.wantLen {
				t.Fatalf("contentMD5 = %x, %v", b, err)
			}
		})
	}
}

func TestParseMaxKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 1000, false},
		{"0", 0, false},
		{"5", 5, false},
		{"1000", 1000, false},
		{"5000", 1000, false},
		{"99999999999999999999999", 1000, false},
		{"-1", 0, true},
		{"abc", 0, true},
		{"1.5", 0, true},
	}
	for _, tc := range tests {
		got, err := parseMaxKeys("max-keys", tc.in, 1000, 1000)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseMaxKeys(%q) = %d, %v; want %d, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParsePartNumber(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"1": true, "10000": true, "0": false, "10001": false, "-1": false, "x": false, "": false} {
		_, err := parsePartNumber(in)
		if (err == nil) != ok {
			t.Errorf("parsePartNumber(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestUploadSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size     int64
		wantCode string
	}{
		{0, ""},
		{5 << 30, ""},
		{5<<30 + 1, "EntityTooLarge"},
		{-1, "MissingContentLength"},
	}
	for _, tc := range tests {
		_, err := uploadSize(&request{size: tc.size})
		got := ""
		if err != nil {
			got = errorResponse(err).Code
		}
		if got != tc.wantCode {
			t.Errorf("uploadSize(%d) = %v, want %q", tc.size, err, tc.wantCode)
		}
	}
	if got := errorResponse(apiError(codeMissingContentLength, "")).Status; got != http.StatusLengthRequired {
		t.Errorf("MissingContentLength status = %d", got)
	}
}

func TestTrimETag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`"abc"`: "abc", "abc": "abc", ` "abc" `: "abc", `W/"abc"`: "abc", `"abc-2"`: "abc-2", `"`: `"`} {
		if got := trimETag(in); got != want {
			t.Errorf("trimETag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestS3URLEncode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain/key.txt": "plain/key.txt",
		"a b+c":         "a%20b%2Bc",
		"ü":             "%C3%BC",
		"a&b=c?d#e%":    "a%26b%3Dc%3Fd%23e%25",
		"~-_.":          "~-_.",
		"\x01":          "%01",
	} {
		if got := s3URLEncode(in); got != want {
			t.Errorf("s3URLEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
