package engine

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
)

func TestSlowlorisGets408AndClose(t *testing.T) {
	cfg := testConfig()
	cfg.HeaderTimeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c, br := ts.send("GET / HTTP/1.1\r\nHost: x\r\n")
	// Keep dribbling header bytes: the head timeout runs from the first byte.
	stop := time.Now().Add(2 * time.Second)
	go func() {
		for time.Now().Before(stop) {
			if _, err := io.WriteString(c, "X-A: b\r\n"); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 408 || !resp.Close {
		t.Fatalf("status %d close %v", resp.StatusCode, resp.Close)
	}
	expectClosed(t, c, br)
}

func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive = 200 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c, br := ts.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, br, "GET")
	start := time.Now()
	expectClosed(t, c, br)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("closed before --keep-alive elapsed")
	}
}

func TestHandlerPastDeadlineGets503WithRetryAfter(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c, br := ts.send("GET /hang?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	if time.Since(start) > time.Second {
		t.Fatal("503 waited for the stuck handler")
	}
	expectClosed(t, c, br)
	// The context of a well-behaved handler ends at the deadline too.
	c2 := ts.dial()
	br2 := bufio.NewReader(c2)
	io.WriteString(c2, "GET /sleep?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, br2, "GET"); resp.StatusCode != 503 {
		t.Fatalf("sleep past deadline: %d", resp.StatusCode)
	}
}

func TestHandlerPastDeadlineAfterStartingIsCut(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	_, br := ts.send("GET /stream?chunks=10&size=4&ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	if err == nil {
		t.Fatal("a response cut by the deadline read as complete")
	}
}

func TestPanicGives500AndServerServesOn(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	_, br := ts.send("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, err := ts.client().Get(ts.url("/healthz"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after panic: %v %v", resp, err)
	}
	resp.Body.Close()
	waitUntil(t, 5*time.Second, func() bool { return strings.Contains(ts.logs.String(), "goroutine") }, "panic stack in the log")
}

// With no queue (--max-queued-streams 0) a request that finds every slot busy
// gets 503 at once; with one, it waits its turn (queue_test.go).
func TestFullPoolAnswers503WithoutBlockingTheLoop(t *testing.T) {
	cfg := testConfig()
	cfg.Threads = 2
	cfg.MaxQueuedStreams = 0
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	h := http.NewServeMux()
	h.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) { started.Done(); <-release })
	h.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	ts := startServer(t, cfg, h)
	defer close(release)
	for i := 0; i < 2; i++ {
		c := ts.dial()
		io.WriteString(c, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	started.Wait()
	_, br := ts.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 503 {
		t.Fatalf("status %d with a full pool", resp.StatusCode)
	}
}

func TestHijackServesGorillaWebSocket(t *testing.T) {
	ts := startServer(t, testConfig(), echoWebSocket())
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+ts.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, m := range []string{"a", strings.Repeat("b", 200000)} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.ReadMessage()
		if err != nil || string(got) != "echo:"+m {
			t.Fatalf("got %d bytes, err %v", len(got), err)
		}
	}
}

func TestChiRouterAndResponseController(t *testing.T) {
	r := chi.NewRouter()
	r.Get("/users/{id}", func(w http.ResponseWriter, req *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		io.WriteString(w, "user "+chi.URLParam(req, "id"))
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})
	ts := startServer(t, testConfig(), r)
	resp, err := ts.client().Get(ts.url("/users/42"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "user 42" {
		t.Fatalf("body %q", body)
	}
}

func TestGracefulShutdownFinishesInFlightAndClosesIdle(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	idle := ts.dial()
	ibr := bufio.NewReader(idle)
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, ibr, "GET")

	busy := ts.dial()
	bbr := bufio.NewReader(busy)
	io.WriteString(busy, "GET /sleep?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")
	waitUntil(t, 5*time.Second, func() bool { return ts.srv.inflight.Load() == 1 }, "request in flight")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	expectClosed(t, idle, ibr)
	resp, body := readResponse(t, bbr, "GET")
	if resp.StatusCode != 200 || body != "slept" || !resp.Close {
		t.Fatalf("in-flight request: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestKeepAliveZeroClosesAfterEachResponse(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive = 0
	ts := startServer(t, cfg, nil)
	c, br := ts.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, br, "GET")
	if body != "ok" || !resp.Close {
		t.Fatalf("body %q close %v", body, resp.Close)
	}
	expectClosed(t, c, br)
}

func TestStalledChunkedBodyTimesOutDespiteWakes(t *testing.T) {
	cfg := testConfig()
	cfg.BodyTimeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c := ts.dial()
	br := bufio.NewReader(c)
	// A chunk-size line left incomplete: the decoder can consume nothing more.
	io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1")
	resp, _ := readResponse(t, br, "POST")
	if resp.StatusCode != 408 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	expectClosed(t, c, br)
}
