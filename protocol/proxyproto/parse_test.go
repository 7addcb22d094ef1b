package proxyproto

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

var (
	tcp4 = Header{Version: V1, Proxied: true, Source: ap("203.0.113.7:51234"), Destination: ap("10.0.0.5:8000")}
	tcp6 = Header{Version: V1, Proxied: true, Source: ap("[2001:db8::1]:443"), Destination: ap("[2001:db8::2]:8000")}
)

func v2(h Header) Header { h.Version = V2; return h }

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    Version
		header  Header
		n       int    // 0: the whole input
		errPart string // "": success
	}{
		{"v1 TCP4", "PROXY TCP4 203.0.113.7 10.0.0.5 51234 8000\r\nGET / HTTP/1.1\r\n", Any, tcp4, 44, ""},
		{"v1 TCP6", "PROXY TCP6 2001:db8::1 2001:db8::2 443 8000\r\n", V1, tcp6, 0, ""},
		{"v1 UNKNOWN", "PROXY UNKNOWN\r\n", V1, Header{Version: V1}, 0, ""},
		{"v1 UNKNOWN with addresses ignored", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", V1, Header{Version: V1}, 0, ""},
		{"v1 ports 0 and 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", V1,
			Header{Version: V1, Proxied: true, Source: ap("1.2.3.4:0"), Destination: ap("5.6.7.8:65535")}, 0, ""},
		{"v1 where v2 is expected", "PROXY UNKNOWN\r\n", V2, Header{}, 0, "v1 header where v2 is expected"},
		{"v1 bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", V1, Header{}, 0, "CRLF"},
		{"v1 port above 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", V1, Header{}, 0, "port"},
		{"v1 port with leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", V1, Header{}, 0, "port"},
		{"v1 port with sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n", V1, Header{}, 0, "port"},
		{"v1 IPv6 under TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n", V1, Header{}, 0, "family"},
		{"v1 IPv4 under TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", V1, Header{}, 0, "family"},
		{"v1 IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", V1, Header{}, 0, "family"},
		{"v1 double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", V1, Header{}, 0, "fields"},
		{"v1 missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", V1, Header{}, 0, "fields"},
		{"v1 UDP", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", V1, Header{}, 0, "not TCP4"},
		{"v1 host name", "PROXY TCP4 example.com 5.6.7.8 1 2\r\n", V1, Header{}, 0, "address"},
		{"v1 too long", "PROXY UNKNOWN " + strings.Repeat("x", 100), V1, Header{}, 0, "longer than 107"},
		{"v1 control byte", "PROXY TCP4 1.2.3.4\x00", V1, Header{}, 0, "control byte"},
		{"HTTP request", "GET / HTTP/1.1\r\n\r\n", Any, Header{}, 0, "no PROXY protocol signature"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Any, Header{}, 0, "no PROXY protocol signature"},
		{"v2 TCP4", string(AppendV2(nil, tcp4, nil)), Any, v2(tcp4), 0, ""},
		{"v2 TCP6 with TLVs", string(AppendV2(nil, tcp6, []byte{0x01, 0, 2, 'h', '2', 0x04, 0, 0})), V2, v2(tcp6), 0, ""},
		{"v2 LOCAL", string(AppendV2(nil, Header{}, nil)), V2, Header{Version: V2}, 0, ""},
		{"v2 then data", string(AppendV2(nil, tcp4, nil)) + "GET /", V2, v2(tcp4), 28, ""},
		{"v2 where v1 is expected", string(AppendV2(nil, tcp4, nil)), V1, Header{}, 0, "v2 header where v1"},
		{"v2 version 1 nibble", sig() + "\x11\x11\x00\x0c" + strings.Repeat("\x00", 12), V2, Header{}, 0, "version nibble"},
		{"v2 unknown command", sig() + "\x22\x11\x00\x0c" + strings.Repeat("\x00", 12), V2, Header{}, 0, "command"},
		{"v2 UDP", sig() + "\x21\x12\x00\x0c" + strings.Repeat("\x00", 12), V2, Header{}, 0, "datagram"},
		{"v2 unknown family", sig() + "\x21\x41\x00\x0c" + strings.Repeat("\x00", 12), V2, Header{}, 0, "family"},
		{"v2 short address block", sig() + "\x21\x11\x00\x08" + strings.Repeat("\x00", 8), V2, Header{}, 0, "address block"},
		{"v2 TLV past the end", sig() + "\x21\x11\x00\x0f" + strings.Repeat("\x00", 12) + "\x01\x00\x09", V2, Header{}, 0, "TLV"},
		{"v2 too long", sig() + "\x21\x11\xff\xff", V2, Header{}, 0, "more than"},
		{"v2 unix family keeps the connection's address", sig() + "\x21\x31\x00\xd8" + strings.Repeat("\x00", 216), V2, Header{Version: V2}, 0, ""},
		{"v2 unspec family", sig() + "\x21\x00\x00\x00", V2, Header{Version: V2}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := Parse([]byte(tc.in), tc.want)
			if tc.errPart != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("err %v, want ErrInvalid with %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantN := tc.n
			if wantN == 0 {
				wantN = len(tc.in)
			}
			if h != tc.header || n != wantN {
				t.Fatalf("got %+v, %d bytes; want %+v, %d", h, n, tc.header, wantN)
			}
		})
	}
}

func sig() string { return string(signature) }

// A header that arrives a byte at a time is "need more" at every cut, never an error.
func TestParseEveryPrefixNeedsMore(t *testing.T) {
	for _, full := range [][]byte{
		AppendV1(nil, tcp4), AppendV1(nil, tcp6), AppendV1(nil, Header{}),
		AppendV2(nil, tcp4, nil), AppendV2(nil, tcp6, []byte{0x04, 0, 1, 0}), AppendV2(nil, Header{}, nil),
	} {
		for i := 0; i < len(full); i++ {
			if _, _, err := Parse(full[:i], Any); !errors.Is(err, ErrNeedMore) {
				t.Fatalf("%q cut at %d: %v, want ErrNeedMore", full, i, err)
			}
		}
		if _, n, err := Parse(full, Any); err != nil || n != len(full) {
			t.Fatalf("%q whole: %d bytes, %v", full, n, err)
		}
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		in   string
		v    Version
		need bool
	}{
		{"", 0, true},
		{"PRO", 0, true},
		{"PRI * HTTP/2.0", 0, false},
		{"PROXY ", V1, false},
		{"\r\n\r\n", 0, true},
		{sig(), V2, false},
		{"GET /", 0, false},
		{"\r\n\r\nX", 0, false},
	}
	for _, tc := range cases {
		if v, need := Detect([]byte(tc.in)); v != tc.v || need != tc.need {
			t.Errorf("Detect(%q) = %v %v, want %v %v", tc.in, v, need, tc.v, tc.need)
		}
	}
}
