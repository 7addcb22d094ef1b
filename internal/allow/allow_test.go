package allow

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestAllowIP(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		ip      string
		want    bool
	}{
		{"exact IPv4 matches", []string{"127.0.0.1"}, "127.0.0.1", true},
		{"other IPv4 does not match", []string{"127.0.0.1"}, "127.0.0.2", false},
		{"IPv6 loopback matches", []string{"::1"}, "::1", true},
		{"IPv6 loopback does not match IPv4 loopback", []string{"::1"}, "127.0.0.1", false},
		{"CIDR /8 matches inside", []string{"10.0.0.0/8"}, "10.1.2.3", true},
		{"CIDR /8 does not match outside", []string{"10.0.0.0/8"}, "11.0.0.1", false},
		{"CIDR with host bits set is masked", []string{"192.168.1.77/24"}, "192.168.1.3", true},
		{"IPv6 CIDR matches", []string{"fd00::/8"}, "fd12:3456::1", true},
		{"IPv6 CIDR does not match outside", []string{"fd00::/8"}, "fe80::1", false},
		{"mapped peer matches IPv4 entry", []string{"127.0.0.1"}, "::ffff:127.0.0.1", true},
		{"IPv4 peer matches mapped entry", []string{"::ffff:127.0.0.1"}, "127.0.0.1", true},
		{"mapped peer matches IPv4 CIDR", []string{"10.0.0.0/8"}, "::ffff:10.9.8.7", true},
		{"IPv4 peer matches mapped CIDR", []string{"::ffff:10.0.0.0/104"}, "10.9.8.7", true},
		{"star allows everyone", []string{"*"}, "203.0.113.9", true},
		{"star among others allows everyone", []string{"10.0.0.1", "*"}, "::2", true},
		{"comma list inside one entry", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.2", true},
		{"zone on peer is ignored", []string{"fe80::1"}, "fe80::1%eth0", true},
		{"empty list allows nobody", nil, "127.0.0.1", false},
		{"blank entries are ignored", []string{" ", ""}, "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.entries)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.entries, err)
			}
			if got := l.AllowIP(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("AllowIP(%s) = %v, want %v", tt.ip, got, tt.want)
			}
		})
	}
}

func TestParseRejectsBadEntries(t *testing.T) {
	for _, entry := range []string{"localhost", "10.0.0.0/33", "1.2.3", "::g", "10.0.0.0/", "**", "1.2.3.4:80"} {
		t.Run(entry, func(t *testing.T) {
			_, err := Parse([]string{"127.0.0.1", entry})
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", entry)
			}
			if !strings.Contains(err.Error(), entry) {
				t.Errorf("error %q does not name the entry %q", err, entry)
			}
		})
	}
}

type otherAddr struct{ network, s string }

func (a otherAddr) Network() string { return a.network }
func (a otherAddr) String() string  { return a.s }

func TestAllowAddr(t *testing.T) {
	l, err := Parse([]string{"127.0.0.1", "::1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		addr net.Addr
		want bool
	}{
		{"tcp IPv4 allowed", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}, true},
		{"tcp IPv4 in range", &net.TCPAddr{IP: net.ParseIP("10.200.0.1"), Port: 1}, true},
		{"tcp IPv4 refused", &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, false},
		{"tcp 16-byte IPv4 form allowed", &net.TCPAddr{IP: net.ParseIP("127.0.0.1").To16(), Port: 1}, true},
		{"tcp IPv6 loopback allowed", &net.TCPAddr{IP: net.IPv6loopback, Port: 1}, true},
		{"tcp nil IP refused", &net.TCPAddr{}, false},
		{"unix peer always allowed", &net.UnixAddr{Name: "@", Net: "unix"}, true},
		{"udp judged by IP", &net.UDPAddr{IP: net.ParseIP("10.0.0.1")}, true},
		{"foreign addr with ip:port", otherAddr{"tcp", "127.0.0.1:80"}, true},
		{"foreign addr refused", otherAddr{"tcp", "192.0.2.1:80"}, false},
		{"foreign unix addr allowed", otherAddr{"unix", "/tmp/x"}, true},
		{"foreign junk refused", otherAddr{"tcp", "nonsense"}, false},
		{"nil addr refused", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.AllowAddr(tt.addr); got != tt.want {
				t.Errorf("AllowAddr(%v) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestNilListAllowsNothing(t *testing.T) {
	var l *List
	if l.AllowIP(netip.MustParseAddr("127.0.0.1")) || l.AllowAddr(&net.UnixAddr{}) || l.AllowAll() {
		t.Fatal("a nil List allowed a peer")
	}
}

func TestEntriesAndString(t *testing.T) {
	l, err := Parse([]string{"127.0.0.1, ::1", "*"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.String(), "127.0.0.1,::1,*"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !l.AllowAll() {
		t.Error("AllowAll() = false with a * entry")
	}
	if got := l.Entries(); len(got) != 3 {
		t.Errorf("Entries() = %q, want 3 entries", got)
	}
}

func TestAllowAddrDoesNotAllocate(t *testing.T) {
	l, err := Parse([]string{"127.0.0.1", "::1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 4000}
	if n := testing.AllocsPerRun(100, func() { l.AllowAddr(addr) }); n != 0 {
		t.Errorf("AllowAddr allocates %v times per call, want 0", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "10.0.0.0/8", "*", "::ffff:10.0.0.0/104", "a,b", "fe80::1%eth0"} {
		f.Add(s, "10.1.2.3")
	}
	f.Fuzz(func(t *testing.T, entry, peer string) {
		l, err := Parse([]string{entry})
		if err != nil {
			return
		}
		if ip, err := netip.ParseAddr(peer); err == nil {
			allowed := l.AllowIP(ip)
			if l.AllowAll() && !allowed {
				t.Fatalf("list %q with * refused %s", entry, ip)
			}
			if allowed != l.AllowIP(ip.Unmap()) && ip.Is4In6() {
				t.Fatalf("list %q: %s and its unmapped form disagree", entry, ip)
			}
		}
	})
}

func BenchmarkAllowAddr(b *testing.B) {
	l, err := Parse([]string{"127.0.0.1", "::1", "10.0.0.0/8", "192.168.0.0/16"})
	if err != nil {
		b.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.ParseIP("192.168.4.4"), Port: 4000}
	b.ReportAllocs()
	for b.Loop() {
		if !l.AllowAddr(addr) {
			b.Fatal("refused")
		}
	}
}
