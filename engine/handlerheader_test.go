package engine

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
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
