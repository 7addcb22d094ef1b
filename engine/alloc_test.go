package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

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
		var mem [remoteMemLen]byte
		if got, want := remoteStringIn(&mem, a), a.String(); got != want {
			t.Errorf("remoteStringIn(%#v) = %q, want %q", a, got, want)
		}
	}
	// A uWSGI connection keeps its peer's address in its own memory.
	mem := new([remoteMemLen]byte)
	b := &net.TCPAddr{IP: net.ParseIP("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), Port: 65535}
	if n := testing.AllocsPerRun(100, func() { _ = remoteStringIn(mem, b) }); n != 0 {
		t.Fatalf("remoteStringIn allocated %v times, want 0", n)
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

// An idle keep-alive connection's state stays in the allocation size class it
// had before the HTTP/1 parser indexed its first fields in its own memory
// (bench's idle test: 10,000 connections at most 2.4 KiB each). A field added
// to conn or http1.Parser that crosses it costs every idle connection 128
// bytes more: make room elsewhere, or lower http1's inlineSpans.
func TestHTTPConnSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(httpConn{}); n > 1152 {
		t.Fatalf("httpConn is %d bytes, past the 1152-byte size class", n)
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

// The allocations per request of each hot path stay where the allocation
// work left them (BenchmarkHelloKeepAlive, BenchmarkUWSGIConnPerRequest and
// BenchmarkHTTPConnPerRequest show the sites), in both ways a response reaches
// the loop: the loop yields to the handler it readied (a worker's wiring, one
// loop per P) or the handler wakes it (a P to spare). A new connection per
// request is made with raw system calls (rawRequest), so that the count is
// the server's alone; the keep-alive clients allocate nothing per request.
// The bounds leave half an allocation of room; an allocation per parsed
// variable or header, a wake per response or a context of its own would exceed
// them. Where the count stands (server side, demo handler; the handler's
// header map is reused, recycleHeader):
//
//	keep-alive   5: exchange, head copy, request, its header map (2)
//	pipelined16  3.2: the same, with one exchange block and one head copy per burst
//	uwsgi        6: gnet's conn, the conn with its exchange, the request's
//	               strings, request, header map (2); a woken loop adds gnet's
//	               wake and close tasks (4)
//	http-close   9: gnet's conn, the conn, its peer's address (the requests'
//	               RemoteAddr), its field list, and keep-alive's 5
func TestAllocationsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	h := helloText()
	procs := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		name  string
		loops int     // procs: the loop yields to the handler (Server.inline)
		max   float64 // allocations per request
		serve func(t *testing.T, addr string) func(n int)
	}{
		{"keep-alive", procs, 5.5, keepAliveClient(1)},
		{"keep-alive, woken", 1, 5.5, keepAliveClient(1)},
		{"pipelined16", procs, 3.5, keepAliveClient(16)},
		{"pipelined16, woken", 1, 3.5, keepAliveClient(16)},
		{"uwsgi", procs, 6.5, rawClient(helloUWSGIPacket())},
		{"uwsgi, woken", 1, 10.5, rawClient(helloUWSGIPacket())},
		{"http-close", procs, 9.5, rawClient([]byte("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.loops == 1 && procs == 1 {
				t.Skip("one P: the loop always yields to the handler")
			}
			cfg := testConfig()
			cfg.EventLoops = tc.loops
			proto := "http"
			if strings.HasPrefix(tc.name, "uwsgi") {
				proto = "uwsgi"
			}
			_, addr := serveOn(t, cfg, h, proto)
			per := mallocsPerRequest(t, 400, tc.serve(t, addr))
			t.Logf("%.2f allocations per request", per)
			if per > tc.max {
				t.Fatalf("%.2f allocations per request, want at most %.1f", per, tc.max)
			}
		})
	}
}

// keepAliveClient sends depth hello requests per write on one connection and
// reads their responses, allocating nothing per request.
func keepAliveClient(depth int) func(t *testing.T, addr string) func(n int) {
	return func(t *testing.T, addr string) func(n int) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		req := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n"), depth)
		buf := make([]byte, 64<<10)
		return func(n int) {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			for done := 0; done < n; done += depth {
				if _, err := c.Write(req); err != nil {
					t.Fatal(err)
				}
				// depth responses, each ending with the 13-byte body.
				got, seen := 0, 0
				for seen < depth {
					k, err := c.Read(buf[got:])
					if err != nil {
						t.Fatal(err)
					}
					got += k
					seen = bytes.Count(buf[:got], helloBody)
				}
			}
		}
	}
}

// rawClient sends req on a new connection per request and reads the response
// until the server closes, with system calls that allocate nothing.
func rawClient(req []byte) func(t *testing.T, addr string) func(n int) {
	return func(t *testing.T, addr string) func(n int) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
		tv := unix.NsecToTimeval((10 * time.Second).Nanoseconds())
		buf := make([]byte, 4096)
		return func(n int) {
			for range n {
				if got := rawRequest(t, sa, &tv, req, buf); got < 40 {
					t.Fatalf("short response %q", buf[:got])
				}
			}
		}
	}
}

// rawRequest connects to sa, writes req, reads into buf until EOF and returns
// the bytes read. Every wait is bounded by tv.
func rawRequest(t *testing.T, sa unix.Sockaddr, tv *unix.Timeval, req, buf []byte) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, opt := range []int{unix.SO_RCVTIMEO, unix.SO_SNDTIMEO} {
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, opt, tv); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Connect(fd, sa); err == unix.EINTR {
		// A signal (the runtime's preemption) cut the wait: the connection
		// goes on; wait for it and ask how it ended.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		for {
			if _, err = unix.Poll(pfd, 10000); err != unix.EINTR {
				break
			}
		}
		if err == nil {
			var soerr int
			soerr, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err == nil && soerr != 0 {
				err = unix.Errno(soerr)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := unix.Write(fd, req)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			t.Fatal(err)
		}
	}
	got := 0
	for got < len(buf) {
		k, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		if k == 0 {
			break
		}
		got += k
	}
	return got
}
