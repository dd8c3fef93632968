package layout

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxDrives is the largest number of drives one pattern or one pool argument
// may expand to. It guards against typos such as {1...100000}.
const MaxDrives = 10000

// maxDigits bounds the bounds of a range so that they always fit in an int.
const maxDigits = 18

// Expand expands the ellipsis ranges of one drive pattern.
//
// A range is written {first...last} with decimal bounds, first ≤ last. When a
// bound has a leading zero ({01...16}) the numbers keep that width, and both
// bounds must then have the same number of digits. Several ranges expand as a
// cartesian product in order, the first range varying slowest:
//
//	/mnt/n{1...2}/d{1...3} → /mnt/n1/d1, /mnt/n1/d2, /mnt/n1/d3, /mnt/n2/d1, …
//
// Expansion is textual, so URL endpoints work the same way
// (http://127.0.0.1:900{1...4}/srv/d{1...4}). Braces are only allowed as part
// of a range. A pattern without ranges expands to itself.
//
// Errors wrap ErrBadPattern (malformed, descending, or more than MaxDrives
// results) or ErrDuplicateDrive (two results name the same drive, e.g.
// d{1...11}{1...11} gives d111 twice).
func Expand(arg string) ([]string, error) {
	out, err := expand(arg)
	if err != nil {
		return nil, err
	}
	if err := checkDuplicates(out, make([]int, len(out)), []string{arg}); err != nil {
		return nil, err
	}
	return out, nil
}

// ExpandPool expands one pool argument: one or more patterns separated by
// commas ("/a/d{1...4},/b/d{1...4}"). Only top-level commas separate
// patterns; a comma inside braces is a malformed range. The expansions are
// concatenated in order. The whole pool may not exceed MaxDrives drives or
// name a drive twice.
func ExpandPool(arg string) ([]string, error) {
	patterns, err := splitPool(arg)
	if err != nil {
		return nil, err
	}
	var (
		out []string
		src []int // out[i] came from patterns[src[i]]
	)
	for pi, p := range patterns {
		drives, err := expand(p)
		if err != nil {
			return nil, err
		}
		if len(out)+len(drives) > MaxDrives {
			return nil, fmt.Errorf("%w: pool %q expands to more than %d drives", ErrBadPattern, arg, MaxDrives)
		}
		out = append(out, drives...)
		for range drives {
			src = append(src, pi)
		}
	}
	if err := checkDuplicates(out, src, patterns); err != nil {
		return nil, err
	}
	return out, nil
}

// splitPool splits a pool argument at its top-level commas.
func splitPool(arg string) ([]string, error) {
	if strings.TrimSpace(arg) == "" {
		return nil, fmt.Errorf("%w: empty pool argument", ErrBadPattern)
	}
	var (
		parts []string
		depth int
		start int
	)
	for i := 0; i < len(arg); i++ {
		switch arg[i] {
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				parts = append(parts, arg[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, arg[start:])
	for i, p := range parts {
		if strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("%w: pool %q: pattern %d of %d is empty (stray comma?)", ErrBadPattern, arg, i+1, len(parts))
		}
	}
	return parts, nil
}

// segment is one piece of a parsed pattern: literal text, or a range when
// count > 0.
type segment struct {
	text  string // literal text (count == 0)
	first int    // first value of the range
	count int    // number of values; 0 for a literal
	width int    // zero-padded width; 0 when not padded
}

// expand parses and expands one pattern, without the duplicate check.
func expand(arg string) ([]string, error) {
	segs, total, err := parse(arg)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, total)
	idx := make([]int, len(segs)) // odometer over the ranges
	var b strings.Builder
	for {
		b.Reset()
		for i, s := range segs {
			if s.count == 0 {
				b.WriteString(s.text)
				continue
			}
			n := strconv.Itoa(s.first + idx[i])
			for pad := s.width - len(n); pad > 0; pad-- {
				b.WriteByte('0')
			}
			b.WriteString(n)
		}
		out = append(out, b.String())
		// Advance the odometer: the last range varies fastest.
		i := len(segs) - 1
		for ; i >= 0; i-- {
			if segs[i].count == 0 {
				continue
			}
			idx[i]++
			if idx[i] < segs[i].count {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// parse splits a pattern into segments and returns how many drives it
// expands to.
func parse(arg string) ([]segment, int, error) {
	if strings.TrimSpace(arg) == "" {
		return nil, 0, fmt.Errorf("%w: empty drive argument", ErrBadPattern)
	}
	var segs []segment
	total := 1
	rest, pos := arg, 0
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			segs = append(segs, segment{text: rest})
			break
		}
		if i > 0 {
			segs = append(segs, segment{text: rest[:i]})
		}
		if rest[i] == '}' {
			return nil, 0, patternErr(arg, pos+i, "'}' without a matching '{'")
		}
		j := strings.IndexAny(rest[i+1:], "{}")
		if j < 0 {
			return nil, 0, patternErr(arg, pos+i, "'{' is never closed")
		}
		j += i + 1
		if rest[j] == '{' {
			return nil, 0, patternErr(arg, pos+j, "ranges cannot be nested")
		}
		seg, err := parseRange(rest[i+1 : j])
		if err != nil {
			return nil, 0, patternErr(arg, pos+i, fmt.Sprintf("%q %s", rest[i:j+1], err))
		}
		segs = append(segs, seg)
		total *= seg.count // both factors ≤ MaxDrives: cannot overflow
		if total > MaxDrives {
			return nil, 0, fmt.Errorf("%w: %q expands to more than %d drives", ErrBadPattern, arg, MaxDrives)
		}
		pos += j + 1
		rest = rest[j+1:]
	}
	return segs, total, nil
}

// rangeError is the reason a range body is rejected; parse adds the context.
type rangeError string

func (e rangeError) Error() string { return string(e) }

// parseRange parses the body of {first...last}.
func parseRange(body string) (segment, error) {
	lo, hi, ok := strings.Cut(body, "...")
	if !ok {
		return segment{}, rangeError("is not a range; write {first...last} with three dots, e.g. {1...4}")
	}
	for _, b := range []string{lo, hi} {
		if b == "" || len(b) > maxDigits || strings.Trim(b, "0123456789") != "" {
			return segment{}, rangeError(fmt.Sprintf("has bound %q; bounds must be decimal numbers of 1 to %d digits", b, maxDigits))
		}
	}
	first, _ := strconv.Atoi(lo) // cannot fail: ≤ 18 digits
	last, _ := strconv.Atoi(hi)
	if last < first {
		return segment{}, rangeError(fmt.Sprintf("counts down; write {%s...%s}", hi, lo))
	}
	if last-first >= MaxDrives {
		return segment{}, rangeError(fmt.Sprintf("has %d values, more than %d drives", last-first+1, MaxDrives))
	}
	seg := segment{first: first, count: last - first + 1}
	if padded(lo) || padded(hi) {
		if len(lo) != len(hi) {
			return segment{}, rangeError("is zero-padded, so both bounds must have the same number of digits")
		}
		seg.width = len(lo)
	}
	return seg, nil
}

func padded(n string) bool { return len(n) > 1 && n[0] == '0' }

func patternErr(arg string, pos int, msg string) error {
	return fmt.Errorf("%w: %q at byte %d: %s", ErrBadPattern, arg, pos, msg)
}

// checkDuplicates reports the first two drives that name the same drive;
// drives[i] came from patterns[src[i]].
func checkDuplicates(drives []string, src []int, patterns []string) error {
	seen := make(map[string]int, len(drives))
	for i, d := range drives {
		k := driveKey(d)
		j, dup := seen[k]
		if !dup {
			seen[k] = i
			continue
		}
		if src[i] != src[j] {
			return fmt.Errorf("%w: %q (from pattern %d, %q) and %q (from pattern %d, %q) name the same drive",
				ErrDuplicateDrive, drives[j], src[j]+1, patterns[src[j]], d, src[i]+1, patterns[src[i]])
		}
		p := patterns[src[i]]
		if drives[j] == d {
			return fmt.Errorf("%w: %q expands to %q twice (drives %d and %d)", ErrDuplicateDrive, p, d, j+1, i+1)
		}
		return fmt.Errorf("%w: %q expands to %q and %q, which name the same drive (drives %d and %d)", ErrDuplicateDrive, p, drives[j], d, j+1, i+1)
	}
	return nil
}

// driveKey normalises a drive for the duplicate check: local paths are
// cleaned ("./d1" and "d1/" are the same drive); for URL endpoints the scheme
// and host are case-insensitive and the path is cleaned.
func driveKey(d string) string {
	if strings.Contains(d, "://") {
		u, err := url.Parse(d)
		if err == nil && u.Host != "" {
			p := u.Path
			if p != "" {
				p = path.Clean(p)
			}
			return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + p
		}
		return d
	}
	return filepath.Clean(d)
}
