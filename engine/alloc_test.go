package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
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

// mallocsPerRequest runs serve (n requests) three times and returns the fewest
// heap allocations per request the process made in one of them, client
// included: the minimum leaves out what other goroutines (the clock, a GC's
// refill of the pools) happened to allocate meanwhile.
func mallocsPerRequest(t *testing.T, n int, serve func(n int)) float64 {
	t.Helper()
	serve(n) // warm the pools
	best := -1.0
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		serve(n)
		runtime.ReadMemStats(&after)
		if per := float64(after.Mallocs-before.Mallocs) / float64(n); best < 0 || per < best {
			best = per
		}
	}
	return best
}

// The allocations of a keep-alive request and of a uWSGI request on its own
// connection stay where the allocation work left them (BenchmarkHelloKeepAlive,
// BenchmarkUWSGIConnPerRequest show the sites). The bounds include the test
// client's own allocations and a little room; a wake per response, an
// allocation per parsed variable, or a context of its own would exceed them.
func TestAllocationsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	h := helloText()
	cfg := testConfig()
	cfg.EventLoops = 1
	buf := make([]byte, 4096)

	t.Run("keep-alive", func(t *testing.T) {
		_, addr := serveOn(t, cfg, h, "http")
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := []byte("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n")
		per := mallocsPerRequest(t, 500, func(n int) {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			for range n {
				if _, err := c.Write(req); err != nil {
					t.Fatal(err)
				}
				// One response: its head, then the 13-byte body.
				got := 0
				for got == 0 || !bytes.HasSuffix(buf[:got], helloBody) {
					k, err := c.Read(buf[got:])
					if err != nil {
						t.Fatal(err)
					}
					got += k
				}
			}
		})
		t.Logf("%.2f allocations per keep-alive request", per)
		// 8 today: 2 of the handler, 6 of the server.
		if per > 9.5 {
			t.Fatalf("%.1f allocations per keep-alive request, want at most 9.5", per)
		}
	})

	t.Run("uwsgi", func(t *testing.T) {
		_, addr := serveOn(t, cfg, h, "uwsgi")
		pkt := helloUWSGIPacket()
		per := mallocsPerRequest(t, 300, func(n int) {
			for range n {
				oneRequestConn(t, addr, pkt, buf)
			}
		})
		t.Logf("%.2f allocations per uWSGI request", per)
		// 32 today: about 16 of the client's dial, 16 of the server.
		if per > 34 {
			t.Fatalf("%.1f allocations per uWSGI request, want at most 34", per)
		}
	})
}
