package engine

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gonicorn/gonicorn/internal/allow"
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

// applyForwarded marks r as https when a trusted proxy says so and, with
// Options.ForwardedForRemoteAddr, takes r.RemoteAddr from its X-Forwarded-For.
// Headers from peers that are not trusted change nothing.
func (c *conn) applyForwarded(r *http.Request) {
	if !c.trustedProxy {
		return
	}
	if c.srv.cfg.ForwardedForRemoteAddr {
		if a, ok := clientFromForwardedFor(r.Header["X-Forwarded-For"], c.srv.forwardedAllow); ok {
			r.RemoteAddr = netip.AddrPortFrom(a, 0).String()
		}
	}
	for _, h := range secureSchemeHeaders {
		if vs, ok := r.Header[h.name]; ok && len(vs) > 0 && strings.EqualFold(strings.TrimSpace(vs[0]), h.value) {
			r.TLS = forwardedTLS
			return
		}
	}
}

// clientFromForwardedFor returns the client X-Forwarded-For names, reading the
// hops from the right (the proxy nearest to gonicorn appends last): the first hop
// that is not itself a trusted proxy, or the leftmost when all are. A hop that is
// not an address (a name, "unknown", garbage) ends the walk without a result: the
// connection's peer stands. Its port is unknown: RemoteAddr gets port 0.
func clientFromForwardedFor(vals []string, trusted *allow.List) (netip.Addr, bool) {
	var hops []string
	for _, v := range vals {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return netip.Addr{}, false
		}
		if i > 0 && trusted.AllowIP(a) {
			continue
		}
		return a, true
	}
	return netip.Addr{}, false
}

// parseHop reads one X-Forwarded-For entry: an IP, or IP:port / [IPv6]:port.
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
