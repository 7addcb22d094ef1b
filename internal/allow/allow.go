// Package allow decides whether a peer may talk to gonicorn: it holds a set of IP
// addresses, CIDR ranges or "*" (everyone), as given by --uwsgi-allow-from and
// --forwarded-allow-ips, and answers membership questions without allocating.
//
// It never resolves host names and never performs I/O: entries are literal addresses.
package allow

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// List is a set of allowed peers: IPs, CIDR ranges, or "*" (all).
// A List is immutable after Parse and safe for concurrent use.
type List struct {
	all      bool
	addrs    []netip.Addr
	prefixes []netip.Prefix
	entries  []string
}

// Parse builds a List from entries such as "127.0.0.1", "::1", "10.0.0.0/8" or "*".
// An entry may itself be a comma-separated list; blanks around entries and empty
// entries are ignored. IPv4-mapped IPv6 forms (::ffff:10.0.0.1, ::ffff:10.0.0.0/104)
// are stored as their IPv4 equivalents so that both spellings of a peer match.
// A bad entry is an error naming it.
func Parse(entries []string) (*List, error) {
	l := &List{}
	for _, raw := range entries {
		for _, entry := range strings.Split(raw, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if err := l.add(entry); err != nil {
				return nil, err
			}
			l.entries = append(l.entries, entry)
		}
	}
	return l, nil
}

func (l *List) add(entry string) error {
	if entry == "*" {
		l.all = true
		return nil
	}
	if strings.Contains(entry, "/") {
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return fmt.Errorf("allow: bad entry %q: not an IP address, CIDR range or *", entry)
		}
		l.prefixes = append(l.prefixes, unmapPrefix(p).Masked())
		return nil
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return fmt.Errorf("allow: bad entry %q: not an IP address, CIDR range or *", entry)
	}
	l.addrs = append(l.addrs, normalize(a))
	return nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96), so that a range
// written in the mapped form matches the IPv4 peers it means.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// normalize drops the zone and unmaps IPv4-mapped IPv6 addresses.
func normalize(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}

// AllowAll reports whether the list contains "*".
func (l *List) AllowAll() bool { return l != nil && l.all }

// Entries returns the entries the list was built from, in order.
func (l *List) Entries() []string {
	if l == nil {
		return nil
	}
	return append([]string(nil), l.entries...)
}

// AllowIP reports whether ip is in the list. An IPv4-mapped IPv6 address matches its
// IPv4 form and the other way round; zones are ignored. A nil List allows nothing.
func (l *List) AllowIP(ip netip.Addr) bool {
	if l == nil || !ip.IsValid() {
		return false
	}
	if l.all {
		return true
	}
	ip = normalize(ip)
	for _, a := range l.addrs {
		if a == ip {
			return true
		}
	}
	for _, p := range l.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// AllowAddr reports whether the peer a is allowed: a *net.TCPAddr or *net.UDPAddr is
// judged by its IP, a *net.UnixAddr is always allowed (a unix socket's peers are
// local and guarded by file permissions), and any other address is judged by the IP
// its String form holds, or refused when it holds none.
func (l *List) AllowAddr(a net.Addr) bool {
	if l == nil || a == nil {
		return false
	}
	switch addr := a.(type) {
	case *net.TCPAddr:
		return l.allowNetIP(addr.IP)
	case *net.UDPAddr:
		return l.allowNetIP(addr.IP)
	case *net.UnixAddr:
		return true
	case *net.IPAddr:
		return l.allowNetIP(addr.IP)
	}
	if a.Network() == "unix" {
		return true
	}
	s := a.String()
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return l.AllowIP(ap.Addr())
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return l.AllowIP(ip)
	}
	return false
}

func (l *List) allowNetIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	return l.AllowIP(a)
}

// String returns the entries joined by commas, as they would be given on the command line.
func (l *List) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.entries, ",")
}
