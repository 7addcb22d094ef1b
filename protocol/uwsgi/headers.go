package uwsgi

// headerVarPrefix starts every variable that carries a client header.
const headerVarPrefix = "HTTP_"

// commonHeaderNames maps the part of a header variable after "HTTP_" to its canonical
// header name, for the headers browsers and proxies send on nearly every request, so
// their names cost no allocation. The map is built once and only read afterwards.
var commonHeaderNames = func() map[string]string {
	suffixes := []string{
		"ACCEPT", "ACCEPT_CHARSET", "ACCEPT_ENCODING", "ACCEPT_LANGUAGE", "AUTHORIZATION",
		"CACHE_CONTROL", "CONNECTION", "CONTENT_ENCODING", "COOKIE", "DNT", "EXPECT",
		"FORWARDED", "IF_MATCH", "IF_MODIFIED_SINCE", "IF_NONE_MATCH", "IF_RANGE",
		"IF_UNMODIFIED_SINCE", "KEEP_ALIVE", "ORIGIN", "PRAGMA", "PRIORITY", "RANGE",
		"REFERER", "SEC_CH_UA", "SEC_CH_UA_MOBILE", "SEC_CH_UA_PLATFORM", "SEC_FETCH_DEST",
		"SEC_FETCH_MODE", "SEC_FETCH_SITE", "SEC_FETCH_USER", "SEC_WEBSOCKET_KEY",
		"SEC_WEBSOCKET_VERSION", "TE", "TRACEPARENT", "UPGRADE",
		"UPGRADE_INSECURE_REQUESTS", "USER_AGENT", "VIA", "X_FORWARDED_FOR",
		"X_FORWARDED_HOST", "X_FORWARDED_PORT", "X_FORWARDED_PROTO", "X_REAL_IP",
		"X_REQUEST_ID", "X_REQUESTED_WITH",
	}
	m := make(map[string]string, len(suffixes))
	for _, s := range suffixes {
		m[s] = string(appendCanonicalHeaderName(nil, []byte(s)))
	}
	return m
}()

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
