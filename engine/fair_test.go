package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/protocol/h2"
)

// probeGETs sends n plain HTTP/1.1 GETs on fresh connections, a few at a time, and
// returns the statuses seen (0: no answer within 5 s).
func probeGETs(t *testing.T, addr string, n int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			status := 0
			defer func() { mu.Lock(); seen[status]++; mu.Unlock() }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
				return
			}
			var code int
			if _, err := fmt.Fscanf(bufio.NewReader(c), "HTTP/1.1 %d", &code); err == nil {
				status = code
			}
		}()
	}
	wg.Wait()
	return seen
}

// The issue-10 attack: 11 h2c connections, each opening 100 streams on a 1 MB
// response with SETTINGS_INITIAL_WINDOW_SIZE=0 and never reading. Their handlers
// park on flow control without holding pool slots, so plain GETs keep getting 200.
func TestZeroWindowH2FloodLeavesOthersServed(t *testing.T) {
	cfg := testConfig()
	cfg.Threads = 1024 // the default: the flood's 1,100 streams outnumber it
	cfg.MinResponseRate = 0
	ts := startServer(t, cfg, nil)
	const conns, streams = 11, 100
	var opened atomic.Int64
	for i := 0; i < conns; i++ {
		r := dialRaw(t, ts.addr, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
		var b []byte
		for k := 0; k < streams; k++ {
			b = append(b, r.get(uint32(2*k+1), "/bytes?n=1048576")...)
		}
		if err := r.write(b); err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		opened.Add(streams)
	}
	// Every flood handler has started and parked (none holds a slot).
	waitUntil(t, 20*time.Second, func() bool {
		return ts.srv.pool.Running() >= conns*streams && ts.srv.pool.Queued() == 0
	}, "the flood's handlers to start")
	waitUntil(t, 20*time.Second, func() bool { return ts.srv.pool.Parked() >= conns*streams }, "the flood's handlers to park")
	seen := probeGETs(t, ts.addr, 200)
	if seen[200] != 200 {
		t.Fatalf("probes under the zero-window flood: %v (parked %d, running %d), want 200 x 200",
			seen, ts.srv.pool.Parked(), ts.srv.pool.Running())
	}
}

// h2load -c64 -m200 opens 12,800 concurrent streams against 1,024 handler slots:
// the streams beyond the slots wait their turn in the pool's fair queue, and none
// fails (before the queue, 26% got 503).
func TestH2LoadManyStreamsNoneFails(t *testing.T) {
	bin := testutil.RequireTool(t, "h2load")
	cfg := testConfig()
	cfg.Threads = 1024
	cfg.HTTP2MaxConcurrentStreams = 200
	ts := startServer(t, cfg, nil)
	const n = 25600
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c64", "-m200", "-t1", "-n"+strconv.Itoa(n), "http://"+ts.addr+"/sleep?ms=20")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	var total, started, done, succeeded, failed, errored, timeout int
	var s2xx, s3xx, s4xx, s5xx int
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "requests:") {
			fmt.Sscanf(line, "requests: %d total, %d started, %d done, %d succeeded, %d failed, %d errored, %d timeout",
				&total, &started, &done, &succeeded, &failed, &errored, &timeout)
		}
		if strings.HasPrefix(line, "status codes:") {
			fmt.Sscanf(line, "status codes: %d 2xx, %d 3xx, %d 4xx, %d 5xx", &s2xx, &s3xx, &s4xx, &s5xx)
		}
	}
	if succeeded != n || failed != 0 || errored != 0 || s2xx != n || s5xx != 0 {
		t.Fatalf("h2load -c64 -m200: %d succeeded, %d failed, %d errored, %d 2xx, %d 5xx of %d\n%s",
			succeeded, failed, errored, s2xx, s5xx, n, out)
	}
}

// A stream waits in the queue at most --timeout: then 503 with Retry-After, and the
// connection serves on.
func TestH2QueuedStreamPastTheQueueWaitGets503(t *testing.T) {
	cfg := testConfig()
	cfg.Threads = 1
	cfg.Timeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	r := dialRaw(t, ts.addr)
	r.write(r.get(1, "/hang?ms=1500")) // holds the only slot past its deadline
	waitUntil(t, 5*time.Second, func() bool { return ts.srv.pool.Running() == 1 }, "the hanging handler")
	start := time.Now()
	r.write(r.get(3, "/"))
	if resp := r.readResponse(1); resp.status != 503 { // --timeout answers the stuck one
		t.Fatalf("hanging stream: %+v", resp)
	}
	resp := r.readResponse(3)
	if resp.status != 503 || resp.header.Get("retry-after") == "" {
		t.Fatalf("queued stream: %+v", resp)
	}
	if waited := time.Since(start); waited < cfg.Timeout || waited > 5*time.Second {
		t.Fatalf("503 after %v, want soon after the %v queue wait", waited, cfg.Timeout)
	}
	// Once the slot is back, streams run again.
	waitUntil(t, 5*time.Second, func() bool { return ts.srv.pool.Running() == 0 }, "the hanging handler to end")
	r2 := dialRaw(t, ts.addr)
	r2.write(r2.get(1, "/"))
	if resp := r2.readResponse(1); resp.status != 200 {
		t.Fatalf("after the hanging handler: %+v", resp)
	}
}

// slowReaders opens n connections that each ask for a large response and then
// read it 32 bytes at a time, a few times a second (slowhttptest -X's pattern),
// until the test ends. Their handlers wait on full socket queues. opened is called
// after each connection's request is sent.
func slowReaders(t *testing.T, addr string, n int, path string, opened func(i int)) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("slow reader %d: %v", i, err)
		}
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		opened(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, 32)
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
					_, _ = c.Read(buf)
				}
			}
		}()
	}
}

// A slow-read flood holds no handler capacity: with more slow readers than
// --threads, every handler waiting on a full socket queue parks, and normal
// clients get 200, never 503 (before, every slot was held and 100% got 503).
func TestSlowReadFloodLeavesOthersServed(t *testing.T) {
	cfg := testConfig()
	cfg.Threads = 32
	cfg.MinResponseRate = 0 // shows the parking; the rate would cut them later
	ts := startServer(t, cfg, nil)
	const readers = 96 // three times --threads
	slowReaders(t, ts.addr, readers, "/bytes?n=16777216", func(i int) {
		waitUntil(t, 10*time.Second, func() bool { return ts.srv.pool.Parked() > i }, "the slow reader's handler to park")
	})
	seen := probeGETs(t, ts.addr, 300)
	if seen[200] != 300 {
		t.Fatalf("normal clients under the slow-read flood: %v (parked %d, running %d)", seen, ts.srv.pool.Parked(), ts.srv.pool.Running())
	}
}
