package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// sseHandler streams n server-sent events gap apart, after moving its deadline
// with move (nil: it keeps --timeout). It ends early if its context ends.
func sseHandler(n int, gap time.Duration, move func(*http.ResponseController) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if move != nil {
			if err := move(rc); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < n; i++ {
			if _, err := fmt.Fprintf(w, "data: %d\n\n", i); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
		fmt.Fprint(w, "event: end\ndata: done\n\n")
	}
}

// readEvents reads an SSE response to its end: the data lines, and whether it
// ended cleanly (the terminating chunk arrived).
func readEvents(t *testing.T, c *http.Client, url string) (events []string, complete bool) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, d)
		}
	}
	return events, sc.Err() == nil
}

func TestHandlerDeadlineUnderTimeoutOfOneSecond(t *testing.T) {
	const n, gap = 15, 100 * time.Millisecond // 1.5 s of events under -t 1
	cases := []struct {
		name         string
		move         func(*http.ResponseController) error
		wantComplete bool
	}{
		{"SSE that extends its deadline runs to its end", func(rc *http.ResponseController) error {
			return rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		}, true},
		{"SSE that lifts its deadline runs to its end", func(rc *http.ResponseController) error {
			return rc.SetWriteDeadline(time.Time{})
		}, true},
		{"SSE that keeps --timeout is cut", nil, false},
		{"SSE that shortens its deadline is cut", func(rc *http.ResponseController) error {
			return rc.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		}, false},
	}
	for _, proto := range []string{"h1", "h2c"} {
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				cfg := testConfig()
				cfg.Timeout = time.Second
				ts := startServer(t, cfg, sseHandler(n, gap, tc.move))
				c := ts.client()
				if proto == "h2c" {
					c = h2Client(t, nil)
				}
				start := time.Now()
				events, complete := readEvents(t, c, ts.url("/events"))
				took := time.Since(start)
				if tc.wantComplete {
					if !complete || len(events) != n+1 || events[n] != "done" {
						t.Fatalf("got %d events (complete %v) in %v, want all %d and the end", len(events), complete, took, n)
					}
					if strings.Contains(ts.logs.String(), "exceeded") {
						t.Errorf("a stream within its own deadline was logged as exceeding: %s", ts.logs.String())
					}
					return
				}
				if complete || len(events) >= n {
					t.Fatalf("got %d events (complete %v) in %v: the deadline did not cut the stream", len(events), complete, took)
				}
				if took > 5*time.Second {
					t.Fatalf("the cut came after %v", took)
				}
			})
		}
	}
}

func TestSetWriteDeadlineMovesTheContextDeadline(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = time.Second
	want := time.Now().Add(time.Hour).Truncate(time.Second)
	got := make(chan time.Time, 1)
	ts := startServer(t, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context()) // derived before: follows the move
		defer cancel()
		_ = http.NewResponseController(w).SetWriteDeadline(want)
		d, _ := ctx.Deadline()
		got <- d
	}))
	resp, err := ts.client().Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := <-got; !d.Equal(want) {
		t.Fatalf("context deadline %v after SetWriteDeadline(%v)", d, want)
	}
}

// A hijacked connection is the handler's for as long as it likes: a WebSocket open
// well past --timeout keeps working, and nothing is logged as a timeout or stuck.
func TestWebSocketOutlivesTimeoutWithoutAnErrorLog(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 500 * time.Millisecond
	ts := startServer(t, cfg, echoWebSocket())
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+ts.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	end := time.Now().Add(4 * cfg.Timeout)
	for i := 0; time.Now().Before(end); i++ {
		m := fmt.Sprint("m", i)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatalf("write after %v: %v", time.Since(end.Add(-4*cfg.Timeout)), err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != "echo:"+m {
			t.Fatalf("read %q: %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !ts.srv.Healthy() || len(ts.srv.Stuck()) != 0 || ts.srv.pool.Running() != 0 {
		t.Fatalf("the WebSocket counts against the worker: healthy %v stuck %v running %d",
			ts.srv.Healthy(), ts.srv.Stuck(), ts.srv.pool.Running())
	}
	if logs := ts.logs.String(); strings.Contains(logs, `"level":"error"`) || strings.Contains(logs, "exceeded") {
		t.Fatalf("error log while a WebSocket outlived --timeout:\n%s", logs)
	}
}
