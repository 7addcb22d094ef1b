package header

// Byte classes of RFC 9110 §5.6 and RFC 3986, one bit each in ByteClass.
const (
	ClassToken  uint8 = 1 << iota // tchar: a byte of a token (method, field-name, coding)
	ClassValue                    // field-vchar, SP or HTAB: a byte allowed in a field value
	ClassTarget                   // a byte allowed in a request-target: VCHAR or obs-text
	ClassHost                     // a byte allowed in a Host value (as net/http accepts)
	ClassHex                      // HEXDIG
)

// ByteClass maps every byte to the classes it belongs to. It is built once and
// only read afterwards.
var ByteClass = buildByteClass()

func buildByteClass() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		isAlpha := (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
		isDigit := b >= '0' && b <= '9'
		if isAlpha || isDigit || containsByte("!#$%&'*+-.^_`|~", b) {
			t[c] |= ClassToken
		}
		if b == '\t' || (b >= 0x20 && b != 0x7f) {
			t[c] |= ClassValue
		}
		if b > 0x20 && b != 0x7f {
			t[c] |= ClassTarget
		}
		if isAlpha || isDigit || containsByte("!$%&'()*+,-.:;=[]_~", b) {
			t[c] |= ClassHost
		}
		if isDigit || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			t[c] |= ClassHex
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

// AllOf reports whether every byte of b belongs to class (true for an empty b).
func AllOf[T string | []byte](b T, class uint8) bool {
	for i := 0; i < len(b); i++ {
		if ByteClass[b[i]]&class == 0 {
			return false
		}
	}
	return true
}

// IsToken reports whether b is a non-empty RFC 9110 token: a valid method or
// field name.
func IsToken[T string | []byte](b T) bool { return len(b) > 0 && AllOf(b, ClassToken) }

// IsFieldValue reports whether b may be a field value: no control byte other than
// HTAB (obs-text, bytes ≥ 0x80, passes), as net/http's server requires.
func IsFieldValue[T string | []byte](b T) bool { return AllOf(b, ClassValue) }
