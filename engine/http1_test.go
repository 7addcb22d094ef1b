package engine

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
)

func TestServesDemoRoutesKeepAlive(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != "Hello, World!" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("Date") == "" || resp.ContentLength != 13 || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("headers %v", resp.Header)
		}
		if resp.Close {
			t.Fatal("HTTP/1.1 response closes a keep-alive connection")
		}
	}
}

func TestRequestSplitAtEveryByteParsesTheSame(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	req := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nContent-Length: 11\r\n\r\nhello world"
	c := ts.dial()
	br := bufio.NewReader(c)
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			t.Fatal(err)
		}
		if i%16 == 0 {
			time.Sleep(time.Millisecond) // let reads land separately
		}
	}
	resp, body := readResponse(t, br, "POST")
	if resp.StatusCode != 200 || body != "hello world" || resp.Header.Get("Content-Type") != "text/x-test" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	br := bufio.NewReader(c)
	var b strings.Builder
	paths := []string{"/sleep?ms=30", "/healthz", "/bytes?n=3", "/", "/sleep?ms=1"}
	for _, p := range paths {
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	want := []string{"slept", "ok", "abc", "Hello, World!", "slept"}
	for i, w := range want {
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || body != w {
			t.Fatalf("response %d: %d %q, want %q", i, resp.StatusCode, body, w)
		}
	}
}

func TestKeepAliveRulesOfHTTP10And11(t *testing.T) {
	cases := []struct {
		name      string
		req       string
		wantClose bool
	}{
		{"1.1 keeps by default", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"1.1 with Connection: close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true},
		{"1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", true},
		{"1.0 with keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false},
	}
	ts := startServer(t, testConfig(), nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, br := ts.send(tc.req)
			resp, body := readResponse(t, br, "GET")
			if body != "Hello, World!" {
				t.Fatalf("body %q", body)
			}
			if tc.wantClose {
				expectClosed(t, c, br)
				return
			}
			if resp.Close {
				t.Fatal("response says close")
			}
			io.WriteString(c, tc.req)
			if _, body := readResponse(t, br, "GET"); body != "Hello, World!" {
				t.Fatalf("second body %q", body)
			}
		})
	}
}

func TestChunkedRequestBodyWithTrailers(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	br := bufio.NewReader(c)
	io.WriteString(c, "POST /inspect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"+
		"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n")
	resp, body := readResponse(t, br, "POST")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var doc demo.Inspection
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello world"))
	if doc.BodySHA256 != hex.EncodeToString(sum[:]) || doc.BodyBytes != 11 {
		t.Fatalf("body seen as %d bytes %s", doc.BodyBytes, doc.BodySHA256)
	}
	if got := doc.Trailers["X-Sum"]; len(got) != 1 || got[0] != "42" {
		t.Fatalf("trailers %v", doc.Trailers)
	}
}

func TestExpectContinueSentWhenHandlerReads(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c, br := ts.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q %v", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("100 head not terminated: %q", l)
	}
	io.WriteString(c, "ping")
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != "ping" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestNoBodyForHeadAnd204And304(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h.HandleFunc("/304", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(304) })
	h.Handle("/", demo.Handler())
	ts := startServer(t, testConfig(), h)
	_, br := ts.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, br, "HEAD")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 13 {
		t.Fatalf("HEAD: %d %q cl=%d", resp.StatusCode, body, resp.ContentLength)
	}
	for _, code := range []int{204, 304} {
		resp, body = readResponse(t, br, "GET")
		if resp.StatusCode != code || body != "" || resp.Header.Get("Content-Length") != "" || len(resp.TransferEncoding) != 0 {
			t.Fatalf("%d: %d %q %v", code, resp.StatusCode, body, resp.Header)
		}
	}
	if _, body = readResponse(t, br, "GET"); body != "ok" {
		t.Fatalf("next response after bodiless ones: %q", body)
	}
}

func TestMalformedRequestsGetStatusAndClose(t *testing.T) {
	long := strings.Repeat("a", 5000)
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{"content-length with transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
		{"differing content-lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"obsolete line folding", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"bad token in name", "GET / HTTP/1.1\r\nHost: x\r\nX(a: b\r\n\r\n", 400},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"bad version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400},
		{"HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"request line too long", "GET /" + long + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"header field too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 9000) + "\r\n\r\n", 431},
		{"missing host in 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
		{"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
	}
	ts := startServer(t, testConfig(), nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, br := ts.send(tc.req)
			resp, _ := readResponse(t, br, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !resp.Close {
				t.Fatal("no Connection: close on a refused request")
			}
			expectClosed(t, c, br)
		})
	}
	if !strings.Contains(ts.logs.String(), `"level":"info"`) {
		t.Fatal("refusals were not logged at info level")
	}
}

func TestLargeUploadStreamsWithBoundedBuffer(t *testing.T) {
	cfg := testConfig()
	ts := startServer(t, cfg, nil)
	body := make([]byte, 5<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	resp, err := ts.client().Post(ts.url("/inspect"), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc demo.Inspection
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.BodySHA256 != hex.EncodeToString(sum[:]) || doc.BodyBytes != int64(len(body)) {
		t.Fatalf("server saw %d bytes, sha %s", doc.BodyBytes, doc.BodySHA256)
	}
	// Echo streams both ways at once.
	resp2, err := ts.client().Post(ts.url("/echo"), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("echo returned %d bytes, want %d", len(got), len(body))
	}
}

func TestLargeDownloadToSlowReaderIsComplete(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(c, "GET /bytes?n=8000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	br := bufio.NewReaderSize(c, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Read slowly at first so the server's queue fills and its writer must wait.
	buf := make([]byte, 4096)
	var n int64
	for i := 0; i < 50; i++ {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n+rest != 8000000 {
		t.Fatalf("got %d bytes of 8000000: response truncated", n+rest)
	}
}

func TestStreamingFlushesChunksAsProduced(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	io.WriteString(c, "GET /stream?chunks=3&size=5&ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("not chunked: %v", resp.TransferEncoding)
	}
	start := time.Now()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 250*time.Millisecond {
		t.Fatal("first chunk was held back until later chunks were produced")
	}
	rest, _ := io.ReadAll(resp.Body)
	if len(rest) != 10 {
		t.Fatalf("rest %q", rest)
	}
}

func TestContentTypeSniffedWhenUnset(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><html><body>hi</body></html>")
	})
	ts := startServer(t, testConfig(), h)
	resp, err := ts.client().Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
}

func TestAbsoluteFormTargetAndRequestFields(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	_, br := ts.send("GET http://example.com/inspect?a=1&b=%20 HTTP/1.1\r\nHost: example.com\r\nX-Rep: 1\r\nX-Rep: 2\r\nuser-agent: t\r\n\r\n")
	_, body := readResponse(t, br, "GET")
	var doc demo.Inspection
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err, body)
	}
	if doc.Path != "/inspect" || doc.RawQuery != "a=1&b=%20" || doc.Host != "example.com" ||
		doc.RequestURI != "http://example.com/inspect?a=1&b=%20" || doc.Proto != "HTTP/1.1" {
		t.Fatalf("%+v", doc)
	}
	if got := doc.Headers["X-Rep"]; len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Fatalf("repeated header %v", got)
	}
	if doc.Headers["User-Agent"][0] != "t" || !strings.HasPrefix(doc.RemoteAddr, "127.0.0.1:") {
		t.Fatalf("%+v", doc)
	}
}

func TestPipelinedBurstWithStreamingAndSlowRequests(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	c := ts.dial()
	br := bufio.NewReader(c)
	paths := []string{"/healthz", "/stream?chunks=3&size=2&ms=10", "/sleep?ms=20", "/bytes?n=70000", "/stream?chunks=2&size=1", "/"}
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p)
	}
	io.WriteString(c, b.String())
	want := []string{"ok", "ababab", "slept", strings.Repeat("x", 70000), "aa", "Hello, World!"}
	for i, w := range want {
		resp, body := readResponse(t, br, "GET")
		if i == 3 {
			if resp.StatusCode != 200 || len(body) != 70000 {
				t.Fatalf("response %d: %d, %d bytes", i, resp.StatusCode, len(body))
			}
			continue
		}
		if resp.StatusCode != 200 || body != w {
			t.Fatalf("response %d: %d %q, want %q", i, resp.StatusCode, body, w)
		}
	}
	// The connection is still good for more.
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readResponse(t, br, "GET"); body != "ok" {
		t.Fatalf("after the burst: %q", body)
	}
}

func TestPipelinedRequestPastDeadlineClosesAfterItsAnswer(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c, br := ts.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /hang?ms=600 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readResponse(t, br, "GET"); body != "ok" {
		t.Fatalf("first: %q", body)
	}
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 503 || !resp.Close {
		t.Fatalf("second: %d close=%v", resp.StatusCode, resp.Close)
	}
	// The request behind it gets no answer: the connection closed after the 503.
	expectClosed(t, c, br)
	// A panic in the middle of a burst answers 500 the same way.
	c2 := ts.dial()
	br2 := bufio.NewReader(c2)
	io.WriteString(c2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, br2, "GET")
	if resp, _ := readResponse(t, br2, "GET"); resp.StatusCode != 500 {
		t.Fatalf("panic in a burst: %d", resp.StatusCode)
	}
	expectClosed(t, c2, br2)
}

func TestResponseAheadOfSlowPipelinedRequestIsNotHeldLong(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	_, br := ts.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /sleep?ms=2000 HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	if _, body := readResponse(t, br, "GET"); body != "ok" {
		t.Fatalf("first: %q", body)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the first response waited %v for the slow one behind it", d)
	}
	if _, body := readResponse(t, br, "GET"); body != "slept" {
		t.Fatalf("second: %q", body)
	}
}

func TestHeaderChangesAfterWriteHeaderOnlyReachTrailers(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("X-Before", "1")
		w.WriteHeader(200)
		w.Header().Set("X-After", "ignored")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
		w.Header().Set(http.TrailerPrefix+"X-Late", "7")
	})
	ts := startServer(t, testConfig(), h)
	_, br := ts.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, br, "GET")
	if body != "body" || resp.Header.Get("X-Before") != "1" || resp.Header.Get("X-After") != "" {
		t.Fatalf("body %q header %v", body, resp.Header)
	}
	if resp.Trailer.Get("X-Sum") != "42" || resp.Trailer.Get("X-Late") != "7" {
		t.Fatalf("trailers %v", resp.Trailer)
	}
}
