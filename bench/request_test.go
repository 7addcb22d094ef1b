package bench

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

func testSpec(t *testing.T, method, path string, body []byte) *loadSpec {
	t.Helper()
	o := Options{Method: method, Path: path, Body: body,
		Header: http.Header{"X-Trace": {"a", "b"}, "Content-Type": {"text/plain"}}}
	s, err := o.resolve("127.0.0.1:8000")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHTTP1RequestReadsBackWithNetHTTP(t *testing.T) {
	for _, tt := range []struct {
		name      string
		method    string
		body      []byte
		closeConn bool
	}{
		{"GET keep-alive", "GET", nil, false},
		{"GET Connection: close", "GET", nil, true},
		{"POST with body", "POST", []byte("payload"), false},
		{"POST without body", "POST", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := appendHTTP1Request(nil, testSpec(t, tt.method, "/echo?x=1", tt.body), tt.closeConn)
			r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(r.Body)
			if r.Method != tt.method || r.RequestURI != "/echo?x=1" || r.Host != "127.0.0.1:8000" ||
				r.Close != tt.closeConn || !bytes.Equal(body, tt.body) ||
				len(r.Header["X-Trace"]) != 2 || r.UserAgent() != "" {
				t.Fatalf("read back %s %s host %q close %v body %q header %v", r.Method, r.RequestURI, r.Host, r.Close, body, r.Header)
			}
		})
	}
}

func TestUWSGIRequestReadsBackWithTheServersParser(t *testing.T) {
	raw, err := appendUWSGIRequest(nil, testSpec(t, "POST", "/echo%20x?q=1", []byte("body!")))
	if err != nil {
		t.Fatal(err)
	}
	var p uwsgi.Packet
	n, err := uwsgi.Parse(raw, nil, &p)
	if err != nil || n == 0 {
		t.Fatalf("Parse: %d, %v", n, err)
	}
	if !bytes.Equal(raw[n:], []byte("body!")) {
		t.Fatalf("body after the packet: %q", raw[n:])
	}
	r, err := uwsgi.NewRequest(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.RequestURI != "/echo%20x?q=1" || r.URL.Path != "/echo x" || r.URL.RawQuery != "q=1" ||
		r.Host != "127.0.0.1:8000" || r.ContentLength != 5 || r.Header.Get("Content-Type") != "text/plain" ||
		len(r.Header["X-Trace"]) != 2 {
		t.Fatalf("mapped to %s %s (%q) host %q length %d header %v", r.Method, r.RequestURI, r.URL.Path, r.Host, r.ContentLength, r.Header)
	}
}

func TestResolveRejectsBadOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"unknown workload", Options{Workload: "h3"}},
		{"relative path", Options{Path: "x"}},
		{"CRLF in header", Options{Header: http.Header{"X": {"a\r\nb"}}}},
		{"space in method", Options{Method: "GE T"}},
		{"depth beyond the stream table", Options{Workload: H2C, Depth: maxDepth + 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.o.resolve("127.0.0.1:1"); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestResolveDefaults(t *testing.T) {
	s, err := (&Options{Workload: H2C}).resolve("127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Conns != 16 || s.Depth != 32 || s.Method != "GET" || s.Path != "/" || s.WantStatus != 200 || s.CheckBody {
		t.Fatalf("h2c defaults: %+v", s)
	}
	s, _ = (&Options{Workload: KeepAlive, Depth: 9}).resolve("127.0.0.1:1")
	if s.Conns != 64 || s.Depth != 1 {
		t.Fatalf("keep-alive defaults: conns %d depth %d", s.Conns, s.Depth)
	}
}
