package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/demo"
)

var nopLog = zerolog.Nop()

// serveOn serves h with cfg and o on a fresh 127.0.0.1 port speaking proto
// ("http" or "uwsgi"), and stops it, waiting up to 10 s, when the test ends.
func serveOn(tb testing.TB, o Options, h http.Handler, proto string) (*Server, string) {
	tb.Helper()
	srv, err := New(h, o)
	if err != nil {
		tb.Fatal(err)
	}
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := nl.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve([]*Listener{{Listener: nl, Protocol: proto, Spec: addr}}) }()
	tb.Cleanup(func() {
		_ = srv.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Error("server did not stop within 10s of Close")
		}
	})
	return srv, addr
}

// testServer is an engine serving on a loopback port inside the test process.
type testServer struct {
	t    *testing.T
	srv  *Server
	addr string
	logs *lockedBuffer
}

type lockedBuffer struct {
	ch chan []byte
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.ch <- append([]byte(nil), p...)
	return len(p), nil
}

// String returns everything logged so far.
func (l *lockedBuffer) String() string {
	for {
		select {
		case p := <-l.ch:
			l.b.Write(p)
		default:
			return l.b.String()
		}
	}
}

func testConfig() Options {
	cfg := DefaultOptions()
	cfg.EventLoops = 2
	cfg.Threads = 64
	cfg.Timeout = 10 * time.Second
	return cfg
}

// startServer serves h (the demo app when nil) with cfg on a fresh loopback port.
func startServer(t *testing.T, cfg Options, h http.Handler) *testServer {
	t.Helper()
	if h == nil {
		h = demo.Handler()
	}
	logBuf := &lockedBuffer{ch: make(chan []byte, 4096)}
	log := zerolog.New(logBuf).With().Timestamp().Logger()
	cfg.Log = log
	srv, addr := serveOn(t, cfg, h, "http")
	ts := &testServer{t: t, srv: srv, addr: addr, logs: logBuf}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	return ts
}

// send dials (as dial does), writes raw, and returns the connection with a
// reader of its answers.
func (ts *testServer) send(raw string) (net.Conn, *bufio.Reader) {
	c := ts.dial()
	io.WriteString(c, raw)
	return c, bufio.NewReader(c)
}

// dial opens a raw connection with a 10 s overall deadline.
func (ts *testServer) dial() net.Conn {
	ts.t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		ts.t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ts.t.Cleanup(func() { c.Close() })
	return c
}

// client returns an http.Client for the server with bounded timeouts.
func (ts *testServer) client() *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16, ResponseHeaderTimeout: 10 * time.Second}
	ts.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

func (ts *testServer) url(path string) string { return "http://" + ts.addr + path }

// readResponse reads one response from br for a request with the given method.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	return resp, string(body)
}

// expectClosed asserts the server closes the connection (EOF, not a hang).
func expectClosed(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := br.ReadByte()
	if err == nil {
		t.Fatalf("connection still open: read %q", b)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection not closed within 5s")
	}
}

func waitUntil(t *testing.T, timeout time.Duration, cond func() bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// echoWebSocket upgrades to a WebSocket (gorilla/websocket, over Hijack) and
// answers every message with "echo:" and the message, until the client leaves.
func echoWebSocket() http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			mt, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(mt, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	})
}
