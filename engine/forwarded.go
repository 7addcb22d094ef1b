package engine

import (
	"crypto/tls"
	"net/http"
	"strings"
)

// Secure-scheme headers, as Gunicorn's secure_scheme_headers default: a request
// forwarded by a trusted proxy (--forwarded-allow-ips) carrying one of these is
// an https request. Handlers see that the way Go handlers usually check it,
// r.TLS != nil (an empty ConnectionState: there was no handshake here).
var secureSchemeHeaders = [...]struct{ name, value string }{
	{"X-Forwarded-Proto", "https"},
	{"X-Forwarded-Protocol", "ssl"},
	{"X-Forwarded-Ssl", "on"},
}

var forwardedTLS = &tls.ConnectionState{}

// applyForwarded marks r as https when a trusted proxy says so. Headers from
// peers that are not trusted change nothing.
func (c *conn) applyForwarded(r *http.Request) {
	if !c.trustedProxy {
		return
	}
	for _, h := range secureSchemeHeaders {
		if vs, ok := r.Header[h.name]; ok && len(vs) > 0 && strings.EqualFold(strings.TrimSpace(vs[0]), h.value) {
			r.TLS = forwardedTLS
			return
		}
	}
}
