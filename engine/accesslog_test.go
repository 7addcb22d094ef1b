package engine

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/logs"
)

func TestAccessLogLineInGunicornFormat(t *testing.T) {
	lines := &lockedBuffer{ch: make(chan []byte, 64)}
	al, err := logs.NewAccessLog(lines, config.DefaultAccessLogFormat)
	if err != nil {
		t.Fatal(err)
	}
	o := testConfig()
	o.Log, o.Access = zerolog.Nop(), al
	_, addr := serveOn(t, o, demo.Handler(), "http")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /bytes?n=7 HTTP/1.1\r\nHost: x\r\nReferer: http://r/\r\nUser-Agent: ua/1\r\n\r\n")
	readResponse(t, bufio.NewReader(c), "GET")
	waitUntil(t, 5*time.Second, func() bool { return strings.Contains(lines.String(), "\n") }, "an access log line")
	line := lines.String()
	for _, want := range []string{`127.0.0.1 - - [`, `] "GET /bytes?n=7 HTTP/1.1" 200 7 "http://r/" "ua/1"`} {
		if !strings.Contains(line, want) {
			t.Fatalf("access line %q lacks %q", line, want)
		}
	}
}

func TestForwardedProtoTrustedOnlyFromAllowedPeers(t *testing.T) {
	cases := []struct {
		name   string
		allow  []string
		header string
		scheme string
	}{
		{"trusted proxy says https", []string{"127.0.0.1"}, "X-Forwarded-Proto: https", "https"},
		{"trusted proxy says ssl", []string{"127.0.0.0/8"}, "X-Forwarded-Ssl: on", "https"},
		{"untrusted peer is ignored", []string{"10.0.0.1"}, "X-Forwarded-Proto: https", "http"},
		{"no header", []string{"*"}, "X-Other: 1", "http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.ForwardedAllowIPs = tc.allow
			ts := startServer(t, cfg, nil)
			c := ts.dial()
			io.WriteString(c, "GET /inspect HTTP/1.1\r\nHost: x\r\n"+tc.header+"\r\n\r\n")
			_, body := readResponse(t, bufio.NewReader(c), "GET")
			var doc demo.Inspection
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Scheme != tc.scheme {
				t.Fatalf("scheme %q, want %q", doc.Scheme, tc.scheme)
			}
		})
	}
}

func TestBodyTimeoutAnswers408(t *testing.T) {
	cfg := testConfig()
	cfg.BodyTimeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	c, br := ts.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a few bytes")
	resp, _ := readResponse(t, br, "POST")
	if resp.StatusCode != 408 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	expectClosed(t, c, br)
}

func TestConnectionCapStaysBelowTheFileLimit(t *testing.T) {
	cases := []struct {
		name   string
		want   int
		nofile uint64
		cap    int64
	}{
		{"limit far above", 10000, 1 << 20, 10000},
		{"limit below the setting", 10000, 1024, 1024 - fdReserve},
		{"unknown limit", 500, 0, 500},
		{"tiny limit still serves", 10, 64, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := connectionCap(tc.want, tc.nofile); got != tc.cap {
				t.Fatalf("cap %d, want %d", got, tc.cap)
			}
		})
	}
}
