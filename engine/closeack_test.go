package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// tcpSocket is a line of /proc/net/tcp: one end of a loopback connection.
type tcpSocket struct {
	state   int // 1 established, 4 FIN_WAIT1, 5 FIN_WAIT2, ...
	txQueue int // bytes sent and not yet acknowledged, or not yet sent
	inode   int // 0: no process holds the socket any more (an orphan)
}

// findTCPSocket returns the socket bound to local port lport and connected to
// remote port rport on 127.0.0.1.
func findTCPSocket(t *testing.T, lport, rport int) (tcpSocket, bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	want := fmt.Sprintf("0100007F:%04X 0100007F:%04X", lport, rport)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[1]+" "+f[2] != want {
			continue
		}
		st, _ := strconv.ParseInt(f[3], 16, 32)
		tx, _ := strconv.ParseInt(strings.SplitN(f[4], ":", 2)[0], 16, 64)
		ino, _ := strconv.Atoi(f[9])
		return tcpSocket{state: int(st), txQueue: int(tx), inode: ino}, true
	}
	return tcpSocket{}, false
}

// A uWSGI connection closes once its response has left gnet's queue, but not
// while the kernel still holds an unacknowledged tail of it: a closed socket
// with output queued is an orphan that the kernel resets, destroying the tail,
// whenever TCP memory is over tcp_mem's hard limit (nginx: "readv() failed (104:
// Connection reset by peer) while reading upstream" on a busy machine). The
// server shuts its write side instead and closes once the peer has it all.
func TestUWSGICloseWaitsForTheResponseTailToBeAcknowledged(t *testing.T) {
	const size = 8 << 10
	_, addr := serveOn(t, testConfig(), demo.Handler(), "uwsgi")
	// A small receive window: the client takes a few KB, the rest stays queued
	// in the server's kernel until the client reads.
	c := dialSmallWindow(t, addr)
	pkt, _ := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", "/bytes?n="+strconv.Itoa(size),
		"PATH_INFO", "/bytes", "QUERY_STRING", "n="+strconv.Itoa(size), "SERVER_PROTOCOL", "HTTP/1.1",
		"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5555", "SERVER_NAME", "t", "SERVER_PORT", "80", "HTTP_HOST", "t")
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	cport := c.LocalAddr().(*net.TCPAddr).Port
	sport := c.RemoteAddr().(*net.TCPAddr).Port

	// The client reads nothing until the server has sent its FIN (FIN_WAIT1:
	// the write side is shut, by shutdown or by close).
	s := waitForServerFIN(t, sport, cport)
	if s.inode == 0 {
		t.Fatalf("the server closed its socket with %d bytes of the response unacknowledged: an orphan the kernel resets under TCP memory pressure", s.txQueue)
	}

	// The client reads it all, and the server then closes.
	resp, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(resp), err)
	}
	if i := strings.Index(string(resp), "\r\n\r\n"); i < 0 || len(resp)-i-4 != size {
		t.Fatalf("got %d bytes (%.40q...), want a head and %d bytes of body", len(resp), resp, size)
	}
	waitUntil(t, 10*time.Second, func() bool {
		s, ok := findTCPSocket(t, sport, cport)
		return !ok || s.inode == 0 && s.txQueue == 0
	}, "the server to close its socket once the client had everything")
}

// An HTTP/1 response that closes its connection lingers (write side shut, input
// drained) for lingerTime; a client still reading its tail from the kernel then
// keeps the socket until it has acknowledged it, rather than getting an orphan.
func TestLingerEndsOnlyOnceTheResponseTailIsAcknowledged(t *testing.T) {
	const size = 8 << 10
	ts := startServer(t, testConfig(), nil)
	c := dialSmallWindow(t, ts.addr)
	fmt.Fprintf(c, "GET /bytes?n=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", size)
	cport := c.LocalAddr().(*net.TCPAddr).Port
	sport := c.RemoteAddr().(*net.TCPAddr).Port
	waitForServerFIN(t, sport, cport)
	// Past the linger, the socket is still the server's.
	deadline := time.Now().Add(lingerTime + time.Second)
	for time.Now().Before(deadline) {
		if s, ok := findTCPSocket(t, sport, cport); ok && s.inode == 0 && s.txQueue > closeUnackedMax {
			t.Fatalf("the server closed its socket with %d bytes of the response unacknowledged", s.txQueue)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, body := readResponse(t, bufio.NewReader(c), "GET")
	if resp.StatusCode != 200 || len(body) != size {
		t.Fatalf("got %d with %d bytes, want 200 with %d", resp.StatusCode, len(body), size)
	}
	waitUntil(t, 10*time.Second, func() bool {
		s, ok := findTCPSocket(t, sport, cport)
		return !ok || s.inode == 0 && s.txQueue == 0
	}, "the server to close its socket once the client had everything")
}

// dialSmallWindow connects to addr with a 2 KB receive buffer (set before the
// handshake, so the window is small from the start) and a 15 s deadline.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	return c
}

// waitForServerFIN waits until the server's socket of the connection between
// sport and cport has shut its write side (FIN_WAIT1) and returns it; the
// tests need more than closeUnackedMax bytes still unacknowledged then.
func waitForServerFIN(t *testing.T, sport, cport int) tcpSocket {
	t.Helper()
	var s tcpSocket
	waitUntil(t, 10*time.Second, func() bool {
		var ok bool
		s, ok = findTCPSocket(t, sport, cport)
		return ok && s.state == 4
	}, "the server to shut its write side (FIN_WAIT1)")
	if s.txQueue <= closeUnackedMax {
		t.Fatalf("setup: only %d bytes unacknowledged at the server's FIN, want more than %d", s.txQueue, closeUnackedMax)
	}
	return s
}
