package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/protocol/proxyproto"
)

var proxiedClient = proxyproto.Header{Proxied: true,
	Source: netip.MustParseAddrPort("203.0.113.7:51234"), Destination: netip.MustParseAddrPort("10.0.0.5:8000")}

// proxyServer serves a handler that answers r.RemoteAddr, with an access log and
// an error log the test can read.
type proxyServer struct {
	addr        string
	errLog, acc *lockedBuffer
}

func startProxyServer(t *testing.T, mode string, allowFrom ...string) *proxyServer {
	t.Helper()
	cfg := testConfig()
	cfg.ProxyProtocol = mode
	cfg.ProxyAllowFrom = allowFrom
	cfg.HeaderTimeout = 400 * time.Millisecond
	ps := &proxyServer{errLog: &lockedBuffer{ch: make(chan []byte, 256)}, acc: &lockedBuffer{ch: make(chan []byte, 256)}}
	al, err := logs.NewAccessLog(ps.acc, config.DefaultAccessLogFormat)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log, cfg.Access = zerolog.New(ps.errLog), al
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	_, ps.addr = serveOn(t, cfg, h, "http")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("error log:\n%s", ps.errLog.String())
		}
	})
	return ps
}

// get sends pre (a PROXY header, or nothing) then a GET, in pieces of chunk bytes
// gap apart (chunk 0: at once), and returns the answered remote address, or an
// error when the connection closed without an answer.
func (ps *proxyServer) get(t *testing.T, pre []byte, chunk int, gap time.Duration) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", ps.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := append(append([]byte(nil), pre...), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"...)
	if chunk <= 0 {
		chunk = len(msg)
	}
	for len(msg) > 0 {
		n := min(chunk, len(msg))
		if _, err := c.Write(msg[:n]); err != nil {
			return "", err
		}
		msg = msg[n:]
		if len(msg) > 0 {
			time.Sleep(gap)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestProxyProtocol(t *testing.T) {
	v1 := proxyproto.AppendV1(nil, proxiedClient)
	v2 := proxyproto.AppendV2(nil, proxiedClient, []byte{0x01, 0, 2, 'h', '2'})
	local := proxyproto.AppendV2(nil, proxyproto.Header{}, nil)
	const client = "203.0.113.7:51234"
	cases := []struct {
		name    string
		mode    string
		allow   string
		pre     []byte
		chunk   int
		want    string // a remote address; "self": the test's own; "": closed
		wantLog string
	}{
		{"v1 from an allowed peer", "v1", "127.0.0.1", v1, 0, client, ""},
		{"v2 from an allowed peer", "v2", "127.0.0.0/8", v2, 0, client, ""},
		{"v2 LOCAL keeps the peer's address", "v2", "127.0.0.1", local, 0, "self", ""},
		{"v1 split over reads", "v1", "127.0.0.1", v1, 3, client, ""},
		{"v2 split over reads", "v2", "127.0.0.1", v2, 5, client, ""},
		{"auto takes v1", "auto", "127.0.0.1", v1, 0, client, ""},
		{"auto takes v2", "auto", "127.0.0.1", v2, 0, client, ""},
		{"auto takes no header", "auto", "127.0.0.1", nil, 0, "self", ""},
		{"v1 expected, none sent", "v1", "127.0.0.1", nil, 0, "", "bad or missing PROXY header"},
		{"v1 expected, v2 sent", "v1", "127.0.0.1", v2, 0, "", "bad or missing PROXY header"},
		{"v2 expected, malformed", "v2", "127.0.0.1", append(v2[:13:13], 0x41, 0, 0), 0, "", "bad or missing PROXY header"},
		{"header from a peer not allowed is refused", "v1", "10.0.0.0/8", v1, 0, "", "not in --proxy-allow-from: connection refused"},
		{"v2 from a peer not allowed is refused", "auto", "10.0.0.0/8", v2, 0, "", "not in --proxy-allow-from: connection refused"},
		{"a peer not allowed is served as itself", "v2", "10.0.0.0/8", nil, 0, "self", ""},
		{"off ignores the allow-list", "off", "127.0.0.1", nil, 0, "self", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := startProxyServer(t, tc.mode, tc.allow)
			got, err := ps.get(t, tc.pre, tc.chunk, 5*time.Millisecond)
			switch tc.want {
			case "":
				if err == nil {
					t.Fatalf("answered %q, want the connection closed", got)
				}
				waitUntil(t, 5*time.Second, func() bool { return strings.Contains(ps.errLog.String(), tc.wantLog) },
					"the error log to say "+tc.wantLog)
				return
			case "self":
				if err != nil || !strings.HasPrefix(got, "127.0.0.1:") {
					t.Fatalf("remote address %q, %v; want the test's own", got, err)
				}
			default:
				if err != nil || got != tc.want {
					t.Fatalf("remote address %q, %v; want %q", got, err, tc.want)
				}
				waitUntil(t, 5*time.Second, func() bool { return strings.HasPrefix(ps.acc.String(), "203.0.113.7 - - [") },
					"the access log's %(h)s to be the proxied client")
			}
		})
	}
}

// A header that stops coming is bounded by --header-timeout, and the close is
// logged.
func TestProxyHeaderWaitIsBoundedByTheHeaderTimeout(t *testing.T) {
	for _, mode := range []string{"v1", "v2", "auto"} {
		t.Run(mode, func(t *testing.T) {
			ps := startProxyServer(t, mode, "127.0.0.1")
			c, err := net.Dial("tcp", ps.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			part := proxyproto.AppendV1(nil, proxiedClient)[:10]
			if mode == "v2" {
				part = proxyproto.AppendV2(nil, proxiedClient, nil)[:14]
			}
			start := time.Now()
			c.Write(part)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatalf("read %d bytes from a connection whose PROXY header stalled", n)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("closed after %v, header timeout 400ms", took)
			}
			waitUntil(t, 5*time.Second, func() bool {
				return strings.Contains(ps.errLog.String(), "PROXY header not received in time")
			}, "a log line for the stalled header")
		})
	}
}

// Keep-alive requests and h2c after one header all carry the proxied address.
func TestProxyHeaderCoversTheWholeConnection(t *testing.T) {
	ps := startProxyServer(t, "v2", "127.0.0.1")
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, ps.addr)
		if err == nil {
			_, err = c.Write(proxyproto.AppendV2(nil, proxiedClient, nil))
		}
		return c, err
	}
	h1 := &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{DialContext: dial, Protocols: &p}, Timeout: 10 * time.Second}
	for name, c := range map[string]*http.Client{"h1": h1, "h2c": h2} {
		for i := 0; i < 3; i++ {
			resp, err := c.Get("http://" + ps.addr + "/")
			if err != nil {
				t.Fatalf("%s request %d: %v", name, i, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if (name == "h2c") != (resp.ProtoMajor == 2) {
				t.Fatalf("%s request %d went over %s", name, i, resp.Proto)
			}
			if string(b) != "203.0.113.7:51234" {
				t.Fatalf("%s request %d: remote address %q", name, i, b)
			}
		}
	}
}
