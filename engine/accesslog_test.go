package engine

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
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

// TestHostIsNotAHeader: on every protocol a handler finds the host in r.Host
// only, as net/http's server hands it over, and the access log's {host}i still
// prints it.
func TestHostIsNotAHeader(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host+"|"+strings.Join(r.Header.Values("Host"), ","))
	})
	// rawGet sends one raw request on a new connection and returns the body.
	rawGet := func(raw []byte) func(t *testing.T, addr string) string {
		return func(t *testing.T, addr string) string {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write(raw)
			_, body := readResponse(t, bufio.NewReader(c), "GET")
			return body
		}
	}
	pkt, _ := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", "/", "PATH_INFO", "/",
		"SERVER_PROTOCOL", "HTTP/1.1", "HTTP_HOST", "three.example", "SERVER_NAME", "s", "SERVER_PORT", "80")
	for _, tc := range []struct {
		proto string
		get   func(t *testing.T, addr string) string // the response body
	}{
		{"http", rawGet([]byte("GET / HTTP/1.1\r\nHost: one.example\r\n\r\n"))},
		// Absolute form: its host wins over the Host field.
		{"http", rawGet([]byte("GET http://named.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n"))},
		{"http", func(t *testing.T, addr string) string { // h2c, prior knowledge
			req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
			req.Host = "two.example"
			resp, err := h2Client(t, nil).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}},
		{"uwsgi", rawGet(pkt)},
	} {
		lines := &lockedBuffer{ch: make(chan []byte, 64)}
		al, err := logs.NewAccessLog(lines, "%({host}i)s %({HTTP_HOST}e)s")
		if err != nil {
			t.Fatal(err)
		}
		o := testConfig()
		o.Log, o.Access = zerolog.Nop(), al
		_, addr := serveOn(t, o, h, tc.proto)
		body := tc.get(t, addr)
		host, header, _ := strings.Cut(body, "|")
		if host == "" || header != "" {
			t.Errorf("%s: r.Host %q, Host header %q; want the host and no header", tc.proto, host, header)
		}
		waitUntil(t, 5*time.Second, func() bool { return strings.Contains(lines.String(), "\n") }, "an access log line")
		if line := strings.TrimSpace(lines.String()); line != host+" "+host {
			t.Errorf("%s: access line %q, want %q twice", tc.proto, line, host)
		}
		t.Logf("%s: %s", tc.proto, host)
	}
}
