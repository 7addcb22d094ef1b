package uwsgi

// headerVarPrefix starts every variable that carries a client header.
const headerVarPrefix = "HTTP_"

// isTokenByte reports whether c may appear in an HTTP token (RFC 9110 tchar), the
// alphabet of header names and methods.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validToken reports whether b is a non-empty HTTP token.
func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenByte(c) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether b may be a header value: no control bytes other
// than horizontal tab, as net/http's server requires. Bytes ≥ 0x80 (obs-text) pass.
func validFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether b may be a Host value: the bytes net/http's server accepts
// in a Host header (reg-name, IP literal and port characters).
func validHost(b []byte) bool {
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		}
		switch c {
		case '!', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', ':', ';', '=',
			'[', ']', '_', '~':
			continue
		}
		return false
	}
	return true
}

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
