package h2

// tokenTable marks the bytes of an RFC 9110 token (tchar).
var tokenTable = [256]bool{}

// hostTable marks the bytes allowed in an authority: RFC 3986 reg-name, IP literals and
// port, plus percent-encoding.
var hostTable = [256]bool{}

func init() {
	for c := '0'; c <= '9'; c++ {
		tokenTable[c], hostTable[c] = true, true
	}
	for c := 'a'; c <= 'z'; c++ {
		tokenTable[c], hostTable[c] = true, true
		tokenTable[c-'a'+'A'], hostTable[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tokenTable[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%@" {
		hostTable[c] = true
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

// validFieldValue rejects control characters other than horizontal tab, which covers
// RFC 9113 §8.2.1 (NUL, CR and LF are malformed) and RFC 9110 §5.5.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func validAuthority(a string) bool {
	for i := 0; i < len(a); i++ {
		if !hostTable[a[i]] {
			return false
		}
	}
	return true
}
