package s3api

import (
	"net/http"
	"testing"
	"time"
)

func TestPreconditions(t *testing.T) {
	t.Parallel()
	mod := time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, time.UTC) // sub-second part is ignored
	const etag = "abc123"
	before := mod.Add(-time.Hour).Format(http.TimeFormat)
	same := mod.Format(http.TimeFormat)
	after := mod.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name string
		p    preconditions
		want condResult
	}{
		{name: "none", want: condPass},
		{name: "if-match hit", p: preconditions{ifMatch: `"abc123"`}, want: condPass},
		{name: "if-match unquoted", p: preconditions{ifMatch: "abc123"}, want: condPass},
		{name: "if-match star", p: preconditions{ifMatch: "*"}, want: condPass},
		{name: "if-match list", p: preconditions{ifMatch: `"x", "abc123"`}, want: condPass},
		{name: "if-match miss", p: preconditions{ifMatch: `"other"`}, want: condFailed},
		{name: "if-none-match hit", p: preconditions{ifNoneMatch: `"abc123"`}, want: condNotModified},
		{name: "if-none-match star", p: preconditions{ifNoneMatch: "*"}, want: condNotModified},
		{name: "if-none-match weak", p: preconditions{ifNoneMatch: `W/"abc123"`}, want: condNotModified},
		{name: "if-none-match miss", p: preconditions{ifNoneMatch: `"other"`}, want: condPass},
		{name: "if-modified-since older", p: preconditions{ifModifiedSince: before}, want: condPass},
		{name: "if-modified-since same second", p: preconditions{ifModifiedSince: same}, want: condNotModified},
		{name: "if-modified-since newer", p: preconditions{ifModifiedSince: after}, want: condNotModified},
		{name: "if-unmodified-since older", p: preconditions{ifUnmodifiedSince: before}, want: condFailed},
		{name: "if-unmodified-since same second", p: preconditions{ifUnmodifiedSince: same}, want: condPass},
		{name: "if-unmodified-since newer", p: preconditions{ifUnmodifiedSince: after}, want: condPass},
		{name: "bad date ignored", p: preconditions{ifUnmodifiedSince: "yesterday"}, want: condPass},
		{name: "rfc850 date", p: preconditions{ifModifiedSince: mod.Add(time.Hour).Format(time.RFC850)}, want: condNotModified},
		// S3: If-Match true and If-Unmodified-Since false → 200.
		{name: "if-match wins over if-unmodified-since", p: preconditions{ifMatch: etag, ifUnmodifiedSince: before}, want: condPass},
		// S3: If-None-Match false and If-Modified-Since true → 304.
		{name: "if-none-match hit wins over if-modified-since", p: preconditions{ifNoneMatch: etag, ifModifiedSince: before}, want: condNotModified},
		// If-None-Match present and not matching: If-Modified-Since is ignored.
		{name: "if-none-match miss ignores if-modified-since", p: preconditions{ifNoneMatch: `"other"`, ifModifiedSince: after}, want: condPass},
		{name: "if-match miss beats if-none-match", p: preconditions{ifMatch: "other", ifNoneMatch: etag}, want: condFailed},
		{name: "if-unmodified-since fail beats if-none-match", p: preconditions{ifUnmodifiedSince: before, ifNoneMatch: etag}, want: condFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.p.evaluate(etag, mod); got != tc.want {
				t.Fatalf("evaluate = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReadPreconditionHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("If-Match", "a")
	h.Set("X-Amz-Copy-Source-If-None-Match", "b")
	h.Set("X-Amz-Copy-Source-If-Modified-Since", "c")
	h.Set("X-Amz-Copy-Source-If-Unmodified-Since", "d")
	h.Set("X-Amz-Copy-Source-If-Match", "e")
	if got := readPreconditions(h); got != (preconditions{ifMatch: "a"}) {
		t.Errorf("readPreconditions = %+v", got)
	}
	if got := copySourcePreconditions(h); got != (preconditions{ifMatch: "e", ifNoneMatch: "b", ifModifiedSince: "c", ifUnmodifiedSince: "d"}) {
		t.Errorf("copySourcePreconditions = %+v", got)
	}
}

func TestWriteConditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   map[string]string
		wantNone string
		wantIf   string
	}{
		{name: "none"},
		{name: "if-none-match star", header: map[string]string{"If-None-Match": "*"}, wantNone: "*"},
		{name: "if-match quoted", header: map[string]string{"If-Match": `"abc"`}, wantIf: "abc"},
		{name: "if-none-match etag", header: map[string]string{"If-None-Match": `"abc"`}, wantNone: "abc"},
		{name: "if-none-match list", header: map[string]string{"If-None-Match": `"abc", W/"def"`}, wantNone: "abc,def"},
		{name: "if-match list", header: map[string]string{"If-Match": `"abc","def"`}, wantIf: "abc,def"},
		{name: "if-match star", header: map[string]string{"If-Match": `*`}, wantIf: "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			c := writeConditions(h)
			if c.IfNoneMatch != tc.wantNone || c.IfMatch != tc.wantIf {
				t.Fatalf("writeConditions = %+v", c)
			}
		})
	}
}
