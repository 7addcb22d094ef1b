package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutesOnNetHTTP(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"root says hello", "GET", "/", "", 200, "Hello, World!"},
		{"healthz", "GET", "/healthz", "", 200, "ok"},
		{"echo returns the body", "POST", "/echo", "ping", 200, "ping"},
		{"bytes counts", "GET", "/bytes?n=5", "", 200, "abcde"},
		{"stream concatenates chunks", "GET", "/stream?chunks=2&size=3", "", 200, "abcabc"},
		{"sleep zero", "GET", "/sleep?ms=0", "", 200, "slept"},
		{"unknown path", "GET", "/nope", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(strings.Builder)
			_, _ = io.Copy(buf, resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want != "" && buf.String() != tc.want {
				t.Fatalf("body %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

// headerWriter is a ResponseWriter keeping its header map across runs, so that
// what AllocsPerRun counts is the handler's own work.
type headerWriter struct{ h http.Header }

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerWriter) WriteHeader(int)             {}

// GET / is what the benchmarks serve, on every server compared: the demo's own
// share of a request stays nothing (routing included) beyond the header map the
// server gives it.
func TestRootAllocatesNothing(t *testing.T) {
	h := Handler()
	r := httptest.NewRequest("GET", "/", nil)
	w := &headerWriter{h: make(http.Header)}
	n := testing.AllocsPerRun(200, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
	if n != 0 {
		t.Fatalf("GET / allocated %v times per request, want 0", n)
	}
	if got := w.h.Get("Content-Type"); got != "text/plain" {
		t.Fatalf("Content-Type %q", got)
	}
}
