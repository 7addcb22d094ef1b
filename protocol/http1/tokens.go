package http1

// Byte classes of RFC 9110 §5.6 and RFC 3986, one bit each in byteClass.
const (
	classToken  uint8 = 1 << iota // tchar: a byte of a token (method, field-name, coding)
	classValue                    // field-vchar, SP or HTAB: a byte allowed in a field value
	classTarget                   // a byte allowed in a request-target: VCHAR or obs-text
	classHost                     // a byte allowed in a Host value (as net/http accepts)
	classHex                      // HEXDIG
)

// byteClass maps every byte to the classes it belongs to.
var byteClass = buildByteClass()

func buildByteClass() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		isAlpha := (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
		isDigit := b >= '0' && b <= '9'
		if isAlpha || isDigit || containsByte("!#$%&'*+-.^_`|~", b) {
			t[c] |= classToken
		}
		if b == '\t' || (b >= 0x20 && b != 0x7f) {
			t[c] |= classValue
		}
		if b > 0x20 && b != 0x7f {
			t[c] |= classTarget
		}
		if isAlpha || isDigit || containsByte("!$%&'()*+,-.:;=[]_~", b) {
			t[c] |= classHost
		}
		if isDigit || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			t[c] |= classHex
		}
	}
	return t
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// IsToken reports whether b is a non-empty RFC 9110 token (a valid method or field name).
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if byteClass[c]&classToken == 0 {
			return false
		}
	}
	return true
}

// isTokenString is IsToken for a string, so callers need not convert.
func isTokenString(s string) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if byteClass[s[i]]&classToken == 0 {
			return false
		}
	}
	return true
}

// allOfClass reports whether every byte of b belongs to class.
func allOfClass(b []byte, class uint8) bool {
	for _, c := range b {
		if byteClass[c]&class == 0 {
			return false
		}
	}
	return true
}

// isOWS reports whether c is optional whitespace (SP or HTAB).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS returns b without leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && isOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// trimOWSString is trimOWS for a string.
func trimOWSString(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// lowerASCII returns c lower-cased when it is an ASCII upper-case letter.
func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// equalFold reports whether b equals the lower-case ASCII string lower, ignoring ASCII case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lowerASCII(b[i]) != lower[i] {
			return false
		}
	}
	return true
}

// nextListElement splits the first element off a comma-separated field value
// (RFC 9110 §5.6.1): it returns the element trimmed of OWS, the rest after the comma,
// and more=false when this was the last element. Empty elements come back empty;
// callers decide whether to skip them.
func nextListElement(list []byte) (elem, rest []byte, more bool) {
	for i, c := range list {
		if c == ',' {
			return trimOWS(list[:i]), list[i+1:], true
		}
	}
	return trimOWS(list), nil, false
}
