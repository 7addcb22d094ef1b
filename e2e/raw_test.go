package e2e

import (
	"bytes"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// uwsgiPacket encodes a modifier1=0 uWSGI packet holding the key/value pairs.
func uwsgiPacket(kv ...string) []byte {
	b, err := uwsgi.AppendPacket(nil, kv...)
	if err != nil {
		panic(err)
	}
	return b
}

// getRoot is the packet nginx sends for `GET /` from a client at 127.0.0.1.
var getRoot = uwsgiPacket(
	"QUERY_STRING", "", "REQUEST_METHOD", "GET", "CONTENT_TYPE", "", "CONTENT_LENGTH", "",
	"REQUEST_URI", "/", "PATH_INFO", "/", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_SCHEME", "http",
	"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "40000", "SERVER_PORT", "80", "SERVER_NAME", "e2e.test",
	"HTTP_HOST", "e2e.test", "HTTP_USER_AGENT", "e2e")

// exchange sends pkt on a new connection to addr and returns everything the server
// sends back until it closes the connection (or the deadline passes).
func exchange(t *testing.T, addr string, pkt []byte) ([]byte, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	// A refused peer may be closed before the write lands; what it reads is what counts.
	_, _ = nc.Write(pkt)
	return io.ReadAll(nc)
}

// TestUWSGIAnswersARawPacketWithHTTPAndCloses speaks uWSGI to gonicorn directly, as
// nginx does: the answer is an HTTP/1.1 response with Content-Length, and gonicorn
// closes the connection after it.
func TestUWSGIAnswersARawPacketWithHTTPAndCloses(t *testing.T) {
	addr := testutil.FreeAddr(t)
	startGonicorn(t, "tcp", addr, "--protocol", "uwsgi", "-b", addr, "-w", "1")
	got, err := exchange(t, addr, getRoot)
	if err != nil {
		t.Fatalf("reading the answer: %v (got %q so far; a timeout means the connection was not closed)", err, got)
	}
	head, body, ok := bytes.Cut(got, []byte("\r\n\r\n"))
	if !ok || !bytes.HasPrefix(head, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Fatalf("answer %q is not an HTTP/1.1 200 response", got)
	}
	if !bytes.Contains(bytes.ToLower(head), []byte("\r\ncontent-length: 13")) || string(body) != "Hello, World!" {
		t.Fatalf("answer %q lacks Content-Length: 13 and the body Hello, World!", got)
	}
	if bytes.Contains(bytes.ToLower(head), []byte("transfer-encoding")) {
		t.Fatalf("answer %q is chunked: nginx does not de-chunk uwsgi responses", got)
	}
}

// TestUWSGIRawPackets sends packets nginx would not send, or sends rarely, straight to
// gonicorn and checks each answer.
func TestUWSGIRawPackets(t *testing.T) {
	addr := testutil.FreeAddr(t)
	p := startGonicorn(t, "tcp", addr, "--protocol", "uwsgi", "-b", addr, "-w", "1")
	inspect := func(proto string) []byte {
		return uwsgiPacket("REQUEST_METHOD", "GET", "REQUEST_URI", "/inspect?x=1", "SERVER_PROTOCOL", proto,
			"REMOTE_ADDR", "192.0.2.1", "REMOTE_PORT", "5000", "HTTP_HOST", "raw.test", "HTTPS", "on")
	}
	for _, tt := range []struct {
		name       string
		pkt        []byte
		wantStatus string // "" means: closed without an answer
		wantBody   []string
	}{
		{"HTTP/1.1 request", inspect("HTTP/1.1"), "200",
			[]string{`"proto": "HTTP/1.1"`, `"remote_addr": "192.0.2.1:5000"`, `"host": "raw.test"`, `"scheme": "https"`, `"raw_query": "x=1"`}},
		{"HTTP/1.0 request", inspect("HTTP/1.0"), "200", []string{`"proto": "HTTP/1.0"`}},
		{"HTTP/2.0 from an nginx http2 listener", inspect("HTTP/2.0"), "200", []string{`"proto": "HTTP/2.0"`}},
		{"no REQUEST_METHOD", uwsgiPacket("REQUEST_URI", "/"), "400", nil},
		{"non-numeric CONTENT_LENGTH", uwsgiPacket("REQUEST_METHOD", "POST", "REQUEST_URI", "/echo", "CONTENT_LENGTH", "x"), "400", nil},
		{"modifier1 other than 0", append([]byte{9}, getRoot[1:]...), "", nil},
		{"variable sizes past datasize", []byte{0, 5, 0, 0, 9, 0, 'K', 0, 0}, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := exchange(t, addr, tt.pkt)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("connection left open after %q", got)
				}
				// A reset after a refused packet is a close too.
			}
			if tt.wantStatus == "" {
				if len(got) != 0 {
					t.Fatalf("a bad packet got an answer: %q", got)
				}
				return
			}
			// nginx reads any HTTP/1.x status line from a uwsgi upstream.
			if !regexp.MustCompile(`^HTTP/1\.[01] ` + tt.wantStatus + ` `).Match(got) {
				t.Fatalf("answer %q, want an HTTP/1.x %s response", got, tt.wantStatus)
			}
			for _, w := range tt.wantBody {
				if !bytes.Contains(got, []byte(w)) {
					t.Errorf("answer lacks %s:\n%s", w, got)
				}
			}
		})
	}
	if t.Failed() {
		t.Logf("gonicorn stderr:\n%s", p.Stderr())
	}
}

// TestUWSGIRefusesPeersNotAllowed checks --uwsgi-allow-from: a peer outside the list
// (here 127.0.0.1, with only 10.1.2.3 allowed; nothing is ever sent to 10.1.2.3) has
// its connection closed without an answer, and gonicorn logs why.
func TestUWSGIRefusesPeersNotAllowed(t *testing.T) {
	addr := testutil.FreeAddr(t)
	p := startGonicorn(t, "tcp", addr, "--protocol", "uwsgi", "-b", addr, "-w", "1", "--uwsgi-allow-from", "10.1.2.3")
	got, err := exchange(t, addr, getRoot)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection from a refused peer was left open (read %q)", got)
	}
	if len(got) != 0 {
		t.Fatalf("a refused peer got an answer: %q", got)
	}
	// Two refused connections: the one that saw gonicorn was up, and this test's.
	testutil.Eventually(t, 10*time.Second, func() bool { return refusalLines(p.Stderr()) >= 2 },
		"want a log line naming the refused peer 127.0.0.1 and the allow list for each of the 2 connections; stderr:\n%s",
		p.Stderr())
}

// refusalLines counts log lines that name the peer 127.0.0.1 and the allow list.
func refusalLines(log string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		// A boot line that lists the allow list itself is not a refusal.
		if strings.Contains(line, "127.0.0.1") && strings.Contains(strings.ToLower(line), "allow") && !strings.Contains(line, "10.1.2.3") {
			n++
		}
	}
	return n
}
