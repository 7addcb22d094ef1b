package engine

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each malformed or RFC-restricted request gets its answer over a real socket: the
// right status with Connection: close, then the connection ends; a valid one reaches
// the handler as net/http would hand it over.
func TestRequestLineAndTargetAnswers(t *testing.T) {
	echoURI := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, r.Method+" "+r.RequestURI)
	})
	ts := startServer(t, testConfig(), echoURI)
	tests := []struct {
		name   string
		in     string
		status int    // 0: the connection closes without an answer
		body   string // for 200: what the handler saw
	}{
		{"trailing space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, ""},
		{"missing version", "GET /\r\nHost: a\r\n\r\n", 400, ""},
		{"method only", "GET\r\n\r\n", 400, ""},
		{"two spaces before the version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"unsupported HTTP version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, ""},
		{"HTTP/3", "GET / HTTP/3\r\nHost: a\r\n\r\n", 505, ""},
		{"bad method byte with a version", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"TLS hello is not HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 0, ""},
		{"binary noise is not HTTP", "\x00\x01\x02\x03\r\n\r\n", 0, ""},
		{"an invalid HTTP/2 preface is not HTTP", "INVALID CONNECTION PREFACE\r\n\r\n", 0, ""},
		{"OPTIONS asterisk reaches the handler", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 200, "OPTIONS *"},
		{"asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"authority-form with GET", "GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"authority-form with CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 200, "CONNECT example.com:443"},
		{"CONNECT without a port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"absolute-form", "GET http://a/x?y HTTP/1.1\r\nHost: a\r\n\r\n", 200, "GET http://a/x?y"},
		{"Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", 400, ""},
		{"Content-Length list without spaces", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5\r\n\r\nhello", 400, ""},
		{"Content-Length in the trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", 400, ""},
		{"Transfer-Encoding in the trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, ""},
		{"Host in the trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nHost: evil\r\n\r\n", 400, ""},
		{"an allowed trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", 200, "POST /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial()
			br := bufio.NewReader(c)
			if _, err := io.WriteString(c, tt.in); err != nil {
				t.Fatal(err)
			}
			if tt.status == 0 {
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				b, err := io.ReadAll(br)
				if len(b) > 0 {
					t.Fatalf("got an answer %q to bytes that are not HTTP", b)
				}
				if err != nil && !strings.Contains(err.Error(), "reset") {
					t.Fatalf("connection not closed: %v", err)
				}
				return
			}
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 {
				if body != tt.body {
					t.Fatalf("handler saw %q, want %q", body, tt.body)
				}
				return
			}
			if !resp.Close { // set from "Connection: close" (which net/http then drops from Header)
				t.Fatalf("a %d without Connection: close: %v", tt.status, resp.Header)
			}
			expectClosed(t, c, br)
		})
	}
}
