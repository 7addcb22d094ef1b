package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
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

// A handler that never asks for its header gets no header map (the head is
// framed from a nil one) unless the access log needs the sniffed Content-Type:
// either way the client gets it, and the log shows it.
func TestSniffedContentTypeWithoutAHeaderMap(t *testing.T) {
	page := []byte("<html><body>hi</body></html>")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) })
	for _, tc := range []struct {
		name  string
		proto string
		log   bool
	}{
		{"http, no access log", "http", false},
		{"http, access log", "http", true},
		{"uwsgi, access log", "uwsgi", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := &lockedBuffer{ch: make(chan []byte, 64)}
			o := testConfig()
			if tc.log {
				al, err := logs.NewAccessLog(lines, `%(s)s %({Content-Type}o)s`)
				if err != nil {
					t.Fatal(err)
				}
				o.Access = al
			}
			_, addr := serveOn(t, o, h, tc.proto)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if tc.proto == "uwsgi" {
				pkt, _ := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", "/",
					"SERVER_PROTOCOL", "HTTP/1.1", "HTTP_HOST", "x")
				c.Write(pkt)
			} else {
				io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			resp, body := readResponse(t, bufio.NewReader(c), "GET")
			const want = "text/html; charset=utf-8"
			if got := resp.Header.Get("Content-Type"); got != want || body != string(page) {
				t.Fatalf("Content-Type %q body %q, want %q and the page", got, body, want)
			}
			if tc.log {
				waitUntil(t, 5*time.Second, func() bool { return strings.Contains(lines.String(), "\n") }, "an access log line")
				if line := lines.String(); line != "200 "+want+"\n" {
					t.Fatalf("access line %q, want %q", line, "200 "+want)
				}
			}
		})
	}
}
