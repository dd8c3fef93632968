package bench

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{name: "plain bytes", in: "4096", want: 4096},
		{name: "bytes unit", in: "4096B", want: 4096},
		{name: "zero", in: "0", want: 0},
		{name: "KiB", in: "4KiB", want: 4 << 10},
		{name: "64KiB", in: "64KiB", want: 64 << 10},
		{name: "MiB", in: "1MiB", want: 1 << 20},
		{name: "GiB", in: "2GiB", want: 2 << 30},
		{name: "TiB", in: "1TiB", want: 1 << 40},
		{name: "one-letter m", in: "1m", want: 1 << 20},
		{name: "one-letter K upper", in: "4K", want: 4 << 10},
		{name: "one-letter g", in: "1g", want: 1 << 30},
		{name: "lower case kib", in: "8kib", want: 8 << 10},
		{name: "SI KB", in: "4KB", want: 4000},
		{name: "SI MB", in: "1MB", want: 1000000},
		{name: "SI GB", in: "1GB", want: 1000000000},
		{name: "space before unit", in: "16 MiB", want: 16 << 20},
		{name: "surrounding space", in: "  1m ", want: 1 << 20},
		{name: "fraction", in: "1.5MiB", want: 3 << 19},
		{name: "fraction k", in: "0.5k", want: 512},
		{name: "largest", in: "9223372036854775807", want: 1<<63 - 1},
		{name: "empty", in: "", wantErr: true},
		{name: "only unit", in: "MiB", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "unknown unit", in: "4XB", wantErr: true},
		{name: "trailing junk", in: "4MiBx", wantErr: true},
		{name: "fraction of a byte", in: "1.5", wantErr: true},
		{name: "fraction of a byte with unit", in: "0.1k", wantErr: true},
		{name: "two dots", in: "1.2.3m", wantErr: true},
		{name: "lone dot", in: ".", wantErr: true},
		{name: "overflow", in: "9223372036854775808", wantErr: true},
		{name: "overflow with unit", in: "9007199254740992TiB", wantErr: true},
		{name: "overflow fraction", in: "8388608.5TiB", wantErr: true},
		{name: "exponent", in: "1e6", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSize(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseSize(%q) = %d, want an error", tc.in, got)
				}
				if !errors.Is(err, errSize) {
					t.Errorf("ParseSize(%q) error %v does not wrap errSize", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestFormatSizeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, 1, 1000, 4 << 10, 1 << 20, 3 << 19, 5 << 30, 2 << 40} {
		s := formatSize(n)
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(formatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4096", "4KiB", "1m", "1.5MiB", "4KB", " 2 g", "-1", "1e6", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, n)
		}
		// Whatever parses must survive formatting and parsing again.
		if m, err := ParseSize(formatSize(n)); err != nil || m != n {
			t.Fatalf("ParseSize(%q) = %d, but its formatting %q parses to %d, %v", s, n, formatSize(n), m, err)
		}
	})
}
