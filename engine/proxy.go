package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/panjf2000/gnet/v2"

	"github.com/gonicorn/gonicorn/internal/allow"
	"github.com/gonicorn/gonicorn/protocol/proxyproto"
)

// The PROXY protocol (--proxy-protocol, --proxy-allow-from) is one step at the
// start of a TCP connection, before any protocol: the load balancer's header is
// taken off the inbound buffer and its client address becomes the connection's
// (r.RemoteAddr, the access log's %(h)s). The wait for it is the head's wait,
// bounded by --header-timeout. Peers outside the allow-list may not send one.

// proxyWait is what a connection's first bytes must be.
type proxyWait uint8

const (
	proxyNone     proxyWait = iota // nothing (off, a unix socket, or the header is done)
	proxyRequired                  // a header of the configured version, from an allowed peer
	proxyOptional                  // auto, from an allowed peer: a header of either version, or none
	proxyRefused                   // a peer not allowed: a header is refused, anything else served
)

// proxySettings is the server's PROXY protocol configuration.
type proxySettings struct {
	on      bool
	auto    bool
	version proxyproto.Version
	allow   *allow.List
}

func newProxySettings(cfg *Options) (proxySettings, error) {
	var p proxySettings
	switch cfg.ProxyProtocol {
	case "", "off":
		return p, nil
	case "v1":
		p.version = proxyproto.V1
	case "v2":
		p.version = proxyproto.V2
	case "auto":
		p.auto = true
	default:
		return p, fmt.Errorf("engine: --proxy-protocol %q: must be off, v1, v2 or auto", cfg.ProxyProtocol)
	}
	al, err := allow.Parse(cfg.ProxyAllowFrom)
	if err != nil {
		return p, fmt.Errorf("engine: --proxy-allow-from: %w", err)
	}
	p.on, p.allow = true, al
	return p, nil
}

// waitFor decides what a new connection from peer on a listener at local must
// start with.
func (p *proxySettings) waitFor(local, peer net.Addr) proxyWait {
	if !p.on {
		return proxyNone
	}
	if _, tcp := local.(*net.TCPAddr); !tcp {
		return proxyNone
	}
	switch {
	case !p.allow.AllowAddr(peer):
		return proxyRefused
	case p.auto:
		return proxyOptional
	}
	return proxyRequired
}

// readProxyHeader runs on the loop before anything else is read. done is false
// while the connection still waits for its header (or is being closed with act).
func (c *conn) readProxyHeader() (act gnet.Action, done bool) {
	n := c.gc.InboundBuffered()
	if n == 0 {
		return gnet.None, false
	}
	b, _ := c.gc.Peek(min(n, proxyproto.MaxV2Length))
	if c.proxy == proxyRefused || c.proxy == proxyOptional {
		v, need := proxyproto.Detect(b)
		switch {
		case need:
			return gnet.None, false
		case v != 0 && c.proxy == proxyRefused:
			c.srv.log.Warn().Str("peer", c.remoteAddr).Str("listener", c.ln.Spec).Str("version", v.String()).
				Msg("PROXY header from a peer not in --proxy-allow-from: connection refused")
			return gnet.Close, false
		case v == 0:
			c.proxy = proxyNone // no header: served as it is
			return gnet.None, true
		}
	}
	want := c.srv.proxy.version
	if c.proxy == proxyOptional {
		want = proxyproto.Any
	}
	h, size, err := proxyproto.Parse(b, want)
	switch {
	case errors.Is(err, proxyproto.ErrNeedMore):
		return gnet.None, false
	case err != nil:
		c.srv.log.Warn().Str("peer", c.remoteAddr).Str("listener", c.ln.Spec).Err(err).
			Msg("bad or missing PROXY header (--proxy-protocol): connection closed")
		return gnet.Close, false
	}
	_, _ = c.gc.Discard(size)
	if h.Proxied {
		c.remoteAddr = netip.AddrPortFrom(h.Source.Addr().Unmap(), h.Source.Port()).String()
	}
	c.proxy = proxyNone
	c.setTimeout(c.srv.cfg.KeepAlive + c.srv.cfg.HeaderTimeout)
	return gnet.None, true
}

// proxyExpired answers a connection whose PROXY header did not come within
// --header-timeout.
func (c *conn) proxyExpired() gnet.Action {
	c.srv.log.Info().Str("peer", c.remoteAddr).Str("listener", c.ln.Spec).
		Msg("PROXY header not received in time (--header-timeout): connection closed")
	return gnet.Close
}
