package gonicorn_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn"
	"github.com/gonicorn/gonicorn/engine"
)

// serveEngine serves h in this process under -t timeout, as a worker does.
func serveEngine(t *testing.T, timeout time.Duration, h http.Handler) string {
	t.Helper()
	o := engine.DefaultOptions()
	o.Timeout = timeout
	o.EventLoops = 1
	o.Log = zerolog.Nop()
	srv, err := engine.New(h, o)
	if err != nil {
		t.Fatal(err)
	}
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve([]*engine.Listener{{Listener: nl, Protocol: "http", Spec: nl.Addr().String()}})
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
	})
	return nl.Addr().String()
}

// ticker streams n events 100 ms apart, ending early when its context ends.
func ticker(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func TestWithTimeoutGivesARouteItsOwnDeadline(t *testing.T) {
	const n = 12 // 1.2 s of events under -t 1
	cases := []struct {
		name string
		h    http.Handler
		want int // events, or -1: fewer than n and cut
	}{
		{"longer than --timeout", gonicorn.WithTimeout(ticker(n), 10*time.Second), n},
		{"no deadline", gonicorn.WithTimeout(ticker(n), 0), n},
		{"shorter than --timeout", gonicorn.WithTimeout(ticker(n), 250*time.Millisecond), -1},
		{"without the middleware", ticker(n), -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveEngine(t, time.Second, tc.h)
			c := &http.Client{Timeout: 10 * time.Second}
			resp, err := c.Get("http://" + addr + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			events := 0
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					events++
				}
			}
			cut := sc.Err() != nil
			switch {
			case tc.want >= 0 && (events != tc.want || cut):
				t.Fatalf("%d events (cut %v: %v), want all %d", events, cut, sc.Err(), tc.want)
			case tc.want < 0 && (events >= n || !cut):
				t.Fatalf("%d events (cut %v): the deadline did not cut the stream", events, cut)
			}
		})
	}
}

func TestWithTimeoutUnderNetHTTPRecorderRunsTheHandler(t *testing.T) {
	rec := &recorder{header: http.Header{}}
	gonicorn.WithTimeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ran")
	}), time.Second).ServeHTTP(rec, &http.Request{})
	if rec.body.String() != "ran" {
		t.Fatalf("body %q", rec.body.String())
	}
}

type recorder struct {
	header http.Header
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(int)             {}
