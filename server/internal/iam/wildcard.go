package iam

import "unicode/utf8"

// matchWildcard reports whether s matches pattern, in which '*' matches any run
// of characters (none included) and '?' exactly one character; everything else
// matches itself, case-sensitively. It runs in O(len(pattern)·len(s)) at worst
// and allocates nothing. The private-use runes quotedStar and quotedQuestion in
// pattern match a literal '*' and '?'.
func matchWildcard(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p+2 < len(pattern) && pattern[p] == 0xEE && (pattern[p:p+3] == quotedStar || pattern[p:p+3] == quotedQuestion):
			// An escaped '*' or '?' (see substitute) matches only itself.
			want := byte('*')
			if pattern[p:p+3] == quotedQuestion {
				want = '?'
			}
			if s[i] == want {
				i++
				p += 3
			} else if star >= 0 {
				_, n := utf8.DecodeRuneInString(s[mark:])
				mark += n
				i = mark
				p = star + 1
			} else {
				return false
			}
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == '?':
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			i++
			p++
		case star >= 0:
			// Let the last star absorb one more character and retry.
			_, n := utf8.DecodeRuneInString(s[mark:])
			mark += n
			i = mark
			p = star + 1
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// hasWildcard reports whether s contains '*' or '?'.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}
