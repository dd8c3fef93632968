package layout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func seq(format string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want []string
	}{
		{"no range", "/data", []string{"/data"}},
		{"simple", "./data/d{1...6}", seq("./data/d%d", 1, 6)},
		{"single value", "/d{3...3}", []string{"/d3"}},
		{"range only", "{1...3}", []string{"1", "2", "3"}},
		{"zero-padded", "d{01...16}", seq("d%02d", 1, 16)},
		{"zero-padded from zero", "d{000...002}", []string{"d000", "d001", "d002"}},
		{"unpadded from zero", "d{0...10}", seq("d%d", 0, 10)},
		{"unpadded crosses width", "d{8...11}", []string{"d8", "d9", "d10", "d11"}},
		{"cartesian in order", "/mnt/n{1...2}/d{1...3}", []string{
			"/mnt/n1/d1", "/mnt/n1/d2", "/mnt/n1/d3",
			"/mnt/n2/d1", "/mnt/n2/d2", "/mnt/n2/d3",
		}},
		{"three ranges", "/{1...2}/{1...2}/{1...2}", []string{
			"/1/1/1", "/1/1/2", "/1/2/1", "/1/2/2", "/2/1/1", "/2/1/2", "/2/2/1", "/2/2/2",
		}},
		{"url endpoints", "http://127.0.0.1:900{1...2}/srv/d{1...2}", []string{
			"http://127.0.0.1:9001/srv/d1", "http://127.0.0.1:9001/srv/d2",
			"http://127.0.0.1:9002/srv/d1", "http://127.0.0.1:9002/srv/d2",
		}},
		{"adjacent ranges", "d{1...2}{5...6}", []string{"d15", "d16", "d25", "d26"}},
		{"exactly the limit", "d{1...100}x{1...100}", nil}, // checked by length below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.arg)
			if err != nil {
				t.Fatalf("Expand(%q): %v", tt.arg, err)
			}
			if tt.want == nil {
				if len(got) != MaxDrives {
					t.Fatalf("Expand(%q) gave %d drives, want %d", tt.arg, len(got), MaxDrives)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Expand(%q) =\n%q\nwant\n%q", tt.arg, got, tt.want)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		name    string
		arg     string
		wantErr error
		msg     string // substring of the message
	}{
		{"empty", "", ErrBadPattern, "empty"},
		{"blank", "   ", ErrBadPattern, "empty"},
		{"two dots", "/d{1..4}", ErrBadPattern, "three dots"},
		{"four dots", "/d{1....4}", ErrBadPattern, `bound ".4"`},
		{"descending", "/d{6...1}", ErrBadPattern, "counts down; write {1...6}"},
		{"letters", "/d{a...f}", ErrBadPattern, "decimal"},
		{"negative", "/d{-1...3}", ErrBadPattern, "decimal"},
		{"missing low", "/d{...3}", ErrBadPattern, "decimal"},
		{"missing high", "/d{1...}", ErrBadPattern, "decimal"},
		{"empty braces", "/d{}", ErrBadPattern, "not a range"},
		{"unclosed", "/d{1...4", ErrBadPattern, "never closed"},
		{"stray close", "/d1...4}", ErrBadPattern, "without a matching"},
		{"nested", "/d{1...{2...3}}", ErrBadPattern, "nested"},
		{"comma list", "/d{1,2}", ErrBadPattern, "not a range"},
		{"spaces", "/d{1 ... 4}", ErrBadPattern, "decimal"},
		{"huge range", "/d{1...10001}", ErrBadPattern, "more than 10000"},
		{"huge product", "/n{1...200}/d{1...51}", ErrBadPattern, "more than 10000"},
		{"huge bounds", "/d{1...9999999999999999999}", ErrBadPattern, "1 to 18 digits"},
		{"padding width mismatch", "/d{01...100}", ErrBadPattern, "same number of digits"},
		{"padded high only", "/d{1...016}", ErrBadPattern, "same number of digits"},
		{"duplicate result", "/d{1...11}{1...11}", ErrDuplicateDrive, `"/d111"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.arg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Expand(%q) = %q, %v; want error %v", tt.arg, got, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Expand(%q) error %q does not contain %q", tt.arg, err, tt.msg)
			}
			if tt.arg != "" && strings.TrimSpace(tt.arg) != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.arg)) {
				t.Errorf("Expand(%q) error %q does not name the argument", tt.arg, err)
			}
		})
	}
}

func TestExpandPool(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want []string
	}{
		{"one pattern", "/d{1...3}", []string{"/d1", "/d2", "/d3"}},
		{"two patterns", "/a/d{1...2},/b/d{1...2}", []string{"/a/d1", "/a/d2", "/b/d1", "/b/d2"}},
		{"plain list", "/a,/b,/c", []string{"/a", "/b", "/c"}},
		{"urls", "http://h{1...2}:9000/d{1...2},http://h3:9000/d{1...2}", []string{
			"http://h1:9000/d1", "http://h1:9000/d2", "http://h2:9000/d1", "http://h2:9000/d2",
			"http://h3:9000/d1", "http://h3:9000/d2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandPool(tt.arg)
			if err != nil {
				t.Fatalf("ExpandPool(%q): %v", tt.arg, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ExpandPool(%q) = %q, want %q", tt.arg, got, tt.want)
			}
		})
	}
}

func TestExpandPoolErrors(t *testing.T) {
	tests := []struct {
		name    string
		arg     string
		wantErr error
		msg     string
	}{
		{"empty", "", ErrBadPattern, "empty pool"},
		{"trailing comma", "/a/d{1...2},", ErrBadPattern, "pattern 2 of 2 is empty"},
		{"leading comma", ",/a", ErrBadPattern, "pattern 1 of 2 is empty"},
		{"comma inside braces", "/d{1,2...3}", ErrBadPattern, "decimal"},
		{"bad second pattern", "/a/d{1...2},/b/d{2...1}", ErrBadPattern, `"/b/d{2...1}"`},
		{"overlap between patterns", "/a/d{1...4},/a/d{4...6}", ErrDuplicateDrive, `"/a/d4" (from pattern 1, "/a/d{1...4}") and "/a/d4" (from pattern 2, "/a/d{4...6}")`},
		{"same drive spelled twice", "/a/d1,/a/./d1/", ErrDuplicateDrive, "name the same drive"},
		{"same path twice", "/a,/a", ErrDuplicateDrive, `"/a" (from pattern 1, "/a") and "/a" (from pattern 2, "/a")`},
		{"same url, host case", "http://H1:9000/d1,http://h1:9000/d1", ErrDuplicateDrive, "same drive"},
		{"pool over the limit", "/a/d{1...6000},/b/d{1...6000}", ErrBadPattern, "more than 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandPool(tt.arg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ExpandPool(%q) = %q, %v; want error %v", tt.arg, got, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ExpandPool(%q) error %q does not contain %q", tt.arg, err, tt.msg)
			}
		})
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"./data/d{1...6}", "/mnt/n{1...2}/d{1...3}", "d{01...16}",
		"http://127.0.0.1:900{1...4}/srv/d{1...4}", "/a,/b", "/d{1..4}", "{", "}",
		"/d{6...1}", "/d{1...99999}", "{0...9}{0...9}{0...9}{0...9}", "/d{1...11}{1...11}",
		"/a/d{1...2},/b/d{1...2}", "{1,2}", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		for _, fn := range []func(string) ([]string, error){Expand, ExpandPool} {
			got, err := fn(arg)
			if err != nil {
				if got != nil {
					t.Fatalf("%q: results %q returned with error %v", arg, got, err)
				}
				if !errors.Is(err, ErrBadPattern) && !errors.Is(err, ErrDuplicateDrive) {
					t.Fatalf("%q: error %v wraps no sentinel", arg, err)
				}
				continue
			}
			if len(got) == 0 || len(got) > MaxDrives {
				t.Fatalf("%q: %d results", arg, len(got))
			}
			seen := make(map[string]bool, len(got))
			for _, d := range got {
				if strings.ContainsAny(d, "{}") {
					t.Fatalf("%q: result %q still has braces", arg, d)
				}
				if strings.TrimSpace(d) == "" {
					t.Fatalf("%q: empty result", arg)
				}
				if seen[driveKey(d)] {
					t.Fatalf("%q: duplicate result %q", arg, d)
				}
				seen[driveKey(d)] = true
			}
			if !strings.ContainsAny(arg, "{},") && !slices.Equal(got, []string{arg}) {
				t.Fatalf("%q without ranges expanded to %q", arg, got)
			}
		}
	})
}
