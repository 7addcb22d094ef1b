package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/protocol/h2"
)

func TestRateMeterWindow(t *testing.T) {
	const s = int64(time.Second)
	base := 1000 * s
	tests := []struct {
		name  string
		adds  map[int64]int64 // second offset -> bytes
		at    int64           // nanos after base
		rate  int
		grace time.Duration
		slow  bool
	}{
		{"within the grace nothing is slow", nil, 4 * s, 100, 5 * time.Second, false},
		{"nothing moved after the grace", nil, 5 * s, 100, 5 * time.Second, true},
		{"enough over the window", map[int64]int64{1: 200, 2: 200, 3: 200}, 5 * s, 100, 5 * time.Second, false},
		{"a burst long ago does not count", map[int64]int64{0: 1 << 20}, 9 * s, 100, 5 * time.Second, true},
		{"a trickle below the rate", map[int64]int64{1: 50, 2: 50, 3: 50, 4: 50, 5: 50}, 5*s + s/2, 100, 5 * time.Second, true},
		{"a short grace still measures one second", map[int64]int64{0: 150}, s, 100, 0, false},
		{"off", nil, 60 * s, 0, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m rateMeter
			m.begin(base)
			for sec, n := range tt.adds {
				m.add(base+sec*s, n)
			}
			if got := m.tooSlow(base+tt.at, tt.rate, tt.grace); got != tt.slow {
				t.Fatalf("tooSlow = %v, want %v", got, tt.slow)
			}
		})
	}
}

// A client reading a large response at 8 KiB/s is cut by --min-response-rate
// 64 KiB/s once the grace has passed, long before --write-timeout, with an info
// line; while it read nothing at all --write-timeout would apply instead.
func TestMinResponseRateCutsASlowReader(t *testing.T) {
	cfg := testConfig()
	cfg.MinResponseRate = 64 << 10
	cfg.MinRateGrace = time.Second
	cfg.WriteTimeout = 30 * time.Second
	ts := startServer(t, cfg, nil)
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET /bytes?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 64<<20)
	start := time.Now()
	buf := make([]byte, 800)
	var got int
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(buf)
		got += n
		if err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // 8 KB/s
		if time.Since(start) > 15*time.Second {
			t.Fatalf("still connected after %v (%d bytes read)", time.Since(start), got)
		}
	}
	if took := time.Since(start); took < cfg.MinRateGrace {
		t.Fatalf("cut after %v, within the grace", took)
	}
	waitUntil(t, 5*time.Second, func() bool {
		return strings.Contains(ts.logs.String(), "below --min-response-rate")
	}, "the info line")
	// Everyone else is served.
	c2 := ts.dial()
	io.WriteString(c2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := readResponse(t, bufio.NewReader(c2), "GET"); resp.StatusCode != 200 {
		t.Fatalf("after the cut: %d", resp.StatusCode)
	}
}

// A fast reader of the same response is not cut, however long it takes.
func TestMinResponseRateSparesAReaderThatKeepsUp(t *testing.T) {
	cfg := testConfig()
	cfg.MinResponseRate = 64 << 10
	cfg.MinRateGrace = time.Second
	ts := startServer(t, cfg, nil)
	c := ts.dial()
	fmt.Fprintf(c, "GET /bytes?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 32<<20)
	resp, body := readResponse(t, bufio.NewReader(c), "GET")
	if resp.StatusCode != 200 || len(body) != 32<<20 {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
}

// A request body sent at 100 B/s is cut by --min-request-rate 1000 B/s after the
// grace: 408 for a body still being buffered, and the connection closes for one
// streaming to its handler; --body-timeout (30 s) alone would wait forever, as
// every byte restarts it.
func TestMinRequestRateCutsATrickleUpload(t *testing.T) {
	cfg := testConfig()
	cfg.MinRequestRate = 1000
	cfg.MinRateGrace = time.Second
	cfg.BodyTimeout = 30 * time.Second
	ts := startServer(t, cfg, nil)
	for _, size := range []int{4000, 1 << 20} { // buffered, streamed (> --body-buffer-size)
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := ts.dial()
			fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
			start := time.Now()
			done := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(c)
				done <- b
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case b := <-done:
					took := time.Since(start)
					if took < cfg.MinRateGrace || took > 10*time.Second {
						t.Fatalf("cut after %v", took)
					}
					if size <= cfg.BodyBufferSize && !strings.HasPrefix(string(b), "HTTP/1.1 408") {
						t.Fatalf("buffered body: got %q, want 408", b)
					}
					waitUntil(t, 5*time.Second, func() bool {
						return strings.Contains(ts.logs.String(), "below --min-request-rate")
					}, "the info line")
					return
				case <-tick.C:
					_, _ = c.Write([]byte("0123456789")) // 100 B/s
					if time.Since(start) > 15*time.Second {
						t.Fatal("trickle upload never cut")
					}
				}
			}
		})
	}
}

// An h2 stream whose client keeps its window shut is reset by --min-response-rate
// after the grace, long before --write-timeout; the connection serves on.
func TestMinResponseRateResetsAStarvedH2Stream(t *testing.T) {
	cfg := testConfig()
	cfg.MinResponseRate = 1000
	cfg.MinRateGrace = time.Second
	cfg.WriteTimeout = 30 * time.Second
	ts := startServer(t, cfg, nil)
	r := dialRaw(t, ts.addr, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
	start := time.Now()
	r.write(r.get(1, "/bytes?n=100000"))
	resp := r.readResponse(1)
	if !resp.isReset || resp.reset != h2.ErrCodeCancel {
		t.Fatalf("starved stream: %+v", resp)
	}
	if took := time.Since(start); took < cfg.MinRateGrace || took > 10*time.Second {
		t.Fatalf("reset after %v", took)
	}
	if !strings.Contains(ts.logs.String(), "below --min-response-rate") {
		t.Fatal("no info line")
	}
	r.write(h2.AppendWindowUpdate(nil, 0, 1<<20))
	r.write(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 1 << 20}))
	r.write(r.get(3, "/"))
	if resp := r.readResponse(3); resp.status != 200 {
		t.Fatalf("next stream: %+v", resp)
	}
}
