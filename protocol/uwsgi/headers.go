package uwsgi

// headerVarPrefix starts every variable that carries a client header.
const headerVarPrefix = "HTTP_"

// appendCanonicalHeaderName appends the canonical header name of a header variable's
// suffix (USER_AGENT → User-Agent): underscores become hyphens, the first letter and
// every letter after a hyphen are upper case, other letters lower case. The suffix
// must already be known to hold only token bytes.
func appendCanonicalHeaderName(dst, suffix []byte) []byte {
	upper := true
	for _, c := range suffix {
		if c == '_' {
			c = '-'
		}
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}
