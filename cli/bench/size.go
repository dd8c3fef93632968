package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// errSize is wrapped by every ParseSize error.
var errSize = errors.New("bench: invalid size")

// ParseSize parses a byte count as given to --size. Accepted forms, with an
// optional space before the unit and units in any case:
//
//   - plain bytes: "4096", "4096B"
//   - binary units: "4KiB", "1MiB", "1GiB", "1TiB", and the one-letter forms
//     "4k", "1m", "1g", "1t" (powers of 1024)
//   - SI units: "4KB", "1MB", "1GB", "1TB" (powers of 1000)
//   - fractions that give whole bytes: "1.5MiB", "0.5k"
//
// It rejects empty input, negative numbers, unknown units, fractions of a
// byte and values that overflow int64. Zero parses; callers decide whether it
// is allowed.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := in, ""
	if i >= 0 {
		num, unit = in[:i], strings.TrimSpace(in[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("%w %q: want a number with an optional unit like 4KiB or 1m", errSize, s)
	}
	mult, ok := sizeUnit(unit)
	if !ok {
		return 0, fmt.Errorf("%w %q: unknown unit %q (use B, KiB, MiB, GiB, TiB, k, m, g, t, KB, MB, GB, TB)", errSize, s, unit)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("%w %q: out of range", errSize, s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: bad number %q", errSize, s, num)
	}
	v := f * float64(mult)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%w %q: out of range", errSize, s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%w %q: not a whole number of bytes", errSize, s)
	}
	return int64(v), nil
}

func sizeUnit(u string) (int64, bool) {
	switch strings.ToLower(u) {
	case "", "b":
		return 1, true
	case "k", "kib":
		return 1 << 10, true
	case "m", "mib":
		return 1 << 20, true
	case "g", "gib":
		return 1 << 30, true
	case "t", "tib":
		return 1 << 40, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}

// formatSize renders n in the largest binary unit that divides it exactly.
func formatSize(n int64) string {
	switch {
	case n == 0:
		return "0 B"
	case n%(1<<40) == 0:
		return strconv.FormatInt(n>>40, 10) + " TiB"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// formatBytes renders n approximately, for memory figures.
func formatBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// sizeFlag adapts ParseSize to flag.Value.
type sizeFlag struct{ p *int64 }

func (f sizeFlag) String() string {
	if f.p == nil {
		return ""
	}
	return formatSize(*f.p)
}

func (f sizeFlag) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*f.p = n
	return nil
}
