package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Response header maps are reused (headerMaps): one response's fields never
// show in the next, whichever handler ran, over keep-alive and pipelined.
func TestHeaderMapsDoNotLeakBetweenResponses(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			w.Header().Set("X-Only-On-Set", "1")
			w.Header().Set("Content-Type", "application/x-set")
			fmt.Fprint(w, "set")
		case "/trailer":
			w.Header().Set("Trailer", "X-Tr")
			fmt.Fprint(w, "trailer")
			w.Header().Set("X-Tr", "late")
		default:
			w.Header() // asks for a map, sets nothing
			fmt.Fprint(w, "plain")
		}
	})
	ts := startServer(t, testConfig(), h)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	paths := []string{"/set", "/plain", "/trailer", "/plain", "/set", "/set", "/plain"}
	for round := 0; round < 2; round++ {
		// Round 0 one request at a time, round 1 all pipelined in one write.
		var batch string
		for _, p := range paths {
			req := "GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n"
			if round == 0 {
				if _, err := c.Write([]byte(req)); err != nil {
					t.Fatal(err)
				}
				checkHeaderResponse(t, br, p)
			} else {
				batch += req
			}
		}
		if round == 1 {
			if _, err := c.Write([]byte(batch)); err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				checkHeaderResponse(t, br, p)
			}
		}
	}
}

func checkHeaderResponse(t *testing.T, br *bufio.Reader, path string) {
	t.Helper()
	resp, body := readResponse(t, br, "GET")
	set := resp.Header.Get("X-Only-On-Set") != ""
	if set != (path == "/set") || (path == "/set") != (resp.Header.Get("Content-Type") == "application/x-set") {
		t.Fatalf("%s: header %v", path, resp.Header)
	}
	if tr := resp.Trailer.Get("X-Tr"); (tr == "late") != (path == "/trailer") || resp.Header.Get("Trailer") != "" && path != "/trailer" {
		t.Fatalf("%s: trailer %v, header %v", path, resp.Trailer, resp.Header)
	}
	if want := map[string]string{"/set": "set", "/trailer": "trailer"}[path]; want != "" && body != want || want == "" && body != "plain" {
		t.Fatalf("%s: body %q", path, body)
	}
}

// The head is framed from one pass over the handler's header: the fields the
// writer would add itself (Date, Connection, Content-Type) are not doubled when
// the handler set them, trailers stay out of the head, and names or values
// that could forge a field are left out.
func TestResponseHeadFromTheHandlersHeader(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/date":
			w.Header().Set("Date", "Mon, 01 Jan 2024 00:00:00 GMT")
		case "/close":
			w.Header().Set("Connection", "close")
		case "/ctype":
			w.Header().Set("Content-Type", "application/x-mine")
			fmt.Fprint(w, "<html>")
		case "/sniff":
			fmt.Fprint(w, "<html>")
		case "/declared":
			w.Header().Set("Trailer", "X-Sum")
			w.Header().Set("X-Sum", "early")
			fmt.Fprint(w, "body")
			w.Header().Set("X-Sum", "1")
		case "/forged":
			w.Header()["Bad Name"] = []string{"x"}
			w.Header()["X-Split"] = []string{"a\r\nInjected: 1", "ok"}
		}
		fmt.Fprint(w, "end")
	})
	ts := startServer(t, testConfig(), h)
	for _, tc := range []struct {
		path        string
		keepAlive   bool     // sent without Connection: close
		want, never []string // lines the raw response has exactly once, and must not have
	}{
		{"/date", false, []string{"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"}, nil},
		{"/close", true, []string{"Connection: close\r\n"}, nil},
		{"/ctype", false, []string{"Content-Type: application/x-mine\r\n"}, []string{"text/html"}},
		{"/sniff", false, []string{"Content-Type: text/html; charset=utf-8\r\n"}, nil},
		{"/declared", false, []string{"Transfer-Encoding: chunked\r\n", "Trailer: X-Sum\r\n", "\r\nX-Sum: 1\r\n"}, []string{"early"}},
		{"/forged", false, []string{"X-Split: ok\r\n"}, []string{"Bad Name", "Injected"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			req := "GET " + tc.path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
			if tc.keepAlive {
				req = "GET " + tc.path + " HTTP/1.1\r\nHost: x\r\n\r\n"
			}
			fmt.Fprint(c, req)
			raw, err := io.ReadAll(c) // the server closes after the response
			if err != nil {
				t.Fatalf("read: %v (%q)", err, raw)
			}
			resp := string(raw)
			for _, line := range tc.want {
				if n := strings.Count(resp, line); n != 1 {
					t.Errorf("%q appears %d times in\n%s", line, n, resp)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(resp, s) {
					t.Errorf("%q in\n%s", s, resp)
				}
			}
			if strings.Count(resp, "Date: ") != 1 {
				t.Errorf("not one Date in\n%s", resp)
			}
		})
	}
}
