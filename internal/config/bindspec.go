package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultPort is the port of a bind address that names only a host, as in Gunicorn.
const DefaultPort = "8000"

// maxUnixPath is the longest unix socket path the kernel's sun_path holds with its NUL.
const maxUnixPath = 107

// SplitBind parses one bind address into what net.Listen needs and the protocol it
// speaks. network is "tcp", "unix" or "fd" (address is then the descriptor number).
// Accepted forms: HOST, HOST:PORT, [V6]:PORT, a bare IPv6 address, unix:PATH,
// unix://PATH, fd://FD, tcp://HOST:PORT, and with a protocol in front,
// uwsgi://HOST:PORT, http://HOST:PORT, uwsgi+unix:PATH, uwsgi+fd://FD (and http+…).
// Plain forms get defaultProto. A missing port is 8000; an empty host means every
// interface. The listen package binds what this returns; it is here so that the
// configuration can be validated without opening a socket.
func SplitBind(spec, defaultProto string) (network, address, proto string, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return "", "", "", errors.New("empty address")
	}
	proto = defaultProto
	for _, p := range []string{"http", "uwsgi"} {
		if rest, ok := strings.CutPrefix(s, p+"://"); ok {
			proto, s = p, "tcp://"+rest
			break
		}
		if rest, ok := strings.CutPrefix(s, p+"+"); ok {
			if !strings.HasPrefix(rest, "unix:") && !strings.HasPrefix(rest, "fd://") && !strings.HasPrefix(rest, "tcp://") {
				return "", "", "", fmt.Errorf("%s+ must be followed by unix:, fd:// or tcp://", p)
			}
			proto, s = p, rest
			break
		}
	}
	switch {
	case strings.HasPrefix(s, "unix:"):
		path := strings.TrimPrefix(strings.TrimPrefix(s, "unix:"), "//")
		if path == "" {
			return "", "", "", errors.New("unix: needs a socket path")
		}
		if len(path) > maxUnixPath {
			return "", "", "", fmt.Errorf("unix socket path is %d bytes, longer than the %d the kernel allows", len(path), maxUnixPath)
		}
		if strings.IndexByte(path, 0) >= 0 {
			return "", "", "", errors.New("unix socket path contains a NUL byte")
		}
		return "unix", path, proto, nil
	case strings.HasPrefix(s, "fd://"):
		fd, err := strconv.Atoi(s[len("fd://"):])
		if err != nil || fd < 0 {
			return "", "", "", fmt.Errorf("%q is not a valid file descriptor", s[len("fd://"):])
		}
		return "fd", strconv.Itoa(fd), proto, nil
	}
	hostport := strings.TrimPrefix(s, "tcp://")
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return "", "", "", err
	}
	return "tcp", net.JoinHostPort(host, port), proto, nil
}

// splitHostPort splits HOST, HOST:PORT, [V6], [V6]:PORT or a bare IPv6 address.
func splitHostPort(s string) (host, port string, err error) {
	port = DefaultPort
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("%q lacks the closing ]", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", "", fmt.Errorf("%q: expected :PORT after ]", s)
			}
			port = rest[1:]
		}
		if _, err := netip.ParseAddr(host); err != nil || !strings.Contains(host, ":") {
			return "", "", fmt.Errorf("%q is not an IPv6 address", host)
		}
	case strings.Count(s, ":") == 0:
		host = s
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	default:
		if _, err := netip.ParseAddr(s); err != nil {
			return "", "", fmt.Errorf("%q: write IPv6 addresses in brackets, as [::1]:8000", s)
		}
		host = s
	}
	host = strings.ToLower(host)
	if !validHost(host) {
		return "", "", fmt.Errorf("%q is not an IP address or host name", host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || port == "" || port[0] == '+' || port[0] == '-' {
		return "", "", fmt.Errorf("%q is not a valid port number", port)
	}
	return host, strconv.Itoa(n), nil
}

// validHost accepts "", an IP address, or a DNS-style host name.
func validHost(h string) bool {
	if h == "" {
		return true
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
