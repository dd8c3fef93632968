package s3api

import (
	"testing"
)

func TestParseRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		size   int64
		want   rangeResult
		start  int64
		length int64
	}{
		{name: "first bytes", header: "bytes=0-9", size: 100, want: rangePartial, start: 0, length: 10},
		{name: "middle", header: "bytes=10-19", size: 100, want: rangePartial, start: 10, length: 10},
		{name: "single byte", header: "bytes=5-5", size: 100, want: rangePartial, start: 5, length: 1},
		{name: "last byte", header: "bytes=99-99", size: 100, want: rangePartial, start: 99, length: 1},
		{name: "end clamped", header: "bytes=90-1000", size: 100, want: rangePartial, start: 90, length: 10},
		{name: "open ended", header: "bytes=50-", size: 100, want: rangePartial, start: 50, length: 50},
		{name: "open from zero", header: "bytes=0-", size: 100, want: rangePartial, start: 0, length: 100},
		{name: "suffix", header: "bytes=-10", size: 100, want: rangePartial, start: 90, length: 10},
		{name: "suffix whole", header: "bytes=-100", size: 100, want: rangePartial, start: 0, length: 100},
		{name: "suffix larger than object", header: "bytes=-500", size: 100, want: rangePartial, start: 0, length: 100},
		{name: "suffix zero", header: "bytes=-0", size: 100, want: rangeUnsatisfiable},
		{name: "suffix on empty object", header: "bytes=-5", size: 0, want: rangeNone},
		{name: "start at size", header: "bytes=100-", size: 100, want: rangeUnsatisfiable},
		{name: "start past size", header: "bytes=200-300", size: 100, want: rangeUnsatisfiable},
		{name: "start on empty object", header: "bytes=0-", size: 0, want: rangeUnsatisfiable},
		{name: "closed on empty object", header: "bytes=0-0", size: 0, want: rangeUnsatisfiable},
		{name: "spaces tolerated", header: " bytes= 1 - 2 ", size: 100, want: rangePartial, start: 1, length: 2},
		{name: "empty header", header: "", size: 100, want: rangeNone},
		{name: "wrong unit", header: "items=0-1", size: 100, want: rangeNone},
		{name: "no dash", header: "bytes=5", size: 100, want: rangeNone},
		{name: "reversed", header: "bytes=9-5", size: 100, want: rangeNone},
		{name: "negative start", header: "bytes=-5-10", size: 100, want: rangeNone},
		{name: "letters", header: "bytes=a-b", size: 100, want: rangeNone},
		{name: "plus sign", header: "bytes=+1-2", size: 100, want: rangeNone},
		{name: "only dash", header: "bytes=-", size: 100, want: rangeNone},
		{name: "overflow", header: "bytes=99999999999999999999-", size: 100, want: rangeNone},
		{name: "multiple ranges ignored", header: "bytes=0-1,5-6", size: 100, want: rangeNone},
		{name: "upper case unit", header: "Bytes=0-1", size: 100, want: rangeNone},
		{name: "huge end on huge object", header: "bytes=0-9223372036854775807", size: 1 << 40, want: rangePartial, start: 0, length: 1 << 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, got := parseRange(tc.header, tc.size)
			if got != tc.want {
				t.Fatalf("parseRange(%q, %d) result = %d, want %d", tc.header, tc.size, got, tc.want)
			}
			if got == rangePartial && (r.start != tc.start || r.length != tc.length) {
				t.Fatalf("parseRange(%q, %d) = [%d, +%d), want [%d, +%d)", tc.header, tc.size, r.start, r.length, tc.start, tc.length)
			}
		})
	}
}

func TestContentRange(t *testing.T) {
	t.Parallel()
	if got := (byteRange{start: 10, length: 5}).contentRange(100); got != "bytes 10-14/100" {
		t.Fatalf("contentRange = %q", got)
	}
}

func TestParseCopyRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   string
		size     int64
		wantCode string
		start    int64
		length   int64
	}{
		{name: "valid", header: "bytes=0-9", size: 100, start: 0, length: 10},
		{name: "last byte", header: "bytes=99-99", size: 100, start: 99, length: 1},
		{name: "past end", header: "bytes=0-100", size: 100, wantCode: "InvalidRange"},
		{name: "open ended refused", header: "bytes=10-", size: 100, wantCode: "InvalidArgument"},
		{name: "suffix refused", header: "bytes=-10", size: 100, wantCode: "InvalidArgument"},
		{name: "reversed", header: "bytes=10-5", size: 100, wantCode: "InvalidArgument"},
		{name: "no unit", header: "0-5", size: 100, wantCode: "InvalidArgument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := parseCopyRange(tc.header, tc.size)
			if tc.wantCode != "" {
				if err == nil || errorResponse(err).Code != tc.wantCode {
					t.Fatalf("parseCopyRange(%q) error = %v, want %s", tc.header, err, tc.wantCode)
				}
				return
			}
			if err != nil || r.start != tc.start || r.length != tc.length {
				t.Fatalf("parseCopyRange(%q) = %+v, %v", tc.header, r, err)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=9-5", "bytes=0-1,2-3", "bytes=-0", ""} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, res := parseRange(header, size)
		if res == rangePartial {
			if r.start < 0 || r.length <= 0 || r.start+r.length > size || r.start+r.length < r.start {
				t.Fatalf("parseRange(%q, %d) = %+v: outside the object", header, size, r)
			}
		}
		if cr, err := parseCopyRange(header, size); err == nil {
			if cr.start < 0 || cr.length <= 0 || cr.start+cr.length > size {
				t.Fatalf("parseCopyRange(%q, %d) = %+v: outside the object", header, size, cr)
			}
		}
	})
}
