package http1

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// readRequests returns every raw request under testdata/requests by file name.
func readRequests(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "requests", "*.http"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata requests: %v", err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// checkSplits parses in whole, then split in two at every byte boundary, then grown one
// byte at a time, each time handing the parser a fresh copy (so the buffer moves between
// calls, as gnet's does), and fails unless every way gives the whole-input result.
func checkSplits(t *testing.T, in []byte, lim Limits) {
	t.Helper()
	n, err, req := parseWhole(in, lim)
	whole := summary(n, err, req)
	fresh := func(b []byte) []byte { return append([]byte(nil), b...) }

	for i := 0; i <= len(in); i++ {
		p := Parser{Limits: lim}
		r := new(Request)
		n, err := p.Parse(fresh(in[:i]), r)
		if err == nil && n == 0 {
			n, err = p.Parse(fresh(in), r)
		}
		if got := summary(n, err, r); got != whole {
			t.Fatalf("split at %d:\n got %s\nwant %s", i, got, whole)
		}
	}

	p := Parser{Limits: lim}
	r := new(Request)
	got := "incomplete"
	for i := 1; i <= len(in); i++ {
		n, err := p.Parse(fresh(in[:i]), r)
		if got = summary(n, err, r); got != "incomplete" {
			break
		}
	}
	if got != whole {
		t.Fatalf("byte at a time:\n got %s\nwant %s", got, whole)
	}
}

func TestParseTestdataRequestsAtEverySplit(t *testing.T) {
	for name, in := range readRequests(t) {
		t.Run(name, func(t *testing.T) {
			n, err, _ := parseWhole(in, Limits{})
			if err != nil || n != len(in) {
				t.Fatalf("Parse = (%d, %v), want complete %d", n, err, len(in))
			}
			checkSplits(t, in, Limits{})
		})
	}
}

func TestParseInvalidHeadsAtEverySplit(t *testing.T) {
	small := Limits{MaxRequestLine: 20, MaxHeaderFields: 3, MaxFieldSize: 16, MaxHeaderBytes: 100}
	inputs := []string{
		"GET / HTTP/1.1\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
		head("GET / HTTP/2.0", "Host: a"),
		head("GET / HTTP/1.1", "Host : a"),
		head("GET / HTTP/1.1", "Host: a", "X: b", " c"),
		head("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Transfer-Encoding: chunked"),
		head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip"),
		head("GET / HTTP/1.1", "Host: a", "Expect: x"),
		head("GET /" + strings.Repeat("a", 30) + " HTTP/1.1"),
		head("GET / HTTP/1.1", "Host: a", "X: "+strings.Repeat("v", 30)),
		head("GET / HTTP/1.1", "Host: a", "B: 1", "C: 2", "D: 3"),
		headOfSize(101),
		head("GET /" + strings.Repeat("a", 30) + "\x00 HTTP/1.1"), // too long and bad: 414 first
		"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\x00", 30) + "\r\n\r\n",
	}
	for i, in := range inputs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			checkSplits(t, []byte(in), small)
			checkSplits(t, []byte(in), Limits{})
		})
	}
}

func TestParseAgreesWithNetHTTP(t *testing.T) {
	for name, in := range readRequests(t) {
		t.Run(name, func(t *testing.T) {
			n, err, req := parseWhole(in, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			// net/http's server skips leading empty lines before ReadRequest; so do we.
			trimmed := in[:n]
			for bytes.HasPrefix(trimmed, []byte("\r\n")) {
				trimmed = trimmed[2:]
			}
			std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(trimmed)))
			if err != nil {
				t.Fatalf("net/http refuses what we accept: %v", err)
			}
			if string(req.Method) != std.Method || string(req.Target) != std.RequestURI {
				t.Errorf("request line = %q %q, net/http %q %q", req.Method, req.Target, std.Method, std.RequestURI)
			}
			if req.ProtoMajor != std.ProtoMajor || req.ProtoMinor != std.ProtoMinor {
				t.Errorf("proto = %d.%d, net/http %s", req.ProtoMajor, req.ProtoMinor, std.Proto)
			}
			if req.Host != nil && string(req.Host) != std.Host {
				t.Errorf("Host = %q, net/http %q", req.Host, std.Host)
			}
			if req.ContentLength != std.ContentLength && !(req.ContentLength == -1 && std.ContentLength == 0 && !req.Chunked) {
				t.Errorf("ContentLength = %d, net/http %d", req.ContentLength, std.ContentLength)
			}
			if req.KeepAlive == std.Close {
				t.Errorf("KeepAlive = %v, net/http Close = %v", req.KeepAlive, std.Close)
			}
			if req.Chunked != (len(std.TransferEncoding) > 0) {
				t.Errorf("Chunked = %v, net/http TransferEncoding %q", req.Chunked, std.TransferEncoding)
			}
			for _, f := range req.Fields {
				name := http.CanonicalHeaderKey(string(f.Name))
				if name == "Host" || (name == "Transfer-Encoding" && req.Chunked) {
					continue // net/http moves these out of Header
				}
				found := false
				for _, v := range std.Header.Values(name) {
					found = found || v == string(f.Value)
				}
				if !found {
					t.Errorf("field %q: %q not in net/http's %q", f.Name, f.Value, std.Header.Values(name))
				}
			}
			// The handler's view: what net/http's server hands a handler (its
			// conn deletes Host after ReadRequest).
			r, err := NewRequest(context.Background(), in[:n], req)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			delete(std.Header, "Host")
			if r.Host != std.Host {
				t.Errorf("r.Host = %q, net/http %q", r.Host, std.Host)
			}
			if !reflect.DeepEqual(r.Header, std.Header) {
				t.Errorf("r.Header = %q, net/http %q", r.Header, std.Header)
			}
		})
	}
}
