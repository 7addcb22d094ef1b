package http1

import "github.com/gonicorn/gonicorn/internal/header"

// The byte classes of RFC 9110 §5.6 and RFC 3986, shared with the other protocols.
const (
	classToken  = header.ClassToken
	classValue  = header.ClassValue
	classTarget = header.ClassTarget
	classHost   = header.ClassHost
	classHex    = header.ClassHex
)

// byteClass is this package's copy of header.ByteClass, for the parser's loops.
var byteClass = header.ByteClass

// IsToken reports whether b is a non-empty RFC 9110 token (a valid method or field name).
func IsToken(b []byte) bool { return header.IsToken(b) }

// isTokenString is IsToken for a string, so callers need not convert.
func isTokenString(s string) bool { return header.IsToken(s) }

// allOfClass reports whether every byte of b belongs to class.
func allOfClass(b []byte, class uint8) bool { return header.AllOf(b, class) }

// isOWS reports whether c is optional whitespace (SP or HTAB).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS returns b without leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte { return header.TrimOWS(b) }

// trimOWSString is trimOWS for a string.
func trimOWSString(s string) string { return header.TrimOWS(s) }

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
