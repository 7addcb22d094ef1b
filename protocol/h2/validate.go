package h2

// hostTable marks the bytes allowed in an authority: RFC 3986 reg-name, IP literals and
// port, plus percent-encoding.
var hostTable = [256]bool{}

func init() {
	for c := '0'; c <= '9'; c++ {
		hostTable[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		hostTable[c] = true
		hostTable[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%@" {
		hostTable[c] = true
	}
}

func validAuthority(a string) bool {
	for i := 0; i < len(a); i++ {
		if !hostTable[a[i]] {
			return false
		}
	}
	return true
}
