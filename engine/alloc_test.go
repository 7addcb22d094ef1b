package engine

import (
	"net"
	"testing"
)

func TestTCPAddrStringIsNetsInOneAllocation(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(127, 0, 0, 1), Port: 80},
		{IP: net.IPv4(203, 0, 113, 7).To4(), Port: 65535},
		{IP: net.IPv4(10, 0, 0, 1), Port: 0},
		{IP: net.ParseIP("::1"), Port: 8000},
		{IP: net.ParseIP("2001:db8::1:0:0:1"), Port: 443},
		{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 1},
		{IP: net.ParseIP("fe80::1"), Port: 9, Zone: "eth0"},
		{IP: net.IPv4(192, 0, 2, 1), Port: 9, Zone: "eth0"},
		{IP: nil, Port: 80},
		{IP: net.IP{1, 2, 3}, Port: 80},
	} {
		if got, want := tcpAddrString(a), a.String(); got != want {
			t.Errorf("tcpAddrString(%#v) = %q, want %q", a, got, want)
		}
	}
	a := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54321}
	if n := testing.AllocsPerRun(100, func() { _ = remoteString(a) }); n > 1 {
		t.Fatalf("remoteString allocated %v times, want 1", n)
	}
}
