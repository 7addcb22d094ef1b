package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Version is a PROXY protocol version.
type Version uint8

// The versions, and Any for a receiver that takes either.
const (
	Any Version = 0
	V1  Version = 1
	V2  Version = 2
)

// String names the version as the --proxy-protocol flag does.
func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return "auto"
}

// Header is a parsed PROXY header.
type Header struct {
	// Version is V1 or V2.
	Version Version
	// Proxied is true when the header carries the client's addresses. It is false
	// for a v1 "UNKNOWN", a v2 LOCAL command (the proxy's own health check) and a
	// v2 address family other than IPv4 or IPv6: the connection's addresses stand.
	Proxied bool
	// Source is the client's address and port, Destination the address the client
	// connected to; valid when Proxied.
	Source, Destination netip.AddrPort
}

// Limits of the wire format.
const (
	// MaxV1Length is the longest v1 header, CRLF included (the specification's 107).
	MaxV1Length = 107
	// MaxV2Length is the longest v2 header accepted: the 16-byte fixed part and the
	// addresses with their TLVs. The format allows 64 KiB; what proxies send (the
	// addresses, an ALPN, an authority, a VPC endpoint id) fits well under this.
	MaxV2Length = 4096
)

var (
	// ErrNeedMore means the bytes are a valid beginning of a header: read more.
	ErrNeedMore = errors.New("proxyproto: incomplete header")
	// ErrInvalid is wrapped by every error about malformed or unsupported input.
	ErrInvalid = errors.New("proxyproto: invalid header")
)

var (
	v1Prefix  = []byte("PROXY ")
	signature = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

const v2FixedLength = 16

// Detect reports which version of header b begins, if any. need is true when b is
// too short to tell (a proper prefix of a signature); otherwise v is 0 when b does
// not start a PROXY header.
func Detect(b []byte) (v Version, need bool) {
	full1, prefix1 := match(b, v1Prefix)
	if full1 {
		return V1, false
	}
	full2, prefix2 := match(b, signature)
	if full2 {
		return V2, false
	}
	// "PR" also begins the HTTP/2 preface ("PRI * ..."): a prefix is not yet a no.
	return 0, prefix1 || prefix2
}

// match reports whether b starts with sig (full), or is a proper prefix of it.
func match(b, sig []byte) (full, prefix bool) {
	if len(b) >= len(sig) {
		return bytes.Equal(b[:len(sig)], sig), false
	}
	return false, bytes.Equal(b, sig[:len(b)])
}

// Parse parses the header at the start of b, of version want (Any: either). It
// returns the header and its length in bytes, ErrNeedMore when b holds only a
// beginning of it, or an error wrapping ErrInvalid (including bytes that are not a
// PROXY header of an accepted version).
func Parse(b []byte, want Version) (Header, int, error) {
	v, need := Detect(b)
	switch {
	case need:
		return Header{}, 0, ErrNeedMore
	case v == 0:
		return Header{}, 0, fmt.Errorf("%w: no PROXY protocol signature", ErrInvalid)
	case want != Any && v != want:
		return Header{}, 0, fmt.Errorf("%w: a %v header where %v is expected", ErrInvalid, v, want)
	case v == V1:
		return parseV1(b)
	}
	return parseV2(b)
}

// parseV1 parses "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n".
func parseV1(b []byte) (Header, int, error) {
	end := bytes.IndexByte(b[:min(len(b), MaxV1Length)], '\n')
	if end < 0 {
		if len(b) >= MaxV1Length {
			return Header{}, 0, fmt.Errorf("%w: v1 header longer than %d bytes", ErrInvalid, MaxV1Length)
		}
		for _, c := range b {
			if c < 0x20 && c != '\r' || c > 0x7e {
				return Header{}, 0, fmt.Errorf("%w: v1 header has a control byte %#x", ErrInvalid, c)
			}
		}
		return Header{}, 0, ErrNeedMore
	}
	if end == 0 || b[end-1] != '\r' {
		return Header{}, 0, fmt.Errorf("%w: v1 header line does not end with CRLF", ErrInvalid)
	}
	line := b[len(v1Prefix) : end-1]
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return Header{}, 0, fmt.Errorf("%w: v1 header has a control byte %#x", ErrInvalid, c)
		}
	}
	n := end + 1
	fields := bytes.Split(line, []byte(" "))
	switch string(fields[0]) {
	case "UNKNOWN":
		// The proxy cannot tell; whatever follows is to be ignored.
		return Header{Version: V1}, n, nil
	case "TCP4", "TCP6":
	default:
		return Header{}, 0, fmt.Errorf("%w: v1 protocol %q is not TCP4, TCP6 or UNKNOWN", ErrInvalid, fields[0])
	}
	if len(fields) != 5 {
		return Header{}, 0, fmt.Errorf("%w: v1 %s header has %d fields, want 4 after the protocol", ErrInvalid, fields[0], len(fields)-1)
	}
	v4 := fields[0][3] == '4'
	src, err1 := parseV1Addr(fields[1], v4)
	dst, err2 := parseV1Addr(fields[2], v4)
	sport, err3 := parsePort(fields[3])
	dport, err4 := parsePort(fields[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return Header{}, 0, fmt.Errorf("%w: v1 %s header: %v", ErrInvalid, fields[0], err)
	}
	return Header{Version: V1, Proxied: true,
		Source: netip.AddrPortFrom(src, sport), Destination: netip.AddrPortFrom(dst, dport)}, n, nil
}

func parseV1Addr(f []byte, v4 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(f))
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("address %q: %v", f, err)
	case v4 && !a.Is4(), !v4 && (!a.Is6() || a.Zone() != ""):
		return netip.Addr{}, fmt.Errorf("address %q is not of the header's family", f)
	}
	return a, nil
}

// parsePort accepts 0..65535 in decimal, without sign or leading zeros.
func parsePort(f []byte) (uint16, error) {
	if len(f) == 0 || len(f) > 5 || len(f) > 1 && f[0] == '0' {
		return 0, fmt.Errorf("port %q", f)
	}
	n := 0
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q", f)
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, fmt.Errorf("port %q", f)
	}
	return uint16(n), nil
}

// v2 commands and address families (the 13th and 14th bytes).
const (
	cmdLocal   = 0x0
	cmdProxy   = 0x1
	famUnspec  = 0x0
	famInet    = 0x1
	famInet6   = 0x2
	famUnix    = 0x3
	trStream   = 0x1
	trDgram    = 0x2
	inetLen    = 4 + 4 + 2 + 2
	inet6Len   = 16 + 16 + 2 + 2
	unixLength = 108 + 108
)

func parseV2(b []byte) (Header, int, error) {
	if len(b) < v2FixedLength {
		return Header{}, 0, ErrNeedMore
	}
	verCmd, fam := b[12], b[13]
	if verCmd>>4 != 2 {
		return Header{}, 0, fmt.Errorf("%w: v2 version nibble %d", ErrInvalid, verCmd>>4)
	}
	cmd := verCmd & 0xf
	if cmd != cmdLocal && cmd != cmdProxy {
		return Header{}, 0, fmt.Errorf("%w: v2 command %d", ErrInvalid, cmd)
	}
	length := int(binary.BigEndian.Uint16(b[14:16]))
	n := v2FixedLength + length
	if n > MaxV2Length {
		return Header{}, 0, fmt.Errorf("%w: v2 header of %d bytes, more than %d", ErrInvalid, n, MaxV2Length)
	}
	if len(b) < n {
		return Header{}, 0, ErrNeedMore
	}
	body := b[v2FixedLength:n]
	if cmd == cmdLocal {
		// The proxy speaking for itself (a health check): the address block, if
		// any, is to be skipped.
		return Header{Version: V2}, n, nil
	}
	family, transport := fam>>4, fam&0xf
	if transport == trDgram {
		return Header{}, 0, fmt.Errorf("%w: v2 header for a datagram connection", ErrInvalid)
	}
	if transport > trDgram || family > famUnix {
		return Header{}, 0, fmt.Errorf("%w: v2 address family %#x", ErrInvalid, fam)
	}
	h := Header{Version: V2}
	var addrLen int
	switch family {
	case famUnspec:
		return h, n, checkTLVs(body)
	case famInet:
		addrLen = inetLen
	case famInet6:
		addrLen = inet6Len
	case famUnix:
		addrLen = unixLength
	}
	if len(body) < addrLen {
		return Header{}, 0, fmt.Errorf("%w: v2 address block of %d bytes, family %#x needs %d", ErrInvalid, len(body), fam, addrLen)
	}
	if err := checkTLVs(body[addrLen:]); err != nil {
		return Header{}, 0, err
	}
	switch family {
	case famInet:
		src := netip.AddrFrom4([4]byte(body[0:4]))
		dst := netip.AddrFrom4([4]byte(body[4:8]))
		h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10]))
		h.Destination = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[10:12]))
		h.Proxied = true
	case famInet6:
		src := netip.AddrFrom16([16]byte(body[0:16]))
		dst := netip.AddrFrom16([16]byte(body[16:32]))
		h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34]))
		h.Destination = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[34:36]))
		h.Proxied = true
	}
	// A unix-socket client has no IP address to pass on: the connection's stands.
	return h, n, nil
}

// checkTLVs verifies that the type-length-value records after the addresses fill
// their space exactly. Their contents are not used.
func checkTLVs(b []byte) error {
	for len(b) > 0 {
		if len(b) < 3 {
			return fmt.Errorf("%w: v2 TLV header cut short", ErrInvalid)
		}
		l := 3 + int(binary.BigEndian.Uint16(b[1:3]))
		if l > len(b) {
			return fmt.Errorf("%w: v2 TLV of type %#x runs past the header", ErrInvalid, b[0])
		}
		b = b[l:]
	}
	return nil
}
