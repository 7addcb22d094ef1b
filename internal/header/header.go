// Package header holds what the three request builders (protocol/http1, protocol/h2,
// protocol/uwsgi) share about header fields: one table of the header names and methods
// clients send on nearly every request, so that naming them costs no allocation, and
// the parsing of comma-separated lists such as a Trailer declaration.
//
// Everything here is read-only after package initialisation and safe for concurrent use.
package header

import (
	"net/http"
	"net/textproto"
)

// common lists, in canonical form (net/textproto's), the header names interned by
// every protocol: the request headers browsers, proxies and API clients send, and the
// response headers handlers set (for HTTP/2's lower-casing).
var common = [...]string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
	"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Origin",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Access-Control-Request-Headers", "Access-Control-Request-Method",
	"Age", "Allow", "Authorization", "Cache-Control", "Connection",
	"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
	"Content-Location", "Content-Range", "Content-Type", "Cookie", "Date", "Dnt", "Etag",
	"Expect", "Expires", "Forwarded", "From", "Grpc-Encoding", "Grpc-Message",
	"Grpc-Status", "Grpc-Timeout", "Host", "Http2-Settings", "If-Match",
	"If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Keep-Alive",
	"Last-Modified", "Link", "Location", "Max-Forwards", "Origin", "Pragma", "Priority",
	"Proxy-Authenticate", "Proxy-Authorization", "Range", "Referer", "Refresh",
	"Retry-After", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform",
	"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User",
	"Sec-Websocket-Extensions", "Sec-Websocket-Key", "Sec-Websocket-Protocol",
	"Sec-Websocket-Version", "Server", "Set-Cookie", "Strict-Transport-Security", "Te",
	"Traceparent", "Trailer", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests",
	"User-Agent", "Vary", "Via", "Www-Authenticate", "X-Content-Type-Options",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
	"X-Frame-Options", "X-Real-Ip", "X-Request-Id", "X-Requested-With", "X-Xss-Protection",
}

// The lookup tables, all built from common: by the name as a client may spell it
// (canonical or lower case), by the CGI form of a uWSGI variable (USER_AGENT), and the
// lower-case form of a canonical name.
var (
	byName  = make(map[string]string, 3*len(common))
	byCGI   = make(map[string]string, len(common))
	toLower = make(map[string]string, len(common))
)

func init() {
	for _, k := range common {
		lower, cgi := []byte(k), []byte(k)
		for i, c := range lower {
			switch {
			case 'A' <= c && c <= 'Z':
				lower[i] = c + 'a' - 'A'
			case 'a' <= c && c <= 'z':
				cgi[i] = c - ('a' - 'A')
			case c == '-':
				cgi[i] = '_'
			}
		}
		byName[k] = k
		byName[string(lower)] = k
		byCGI[string(cgi)] = k
		toLower[k] = string(lower)
	}
	// Spellings common enough on the wire to deserve their own entry.
	byName["Sec-WebSocket-Key"] = "Sec-Websocket-Key"
	byName["Sec-WebSocket-Version"] = "Sec-Websocket-Version"
	byName["HTTP2-Settings"] = "Http2-Settings"
}

// Common returns the canonical form of a well-known header name spelled in canonical
// form or in lower case, without allocating; ok is false for any other name.
func Common(name []byte) (canonical string, ok bool) {
	canonical, ok = byName[string(name)]
	return canonical, ok
}

// CommonCGI returns the canonical header name of a uWSGI/CGI variable's suffix
// (USER_AGENT → User-Agent) for a well-known header, without allocating.
func CommonCGI(suffix []byte) (canonical string, ok bool) {
	canonical, ok = byCGI[string(suffix)]
	return canonical, ok
}

// CanonicalLower returns the canonical form of a lower-case name (as HTTP/2 carries
// them), from the table when it is well known.
func CanonicalLower(lower string) string {
	if k, ok := byName[lower]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(lower)
}

// Lower returns the lower-case form of a well-known canonical name without allocating.
func Lower(canonical string) (lower string, ok bool) {
	lower, ok = toLower[canonical]
	return lower, ok
}

// Method returns the string constant of a method net/http names (GET, POST, ...)
// without allocating; ok is false for any other method.
func Method(b []byte) (method string, ok bool) {
	for _, m := range methods {
		if string(b) == m {
			return m, true
		}
	}
	return "", false
}

// methods lists the methods net/http names, the most frequent first.
var methods = [...]string{
	http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodDelete,
	http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace,
}

// SplitList returns the elements of a comma-separated field value (RFC 9110 §5.6.1),
// each without surrounding whitespace; empty elements are left out.
func SplitList(v string) []string {
	var out []string
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if t := TrimOWS(v[:i]); t != "" {
			out = append(out, t)
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return out
}

// TrimOWS returns s without leading and trailing spaces and horizontal tabs.
func TrimOWS[T string | []byte](s T) T {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// DeclaredTrailers parses the values of a request's Trailer field into the map an
// http.Request carries before its body is read: every declared name, canonical, with
// a nil value (as net/http does). It returns nil when there is no Trailer field.
func DeclaredTrailers(values []string) http.Header {
	if len(values) == 0 {
		return nil
	}
	tr := make(http.Header)
	for _, v := range values {
		for _, k := range SplitList(v) {
			tr[http.CanonicalHeaderKey(k)] = nil
		}
	}
	return tr
}
