package engine

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/protocol/h2"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// The --body-timeout of a request sent with Expect: 100-continue runs from when
// the server asks for the body (its handler's first read, which writes 100
// Continue), or from the first body bytes the client sends unasked: the time
// the request waits in the pool's queue for a handler slot, and its handler's
// time before it reads, are the server's, not the client's.

// expectBodyTimeout is the --body-timeout of these tests; a request is held for
// three of them where the bug would cut it.
const expectBodyTimeout = 400 * time.Millisecond

// expectHandler is the slot holder (/block, /ok) plus /echo, which answers the
// body it read (or 400 and its read error), and /late, which does the same once
// the test opens its gate.
type expectHandler struct {
	*slotHolder
	lateStarted chan struct{}
	gate        chan struct{}
}

func newExpectHandler(t *testing.T) *expectHandler {
	h := &expectHandler{slotHolder: newSlotHolder(t), lateStarted: make(chan struct{}, 4), gate: make(chan struct{})}
	echo := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "read failed: "+err.Error())
			return
		}
		w.Write(b)
	}
	h.mux.HandleFunc("/echo", echo)
	h.mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		h.lateStarted <- struct{}{}
		select {
		case <-h.gate:
		case <-r.Context().Done():
			return
		}
		echo(w, r)
	})
	return h
}

// expectConfig is a one-slot worker with a short --body-timeout.
func expectConfig() Options {
	cfg := oneSlotConfig()
	cfg.BodyTimeout = expectBodyTimeout
	return cfg
}

// readContinue reads "100 Continue" from br (within 5 s) and returns when it came.
func readContinue(t *testing.T, c net.Conn, br *bufio.Reader) time.Time {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("want 100 Continue, got %q %v", line, err)
	}
	if l, err := br.ReadString('\n'); l != "\r\n" || err != nil {
		t.Fatalf("100 Continue head not terminated: %q %v", l, err)
	}
	return time.Now()
}

// readFinal reads the next final (non-1xx) response from br.
func readFinal(t *testing.T, c net.Conn, br *bufio.Reader) (*http.Response, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		resp, body := readResponse(t, br, "POST")
		if resp.StatusCode >= 200 {
			return resp, body
		}
	}
}

// An HTTP/1.1 request with Expect: 100-continue that waits for its handler
// (queued behind the only slot, or a handler slow to read) longer than
// --body-timeout keeps its body; the bounds on a client stay: one that never
// sends after 100 Continue, or stalls in a body it sent unasked, is cut by
// --body-timeout counted from then.
func TestExpectContinueBodyTimeoutStartsWhenTheBodyIsAsked(t *testing.T) {
	const ping = "ping"
	head := func(path string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
	}
	cases := []struct {
		name    string
		path    string // /echo waits in the queue behind a held slot; /late runs and waits to read
		unasked string // body bytes sent with the head, without waiting for 100 Continue
		send    string // body bytes sent once 100 Continue came
		status  int
		body    string
	}{
		{name: "queued, waits for 100 Continue", path: "/echo", send: ping, status: 200, body: ping},
		{name: "handler reads late, waits for 100 Continue", path: "/late", send: ping, status: 200, body: ping},
		{name: "queued, sends the body without waiting", path: "/echo", unasked: ping, status: 200, body: ping},
		{name: "queued, never sends after 100 Continue", path: "/echo", status: 400, body: "read failed: " + errBodyTimeout.Error()},
		{name: "handler reads late, never sends after 100 Continue", path: "/late", status: 400, body: "read failed: " + errBodyTimeout.Error()},
		{name: "queued, stalls in a body sent unasked", path: "/echo", unasked: "pi", status: 400, body: "read failed: " + errBodyTimeout.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newExpectHandler(t)
			cfg := expectConfig()
			ts := startServer(t, cfg, h)
			var holderBR *bufio.Reader
			if tc.path == "/echo" {
				_, holderBR = holdSlot(t, ts, h.slotHolder)
			}
			c, br := ts.send(head(tc.path) + tc.unasked)
			if tc.path == "/echo" {
				waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the request to queue")
			} else {
				select {
				case <-h.lateStarted:
				case <-time.After(10 * time.Second):
					t.Fatal("the late reader did not start")
				}
			}
			// Hold it for three body timeouts: the server's time, not the client's.
			time.Sleep(3 * cfg.BodyTimeout)
			if tc.path == "/echo" {
				h.unblock()
				if resp, body := readResponse(t, holderBR, "GET"); resp.StatusCode != 200 || body != "unblocked" {
					t.Fatalf("holder: %d %q", resp.StatusCode, body)
				}
			} else {
				close(h.gate)
			}
			var asked time.Time
			if tc.unasked == "" {
				asked = readContinue(t, c, br)
			}
			if tc.send != "" {
				io.WriteString(c, tc.send)
			}
			resp, body := readFinal(t, c, br)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 200 {
				return
			}
			// Cut by --body-timeout counted from 100 Continue (or from the bytes
			// sent unasked), never sooner; the connection closes.
			if waited := time.Since(asked); tc.unasked == "" && waited < cfg.BodyTimeout/2 {
				t.Fatalf("cut %v after 100 Continue: the body clock ran before the body was asked for", waited)
			}
			if !resp.Close {
				t.Fatal("a request whose body timed out kept its connection")
			}
			expectClosed(t, c, br)
		})
	}
}

// A queued Expect: 100-continue request is still bounded by the queue wait
// (--timeout): 503 with Retry-After and Connection: close, no 100 Continue.
func TestExpectContinueQueuedPastTheQueueWaitGets503(t *testing.T) {
	h := newExpectHandler(t)
	cfg := expectConfig()
	cfg.Timeout = 300 * time.Millisecond
	ts := startServer(t, cfg, h)
	holdSlot(t, ts, h.slotHolder)
	start := time.Now()
	c, br := ts.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	readQueueRefusal(t, c, br, "POST", start, cfg.Timeout)
}

// uWSGI has no 100 Continue (nginx answers Expect itself): a body larger than
// --body-buffer-size streams, and while its request waits for a slot the loop
// stops reading once the buffer is full, with no body clock. A request queued
// longer than --body-timeout keeps its whole body.
func TestUWSGIStreamedBodyQueuedPastBodyTimeoutIsKept(t *testing.T) {
	h := newExpectHandler(t)
	cfg := expectConfig()
	cfg.BodyBufferSize = 4 << 10
	srv, addr := serveOn(t, cfg, h, "uwsgi")
	_, holderBR := sendUWSGI(t, addr, uwsgiGET(t, "/block", ""))
	h.waitStarted(t)
	body := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	pkt, err := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "POST", "REQUEST_URI", "/echo",
		"PATH_INFO", "/echo", "QUERY_STRING", "", "SERVER_PROTOCOL", "HTTP/1.1", "CONTENT_LENGTH", strconv.Itoa(len(body)),
		"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5555", "SERVER_NAME", "t", "SERVER_PORT", "80", "HTTP_HOST", "t")
	if err != nil {
		t.Fatal(err)
	}
	_, br := sendUWSGI(t, addr, append(pkt, body...))
	waitUntil(t, 10*time.Second, func() bool { return srv.pool.Queued() == 1 }, "the uwsgi request to queue")
	time.Sleep(3 * cfg.BodyTimeout)
	h.unblock()
	readResponse(t, holderBR, "GET")
	if resp, got := readResponse(t, br, "POST"); resp.StatusCode != 200 || got != string(body) {
		t.Fatalf("queued uwsgi body: %d, %d bytes back of %d", resp.StatusCode, len(got), len(body))
	}
}

// HTTP/2 sends 100 Continue as the request's HEADERS arrive (the stream runs
// once its body, or --body-buffer-size of it, is in): the body clock starts
// there, and a submitted stream whose handler has not read what came is not
// waiting on its client. A stream queued longer than --body-timeout, whole or
// with more body to come, keeps its body.
func TestH2ExpectContinueQueuedPastBodyTimeoutIsKept(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, rest int // body bytes sent before the stream runs, and after
	}{
		{"whole body queued", 5, 0},
		{"part of the body queued, the rest after", 8 << 10, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newExpectHandler(t)
			cfg := expectConfig()
			cfg.BodyBufferSize = 4 << 10
			ts := startServer(t, cfg, h)
			_, holderBR := holdSlot(t, ts, h.slotHolder)
			body := []byte(strings.Repeat("h", tc.first+tc.rest))
			r := dialRaw(t, ts.addr)
			postExpectContinue(t, r, len(body))
			r.write(h2.AppendData(nil, 1, tc.rest == 0, body[:tc.first]))
			waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the stream to queue")
			time.Sleep(3 * cfg.BodyTimeout)
			h.unblock()
			readResponse(t, holderBR, "GET")
			if tc.rest > 0 {
				r.write(h2.AppendData(nil, 1, true, body[tc.first:]))
			}
			if resp := r.readResponse(1); resp.status != 200 || !bytes.Equal(resp.body, body) {
				t.Fatalf("status %d, %d bytes back of %d: %q", resp.status, len(resp.body), len(body), resp.body[:min(len(resp.body), 80)])
			}
		})
	}
}

// An h2c upgrade (Upgrade: h2c) with Expect: 100-continue and a body: the
// server needs the body before it can switch, so it asks for it at once with
// 100 Continue (before the 101, also when the body came with the head), then
// answers 101 and the request as stream 1.
func TestH2UpgradeWithExpectContinueAsksForTheBody(t *testing.T) {
	h := newExpectHandler(t)
	ts := startServer(t, expectConfig(), h)
	settings := base64.RawURLEncoding.EncodeToString(h2.AppendSettings(nil)[h2.FrameHeaderLen:])
	head := "POST /echo HTTP/1.1\r\nHost: up\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
		"HTTP2-Settings: " + settings + "\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
	for _, tc := range []struct {
		name          string
		unasked, sent string
	}{
		{"waits for 100 Continue", "", "ping"},
		{"body with the head", "ping", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := ts.send(head + tc.unasked)
			readContinue(t, c, br)
			io.WriteString(c, tc.sent)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("want 101, got %v %v", resp, err)
			}
			r := &rawH2{t: t, c: c, dec: hpackDecoder()}
			if n := br.Buffered(); n > 0 {
				b, _ := br.Peek(n)
				r.in = append(r.in, b...)
			}
			r.write(h2.AppendSettings([]byte(h2.ClientPreface)))
			if got := r.readResponse(1); got.status != 200 || string(got.body) != "ping" {
				t.Fatalf("stream 1: %d %q", got.status, got.body)
			}
		})
	}
}
