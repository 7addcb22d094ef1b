package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/testutil"
)

// startGonicorn starts the demo binary with args and waits until network/addr accepts
// connections.
func startGonicorn(t testing.TB, network, addr string, args ...string) *testutil.Proc {
	t.Helper()
	p := testutil.Start(t, testutil.Binary(t), args...)
	testutil.WaitDial(t, p, network, addr, 20*time.Second)
	return p
}

// The HTTPS uwsgi_param is what nginx sends on a TLS listener ($https is "on"); this
// map lets a plain-HTTP test ask for it with a request header.
const httpsFromHeaderMap = `
	map $http_x_e2e_https $e2e_https { default ""; on on; }`

// locations sends everything to upstream with the stock uwsgi_params, /stream unbuffered
// (as anyone streaming through nginx configures it), and /sleep to slowUpstream, a
// gonicorn with a one-second --timeout.
func locations(upstream, slowUpstream string) string {
	params := `
		include /etc/nginx/uwsgi_params;
		uwsgi_param HTTPS $e2e_https if_not_empty;
		uwsgi_read_timeout 5s;`
	return `
	location / {` + params + `
		uwsgi_pass ` + upstream + `;
	}
	location /stream {` + params + `
		uwsgi_buffering off;
		uwsgi_pass ` + upstream + `;
	}
	location /sleep {` + params + `
		uwsgi_pass ` + slowUpstream + `;
	}`
}

// TestNginxUWSGIOverTCP runs requests through nginx's uwsgi_pass to gonicorn over TCP
// (`--protocol uwsgi -b HOST:PORT`) and checks what the handler saw and what the
// client got.
func TestNginxUWSGIOverTCP(t *testing.T) {
	addr := testutil.FreeAddr(t)
	slowAddr := testutil.FreeAddr(t)
	startGonicorn(t, "tcp", addr, "--protocol", "uwsgi", "-b", addr, "-w", "1")
	startGonicorn(t, "tcp", slowAddr, "-b", "uwsgi://"+slowAddr, "-w", "1", "--timeout", "1")
	ng := startNginx(t, nginxSite{HTTP: httpsFromHeaderMap, Server: locations(addr, slowAddr)})
	c := newClient(t)

	t.Run("GET / answers Hello, World!", func(t *testing.T) {
		resp, body := c.do(t, mustRequest(t, "GET", ng.URL("/"), nil))
		if resp.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Fatalf("got %d %q, want 200 Hello, World!", resp.StatusCode, body)
		}
	})
	t.Run("GET with a query string", func(t *testing.T) {
		req := mustRequest(t, "GET", ng.URL("/inspect?x=1&y=%20z&e="), nil)
		req.Host = "app.example.test"
		got, local := c.inspect(t, req)
		want := inspection{
			Method: "GET", Path: "/inspect", RawPath: "/inspect", RawQuery: "x=1&y=%20z&e=",
			RequestURI: "/inspect?x=1&y=%20z&e=", Proto: "HTTP/1.1", Host: "app.example.test",
			RemoteAddr: local, Scheme: "http", BodySHA256: sha256Hex(nil),
		}
		checkInspection(t, got, want)
		if got.Headers["User-Agent"] == nil {
			t.Errorf("User-Agent missing from headers %v", got.Headers)
		}
	})
	t.Run("percent-encoded path and query reach the handler raw", func(t *testing.T) {
		req := mustRequest(t, "GET", ng.URL("/insp%65ct?q=caf%C3%A9&s=a%20b%2Fc"), nil)
		req.Host = "app.example.test"
		got, local := c.inspect(t, req)
		checkInspection(t, got, inspection{
			Method: "GET", Path: "/inspect", RawPath: "/insp%65ct", RawQuery: "q=caf%C3%A9&s=a%20b%2Fc",
			RequestURI: "/insp%65ct?q=caf%C3%A9&s=a%20b%2Fc", Proto: "HTTP/1.1", Host: "app.example.test",
			RemoteAddr: local, Scheme: "http", BodySHA256: sha256Hex(nil),
		})
	})
	t.Run("repeated headers stay repeated and in order", func(t *testing.T) {
		req := mustRequest(t, "GET", ng.URL("/inspect"), nil)
		req.Header["X-Multi"] = []string{"one", "two", "three"}
		req.Header.Set("X-Single-Header", "v")
		got, _ := c.inspect(t, req)
		if !equalStrings(got.Headers["X-Multi"], []string{"one", "two", "three"}) ||
			!equalStrings(got.Headers["X-Single-Header"], []string{"v"}) {
			t.Fatalf("headers = %v", got.Headers)
		}
	})
	t.Run("HTTPS from the proxy marks the request https", func(t *testing.T) {
		req := mustRequest(t, "GET", ng.URL("/inspect"), nil)
		req.Header.Set("X-E2E-Https", "on")
		if got, _ := c.inspect(t, req); got.Scheme != "https" {
			t.Fatalf("scheme = %q, want https (HTTPS=on)", got.Scheme)
		}
	})

	payload := randomBytes(t, 5<<20)
	t.Run("POST /echo of 5 MiB comes back unchanged", func(t *testing.T) {
		// Three times: whether nginx has sent the whole body before the answer
		// starts is a race, and the answer must be right whoever wins it.
		for i := 0; i < 3; i++ {
			checkEcho(t, c, ng, payload)
		}
	})
	t.Run("POST /inspect of 5 MiB has the body's sha256", func(t *testing.T) {
		got, _ := c.inspect(t, mustRequest(t, "POST", ng.URL("/inspect"), bytes.NewReader(payload)))
		if got.Method != "POST" || got.ContentLength != int64(len(payload)) || got.BodyBytes != int64(len(payload)) ||
			got.BodySHA256 != sha256Hex(payload) {
			t.Fatalf("method %s content_length %d body_bytes %d sha256 %s, want POST %d %d %s",
				got.Method, got.ContentLength, got.BodyBytes, got.BodySHA256, len(payload), len(payload), sha256Hex(payload))
		}
		if !equalStrings(got.Headers["Content-Length"], []string{strconv.Itoa(len(payload))}) {
			t.Errorf("Content-Length header = %q", got.Headers["Content-Length"])
		}
	})
	t.Run("chunked client body arrives de-chunked with its length", func(t *testing.T) {
		checkChunkedBody(t, c, ng, payload[:300<<10])
	})
	t.Run("stream chunks arrive before the last one is produced", func(t *testing.T) {
		const chunks, size, gap = 4, 8, 400 * time.Millisecond
		start := time.Now()
		resp, err := c.Do(mustRequest(t, "GET", ng.URL("/stream?chunks=4&size=8&ms=400"), nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make([]byte, size)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatalf("first chunk: %v", err)
		}
		firstAt := time.Since(start)
		rest, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("rest of the stream: %v", err)
		}
		lastAt := time.Since(start)
		if resp.StatusCode != 200 || len(first)+len(rest) != chunks*size {
			t.Fatalf("got %d with %d bytes, want 200 with %d", resp.StatusCode, len(first)+len(rest), chunks*size)
		}
		// The last chunk is produced 3 gaps after the first; a buffered response
		// would deliver both at the same moment.
		if lastAt-firstAt < (chunks-1)*gap/2 {
			t.Fatalf("first chunk after %v, the end after %v: the stream was buffered", firstAt, lastAt)
		}
	})
	t.Run("GET /bytes of 10 MB arrives whole", func(t *testing.T) {
		checkBytes(t, c, ng, 10_000_000)
	})
	t.Run("a handler past --timeout gets 503 from gonicorn, relayed by nginx", func(t *testing.T) {
		start := time.Now()
		resp, _ := c.do(t, mustRequest(t, "GET", ng.URL("/sleep?ms=8000"), nil))
		elapsed := time.Since(start)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d after %v, want 503 from --timeout 1 (502/504 would mean nginx gave up)", resp.StatusCode, elapsed)
		}
		if elapsed > 6*time.Second {
			t.Fatalf("503 took %v: it should come soon after the 1 s timeout", elapsed)
		}
	})
	t.Run("a panicking handler answers 500", func(t *testing.T) {
		if resp, _ := c.do(t, mustRequest(t, "GET", ng.URL("/panic"), nil)); resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500", resp.StatusCode)
		}
	})
	t.Run("gonicorn is still serving after all that", func(t *testing.T) {
		if resp, body := c.do(t, mustRequest(t, "GET", ng.URL("/healthz"), nil)); resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("got %d %q, want 200 ok", resp.StatusCode, body)
		}
	})
}

// TestNginxUWSGIOverUnixSocket runs requests through nginx's uwsgi_pass to gonicorn
// over a unix socket (`-b uwsgi+unix:PATH`).
func TestNginxUWSGIOverUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "gonicorn.sock")
	startGonicorn(t, "unix", sock, "-b", "uwsgi+unix:"+sock, "-w", "1")
	ng := startNginx(t, nginxSite{HTTP: httpsFromHeaderMap, Server: locations("unix:"+sock, "unix:"+sock)})
	c := newClient(t)

	t.Run("GET with a query string", func(t *testing.T) {
		req := mustRequest(t, "GET", ng.URL("/inspect?a=%2F&b"), nil)
		req.Host = "unix.example.test"
		got, local := c.inspect(t, req)
		checkInspection(t, got, inspection{
			Method: "GET", Path: "/inspect", RawPath: "/inspect", RawQuery: "a=%2F&b", RequestURI: "/inspect?a=%2F&b",
			Proto: "HTTP/1.1", Host: "unix.example.test", RemoteAddr: local, Scheme: "http", BodySHA256: sha256Hex(nil),
		})
	})
	payload := randomBytes(t, 1<<20)
	t.Run("POST /echo of 1 MiB comes back unchanged", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			checkEcho(t, c, ng, payload)
		}
	})
	t.Run("chunked client body arrives de-chunked with its length", func(t *testing.T) {
		checkChunkedBody(t, c, ng, payload[:100<<10])
	})
	t.Run("GET /bytes of 10 MB arrives whole", func(t *testing.T) {
		checkBytes(t, c, ng, 10_000_000)
	})
}

// inspection is the demo's /inspect document.
type inspection = demo.Inspection

// checkInspection compares every field but the headers, which tests check themselves.
func checkInspection(t *testing.T, got, want inspection) {
	t.Helper()
	got.Headers, want.Headers = nil, nil
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("inspect mismatch\n got %s\nwant %s", g, w)
	}
}

// checkEcho posts body to /echo and wants it back unchanged, with its Content-Type.
func checkEcho(t *testing.T, c *client, ng *nginx, body []byte) {
	t.Helper()
	req := mustRequest(t, "POST", ng.URL("/echo"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-e2e")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST /echo: %v", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		// nginx stops sending the request body to the upstream once it has the
		// upstream's response head (ngx_http_upstream_send_request_handler: after
		// header_sent the write handler is a no-op), so a server that answers
		// before it has received the whole body waits for the rest forever, and
		// nginx cuts the response at uwsgi_read_timeout.
		t.Fatalf("POST /echo of %d bytes: the answer was cut after %d bytes (%v): the server answered before "+
			"it had received the whole request body, and nginx stopped sending it", len(body), len(got), err)
	}
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("got %d with %d bytes (equal: %v), want 200 with the %d bytes sent",
			resp.StatusCode, len(got), bytes.Equal(got, body), len(body))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-e2e" {
		t.Errorf("Content-Type = %q, want the request's", ct)
	}
}

func checkChunkedBody(t *testing.T, c *client, ng *nginx, body []byte) {
	t.Helper()
	// A reader of unknown length makes net/http send Transfer-Encoding: chunked.
	req := mustRequest(t, "POST", ng.URL("/inspect"), io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	got, _ := c.inspect(t, req)
	if got.ContentLength != int64(len(body)) || got.BodyBytes != int64(len(body)) || got.BodySHA256 != sha256Hex(body) {
		t.Fatalf("content_length %d body_bytes %d sha256 %s, want %d %d %s",
			got.ContentLength, got.BodyBytes, got.BodySHA256, len(body), len(body), sha256Hex(body))
	}
	if te := got.Headers["Transfer-Encoding"]; te != nil {
		t.Errorf("the handler saw Transfer-Encoding %q for a body nginx de-chunked", te)
	}
}

func checkBytes(t *testing.T, c *client, ng *nginx, n int) {
	t.Helper()
	resp, body := c.do(t, mustRequest(t, "GET", ng.URL("/bytes?n="+strconv.Itoa(n)), nil))
	if resp.StatusCode != 200 || len(body) != n || resp.ContentLength != int64(n) {
		t.Fatalf("got %d with %d bytes (Content-Length %d), want 200 with %d", resp.StatusCode, len(body), resp.ContentLength, n)
	}
	// The demo writes a 64 KiB block of 'a'..'z' over and over.
	for i, b := range body {
		if want := 'a' + byte(i%(64<<10)%26); b != want {
			t.Fatalf("byte %d is %q, want %q: the body was corrupted", i, b, want)
		}
	}
}

// client is an http.Client with helpers that fail the test on transport errors.
type client struct{ *http.Client }

func newClient(t *testing.T) *client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4, ResponseHeaderTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{&http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// do sends req and returns the response with its whole body.
func (c *client) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// inspect sends req to /inspect and decodes the answer. It also returns the client's
// own address on the connection the request went over: the REMOTE_ADDR nginx passes.
func (c *client) inspect(t *testing.T, req *http.Request) (inspection, string) {
	t.Helper()
	var local string
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		local = info.Conn.LocalAddr().String()
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, body := c.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: status %d: %s", req.Method, req.URL, resp.StatusCode, body)
	}
	var got inspection
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s %s: decoding %q: %v", req.Method, req.URL, body, err)
	}
	return got, local
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
