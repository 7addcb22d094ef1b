package engine

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// At --worker-connections, idle connections are closed oldest first to make room
// for a new client, a connection in the middle of a request is kept, and a
// warning says the cap was hit and what was evicted.
func TestConnectionCapEvictsOldestIdle(t *testing.T) {
	cfg := testConfig()
	cfg.WorkerConnections = 8
	cfg.KeepAlive = 60 * time.Second
	cfg.HeaderTimeout = 60 * time.Second
	ts := startServer(t, cfg, nil)
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	open := func(n int64) {
		waitUntil(t, 5*time.Second, func() bool { return ts.srv.nconns.Load() == n }, "the server to count the connection")
	}
	// Oldest: a client in the middle of its head (never evicted).
	busy := dial()
	io.WriteString(busy, "GET / HTTP/1.1\r\nHost: x\r\n")
	open(1)
	// Then a keep-alive connection after one request, then silent ones.
	ka := dial()
	kaBR := bufio.NewReader(ka)
	io.WriteString(ka, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, kaBR, "GET")
	open(2)
	var silent []net.Conn
	for i := 3; i <= 8; i++ {
		time.Sleep(5 * time.Millisecond) // distinct ages
		silent = append(silent, dial())
		open(int64(i))
	}
	// At the cap: a new client is served once the oldest idle one makes room.
	fresh := dial()
	io.WriteString(fresh, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = fresh.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, body := readResponse(t, bufio.NewReader(fresh), "GET"); resp.StatusCode != 200 || body != "Hello, World!" {
		t.Fatalf("new client at the cap: %d %q", resp.StatusCode, body)
	}
	// The keep-alive connection was the oldest idle one: closed.
	_ = ka.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := kaBR.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("oldest idle connection not evicted: %v", err)
	}
	// The one mid-request was not: it completes its request.
	io.WriteString(busy, "\r\n")
	_ = busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, _ := readResponse(t, bufio.NewReader(busy), "GET"); resp.StatusCode != 200 {
		t.Fatalf("connection mid-request: %d", resp.StatusCode)
	}
	waitUntil(t, 5*time.Second, func() bool {
		l := ts.logs.String()
		return strings.Contains(l, "connection cap reached") && strings.Contains(l, `"evicted_keepalive":1,"evicted_silent":0`)
	}, "the cap warning naming what was evicted")
	// Nobody else waits to be accepted: the silent connections stay (no churn).
	time.Sleep(300 * time.Millisecond)
	for i, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
			t.Fatalf("silent connection %d: %v, want still open", i, err)
		}
	}
	// The next client in the backlog evicts the oldest silent one.
	next := dial()
	io.WriteString(next, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = next.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, _ := readResponse(t, bufio.NewReader(next), "GET"); resp.StatusCode != 200 {
		t.Fatalf("second new client at the cap: %d", resp.StatusCode)
	}
	_ = silent[0].SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := silent[0].Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("oldest silent connection not evicted: %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// An h2 connection with no stream open is an idle keep-alive connection too: at
// the cap it gets GOAWAY and closes when it is the oldest.
func TestConnectionCapEvictsIdleH2(t *testing.T) {
	cfg := testConfig()
	cfg.WorkerConnections = 4
	cfg.KeepAlive = 60 * time.Second
	cfg.HeaderTimeout = 60 * time.Second
	ts := startServer(t, cfg, nil)
	r := dialRaw(t, ts.addr)
	r.write(r.get(1, "/"))
	if resp := r.readResponse(1); resp.status != 200 {
		t.Fatalf("h2 request: %+v", resp)
	}
	for i := 2; i <= 4; i++ {
		time.Sleep(5 * time.Millisecond)
		c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		waitUntil(t, 5*time.Second, func() bool { return ts.srv.nconns.Load() == int64(i) }, "the connection to count")
	}
	fresh := ts.dial()
	io.WriteString(fresh, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, bufio.NewReader(fresh), "GET"); resp.StatusCode != 200 {
		t.Fatalf("new client at the cap: %d", resp.StatusCode)
	}
	if code := r.waitGoAway(5 * time.Second); code != 0 {
		t.Fatalf("idle h2 connection: GOAWAY %v, want NO_ERROR", code)
	}
}
