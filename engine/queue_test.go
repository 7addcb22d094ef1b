package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// slotHolder is a handler for the queue tests: /block holds its handler slot
// (ignoring its context) until release, /ok answers "ok" at once; ran counts
// the handlers that started, by path and ?id.
type slotHolder struct {
	mux     *http.ServeMux
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex // guards release, once and ran
	once    sync.Once
	ran     map[string]int
}

func newSlotHolder(t *testing.T) *slotHolder {
	h := &slotHolder{mux: http.NewServeMux(), started: make(chan struct{}, 16),
		release: make(chan struct{}), ran: map[string]int{}}
	h.mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		release := h.release
		h.mu.Unlock()
		h.started <- struct{}{}
		<-release
		io.WriteString(w, "unblocked")
	})
	h.mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.ran["/ok?"+r.URL.RawQuery]++
		h.mu.Unlock()
		io.WriteString(w, "ok "+r.URL.RawQuery)
	})
	// Registered before the servers' cleanups run: a held handler never keeps
	// a server from stopping.
	t.Cleanup(h.unblock)
	return h
}

func (h *slotHolder) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *slotHolder) unblock() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.once.Do(func() { close(h.release) })
}

// rearm makes the next /block hold its slot again.
func (h *slotHolder) rearm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.release = make(chan struct{})
	h.once = sync.Once{}
}

func (h *slotHolder) runs(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ran[key]
}

// waitStarted waits for a /block handler to hold its slot.
func (h *slotHolder) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slot holder did not start")
	}
}

// oneSlotConfig is a worker with a single handler slot (--threads 1).
func oneSlotConfig() Options {
	cfg := testConfig()
	cfg.Threads = 1
	cfg.Stats = stats.NewCounters()
	return cfg
}

// holdSlot sends GET /block on its own connection and waits until it runs.
func holdSlot(t *testing.T, ts *testServer, h *slotHolder) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br := ts.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	h.waitStarted(t)
	return c, br
}

// checkNoRefusals fails unless the server counted no pool rejection and no 503.
func checkNoRefusals(t *testing.T, cfg Options, why string) {
	t.Helper()
	if s := cfg.Stats.Snapshot(0); s.PoolRejected() != 0 || s.Status(503) != 0 {
		t.Fatalf("pool rejections %d, 503s %d: %s", s.PoolRejected(), s.Status(503), why)
	}
}

// checkSlotsSettle waits until no handler runs and no request is in flight or
// queued, then proves the worker has exactly one slot: a held slot makes the
// next request wait, and that request runs once the slot is released.
func checkSlotsSettle(t *testing.T, ts *testServer, h *slotHolder) {
	t.Helper()
	waitUntil(t, 10*time.Second, func() bool {
		return ts.srv.pool.Running() == 0 && ts.srv.pool.Queued() == 0 && ts.srv.InFlight() == 0
	}, "handlers, queue and in-flight count back to zero")
	h.rearm()
	holdSlot(t, ts, h)
	_, br := ts.send("GET /ok?id=probe HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the probe to queue behind the held slot")
	h.unblock()
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id=probe" {
		t.Fatalf("probe after the slot came back: %d %q", resp.StatusCode, body)
	}
}

// A burst of HTTP/1.1 requests on as many connections while the only slot is
// held waits its turn: every request gets 200 once the slot frees, none 503.
func TestH1BurstWaitsForTheSlotInsteadOf503(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	ts := startServer(t, cfg, h)
	holder, holderBR := holdSlot(t, ts, h)
	const n = 8
	readers := make([]*bufio.Reader, n)
	for i := range readers {
		_, readers[i] = ts.send(fmt.Sprintf("GET /ok?id=%d HTTP/1.1\r\nHost: x\r\n\r\n", i))
	}
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == n }, "the burst to queue")
	if got := h.runs("/ok?id=0"); got != 0 {
		t.Fatalf("a queued handler ran while the slot was held (%d)", got)
	}
	h.unblock()
	if resp, body := readResponse(t, holderBR, "GET"); resp.StatusCode != 200 || body != "unblocked" {
		t.Fatalf("holder: %d %q", resp.StatusCode, body)
	}
	for i, br := range readers {
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != "ok id="+strconv.Itoa(i) || resp.Close {
			t.Fatalf("queued request %d: %d %q close=%v", i, resp.StatusCode, body, resp.Close)
		}
	}
	// The connections stay usable.
	io.WriteString(holder, "GET /ok?id=again HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, holderBR, "GET"); resp.StatusCode != 200 || body != "ok id=again" {
		t.Fatalf("after the burst: %d %q", resp.StatusCode, body)
	}
	checkNoRefusals(t, cfg, "want none")
	checkSlotsSettle(t, ts, h)
}

// The same for uWSGI: nginx's requests wait for the slot, and each gets its 200.
func TestUWSGIBurstWaitsForTheSlotInsteadOf503(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	srv, addr := serveOn(t, cfg, h, "uwsgi")
	dial := func(pkt []byte) *bufio.Reader {
		_, br := sendUWSGI(t, addr, pkt)
		return br
	}
	packet := uwsgiGET
	holderBR := dial(packet(t, "/block", ""))
	h.waitStarted(t)
	const n = 8
	readers := make([]*bufio.Reader, n)
	for i := range readers {
		readers[i] = dial(packet(t, "/ok", "id="+strconv.Itoa(i)))
	}
	waitUntil(t, 10*time.Second, func() bool { return srv.pool.Queued() == n }, "the uwsgi burst to queue")
	h.unblock()
	if resp, body := readResponse(t, holderBR, "GET"); resp.StatusCode != 200 || body != "unblocked" {
		t.Fatalf("holder: %d %q", resp.StatusCode, body)
	}
	for i, br := range readers {
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id="+strconv.Itoa(i) {
			t.Fatalf("queued uwsgi request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	checkNoRefusals(t, cfg, "want none")
	waitUntil(t, 10*time.Second, func() bool {
		return srv.pool.Running() == 0 && srv.pool.Queued() == 0 && srv.InFlight() == 0
	}, "handlers, queue and in-flight count back to zero")
}

// A request that waits longer than the queue wait (--timeout) gets 503 with
// Retry-After and Connection: close; its handler never runs, and the request
// pipelined behind it gets no answer (the connection closes after the 503).
func TestH1QueuedRequestPastTheQueueWaitGets503(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	cfg.Timeout = 300 * time.Millisecond
	ts := startServer(t, cfg, h)
	_, holderBR := holdSlot(t, ts, h) // ignores its deadline: the slot stays held
	start := time.Now()
	c, br := ts.send("GET /ok?id=late HTTP/1.1\r\nHost: x\r\n\r\nGET /ok?id=behind HTTP/1.1\r\nHost: x\r\n\r\n")
	readQueueRefusal(t, c, br, "GET", start, cfg.Timeout)
	// The holder itself got its --timeout 503.
	if resp, _ := readResponse(t, holderBR, "GET"); resp.StatusCode != 503 {
		t.Fatalf("holder past --timeout: %d", resp.StatusCode)
	}
	h.unblock()
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Running() == 0 }, "the holder to return")
	if n := h.runs("/ok?id=late") + h.runs("/ok?id=behind"); n != 0 {
		t.Fatalf("a dropped request's handler ran (%d)", n)
	}
	s := cfg.Stats.Snapshot(0)
	if s.PoolRejected() != 0 || s.Status(503) != 2 {
		t.Fatalf("pool rejections %d (want 0: the queue was not full), 503s %d (want 2: the holder's and the queued one's)",
			s.PoolRejected(), s.Status(503))
	}
	waitUntil(t, 5*time.Second, func() bool {
		return strings.Contains(ts.logs.String(), "request waited too long for a handler slot")
	}, "the queue-wait refusal in the log")
	checkSlotsSettle(t, ts, h)
}

// A client that closes its connection while its request waits takes the
// request out of the queue: its handler never runs, the others still do, and
// the worker's single slot is intact afterwards.
func TestH1ClientClosingWhileQueuedDropsItsRequest(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	ts := startServer(t, cfg, h)
	_, holderBR := holdSlot(t, ts, h)
	gone, _ := ts.send("GET /ok?id=gone HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the first request to queue")
	_, br := ts.send("GET /ok?id=stays HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 2 }, "the second request to queue")
	gone.Close()
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the closed connection's request to leave the queue")
	h.unblock()
	readResponse(t, holderBR, "GET")
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id=stays" {
		t.Fatalf("request queued behind the dropped one: %d %q", resp.StatusCode, body)
	}
	// Served first come first served: had it run, the dropped request would
	// have run before the one that just answered.
	if n := h.runs("/ok?id=gone"); n != 0 {
		t.Fatalf("the handler of a request whose client left ran %d times", n)
	}
	checkNoRefusals(t, cfg, "a departed client is neither")
	checkSlotsSettle(t, ts, h)
}

// Only a full queue (--max-queued-streams) answers 503 at once, counted as a
// pool rejection; the requests already queued still run.
func TestH1FullQueueAnswers503AtOnce(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	cfg.MaxQueuedStreams = 2
	ts := startServer(t, cfg, h)
	_, holderBR := holdSlot(t, ts, h)
	var queued []*bufio.Reader
	for i := 0; i < 2; i++ {
		_, br := ts.send(fmt.Sprintf("GET /ok?id=%d HTTP/1.1\r\nHost: x\r\n\r\n", i))
		queued = append(queued, br)
		waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == i+1 }, "a request to queue")
	}
	c, br := ts.send("GET /ok?id=over HTTP/1.1\r\nHost: x\r\n\r\n")
	readQueueRefusal(t, c, br, "GET", time.Time{}, 0) // before the slot frees: at once
	if s := cfg.Stats.Snapshot(0); s.PoolRejected() != 1 {
		t.Fatalf("pool rejections %d, want 1", s.PoolRejected())
	}
	h.unblock()
	readResponse(t, holderBR, "GET")
	for i, br := range queued {
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id="+strconv.Itoa(i) {
			t.Fatalf("queued request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := h.runs("/ok?id=over"); n != 0 {
		t.Fatalf("the refused request's handler ran (%d)", n)
	}
	checkSlotsSettle(t, ts, h)
}

// Requests pipelined behind a queued one are served in order once the slot
// frees, and the connection goes on.
func TestH1PipelinedRequestsBehindAQueuedOneAllRun(t *testing.T) {
	h := newSlotHolder(t)
	ts := startServer(t, oneSlotConfig(), h)
	_, holderBR := holdSlot(t, ts, h)
	c, br := ts.send("GET /ok?id=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /ok?id=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /ok?id=3 HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Queued() == 1 }, "the burst's first request to queue")
	h.unblock()
	readResponse(t, holderBR, "GET")
	for i := 1; i <= 3; i++ {
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id="+strconv.Itoa(i) {
			t.Fatalf("pipelined request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	io.WriteString(c, "GET /ok?id=4 HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id=4" {
		t.Fatalf("after the burst: %d %q", resp.StatusCode, body)
	}
	checkSlotsSettle(t, ts, h)
}

// uwsgiGET is the packet nginx's uwsgi_pass sends for GET path?query.
func uwsgiGET(t *testing.T, path, query string) []byte {
	t.Helper()
	pkt, err := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", path+"?"+query,
		"PATH_INFO", path, "QUERY_STRING", query, "SERVER_PROTOCOL", "HTTP/1.1",
		"REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5555", "SERVER_NAME", "t", "SERVER_PORT", "80", "HTTP_HOST", "t")
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

// sendUWSGI dials addr (10 s overall deadline) and sends pkt.
func sendUWSGI(t *testing.T, addr string, pkt []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// uWSGI requests leave the queue the same ways: nginx closing the upstream
// connection (the client went away) drops the request unrun, and one that
// waits past the queue wait gets 503 with Retry-After, after which the
// connection closes.
func TestUWSGIQueuedRequestDroppedOnCloseOr503PastTheWait(t *testing.T) {
	h := newSlotHolder(t)
	cfg := oneSlotConfig()
	cfg.Timeout = 300 * time.Millisecond
	srv, addr := serveOn(t, cfg, h, "uwsgi")
	_, holderBR := sendUWSGI(t, addr, uwsgiGET(t, "/block", ""))
	h.waitStarted(t)
	gone, _ := sendUWSGI(t, addr, uwsgiGET(t, "/ok", "id=gone"))
	waitUntil(t, 10*time.Second, func() bool { return srv.pool.Queued() == 1 }, "the first request to queue")
	gone.Close()
	waitUntil(t, 10*time.Second, func() bool { return srv.pool.Queued() == 0 }, "the closed connection's request to leave the queue")
	start := time.Now()
	c, br := sendUWSGI(t, addr, uwsgiGET(t, "/ok", "id=late"))
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("queued past the wait: %d %v", resp.StatusCode, resp.Header)
	}
	if waited := time.Since(start); waited < cfg.Timeout || waited > 5*time.Second {
		t.Fatalf("503 after %v, want soon after the %v queue wait", waited, cfg.Timeout)
	}
	expectClosed(t, c, br)
	if resp, _ := readResponse(t, holderBR, "GET"); resp.StatusCode != 503 {
		t.Fatalf("holder past --timeout: %d", resp.StatusCode)
	}
	h.unblock()
	waitUntil(t, 10*time.Second, func() bool {
		return srv.pool.Running() == 0 && srv.pool.Queued() == 0 && srv.InFlight() == 0
	}, "handlers, queue and in-flight count back to zero")
	if n := h.runs("/ok?id=gone") + h.runs("/ok?id=late"); n != 0 {
		t.Fatalf("a dropped request's handler ran (%d)", n)
	}
	if s := cfg.Stats.Snapshot(0); s.PoolRejected() != 0 || s.Status(503) != 2 {
		t.Fatalf("pool rejections %d (want 0), 503s %d (want 2: the holder's and the queued one's)",
			s.PoolRejected(), s.Status(503))
	}
	// The slot is back: the next request runs at once.
	_, br = sendUWSGI(t, addr, uwsgiGET(t, "/ok", "id=after"))
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok id=after" {
		t.Fatalf("after the queue emptied: %d %q", resp.StatusCode, body)
	}
}

// readQueueRefusal reads the 503 a request gets for waiting past the queue wait
// (wait, counted from start) or, with wait 0, at once for a full queue: with
// Retry-After and Connection: close, within wait and 5 s of start, and then the
// connection closes.
func readQueueRefusal(t *testing.T, c net.Conn, br *bufio.Reader, method string, start time.Time, wait time.Duration) {
	t.Helper()
	resp, body := readResponse(t, br, method)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Fatalf("queued request refused with %d %v %q, want 503 with Retry-After and Connection: close", resp.StatusCode, resp.Header, body)
	}
	if wait > 0 {
		if waited := time.Since(start); waited < wait || waited > 5*time.Second {
			t.Fatalf("503 after %v, want soon after the %v queue wait", waited, wait)
		}
	}
	expectClosed(t, c, br)
}
