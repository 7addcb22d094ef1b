package http1

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"unsafe"

	"github.com/gonicorn/gonicorn/internal/reqmem"
)

func TestNewRequest(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	for _, tc := range []struct {
		name  string
		head  string
		check func(t *testing.T, r *http.Request)
	}{
		{"origin form with headers", "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nuser-agent: t\r\nX-Two: 1\r\nx-two: 2\r\n\r\n",
			func(t *testing.T, r *http.Request) {
				if r.Method != "GET" || r.RequestURI != "/a?b=c" || r.URL.Path != "/a" || r.URL.RawQuery != "b=c" {
					t.Errorf("target: %s %q %v", r.Method, r.RequestURI, r.URL)
				}
				if r.Host != "example.com" || r.Proto != "HTTP/1.1" || r.Close {
					t.Errorf("host %q proto %q close %v", r.Host, r.Proto, r.Close)
				}
				// Host is in r.Host only, as net/http's server keeps it.
				want := http.Header{"User-Agent": {"t"}, "X-Two": {"1", "2"}}
				if !reflect.DeepEqual(r.Header, want) {
					t.Errorf("header %v, want %v", r.Header, want)
				}
			}},
		{"HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.Proto != "HTTP/1.0" || !r.Close || r.ContentLength != 0 {
				t.Errorf("proto %q close %v length %d", r.Proto, r.Close, r.ContentLength)
			}
		}},
		{"chunked with declared trailers", "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum, Expires\r\n\r\n",
			func(t *testing.T, r *http.Request) {
				if r.ContentLength != -1 || !reflect.DeepEqual(r.TransferEncoding, []string{"chunked"}) {
					t.Errorf("length %d coding %v", r.ContentLength, r.TransferEncoding)
				}
				if want := (http.Header{"X-Sum": nil, "Expires": nil}); !reflect.DeepEqual(r.Trailer, want) {
					t.Errorf("trailer %v, want %v", r.Trailer, want)
				}
			}},
		{"absolute form gives the host", "GET http://other:8080/p HTTP/1.1\r\nHost: other:8080\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.URL.Host != "other:8080" || r.URL.Path != "/p" || r.Host != "other:8080" {
				t.Errorf("url %v host %q", r.URL, r.Host)
			}
		}},
		{"absolute form overrides the Host field", "GET http://named:1/p HTTP/1.1\r\nHost: other\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.Host != "named:1" || r.Header["Host"] != nil {
				t.Errorf("host %q header %v", r.Host, r.Header)
			}
		}},
		{"CONNECT authority form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.URL.Host != "example.com:443" || r.RequestURI != "example.com:443" {
				t.Errorf("url %v uri %q", r.URL, r.RequestURI)
			}
		}},
		{"extension method", "PROPFIND /d HTTP/1.1\r\nHost: h\r\n\r\n", func(t *testing.T, r *http.Request) {
			if r.Method != "PROPFIND" {
				t.Errorf("method %q", r.Method)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := []byte(tc.head)
			var p Parser
			var req Request
			n, err := p.Parse(buf, &req)
			if err != nil || n != len(buf) {
				t.Fatalf("Parse = %d, %v", n, err)
			}
			r, err := NewRequest(ctx, buf[:n], &req)
			if err != nil {
				t.Fatal(err)
			}
			// Nothing may alias the caller's buffer.
			for i := range buf {
				buf[i] = 'z'
			}
			if r.Context().Value(ctxKey{}) != "v" {
				t.Error("request does not run under the given context")
			}
			tc.check(t, r)
		})
	}
}

func TestNewRequestBadTarget(t *testing.T) {
	buf := []byte("GET a%zz HTTP/1.1\r\nHost: h\r\n\r\n")
	var p Parser
	var req Request
	n, err := p.Parse(buf, &req)
	if err != nil || n == 0 {
		t.Skipf("the parser already refuses this target: %v", err)
	}
	if _, err := NewRequest(context.Background(), buf[:n], &req); err == nil {
		t.Fatal("a target that is not a URL built a request")
	}
}

// Requests pipelined together can share one copy of their heads: each is what
// NewRequest builds from its own head, its strings cut from the shared copy,
// which needs no allocation of its own; a copy too short for the head is not
// used.
func TestNewRequestShared(t *testing.T) {
	heads := []string{
		"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Custom-Thing: one\r\n\r\n",
		"PROPFIND /b HTTP/1.1\r\nHost: h2\r\nx-two: 2\r\nX-Two: 3\r\n\r\n",
		"GET /c HTTP/1.1\r\nHost: h3\r\n\r\n",
	}
	burst := heads[0] + heads[1] + heads[2]
	shared := burst[:len(burst)-3] // the last head falls outside the copy
	in := []byte(burst)
	off := 0
	for i, h := range heads {
		var p Parser
		var req Request
		n, err := p.Parse(in[off:], &req)
		if err != nil || n != len(h) {
			t.Fatalf("head %d: Parse = %d, %v", i, n, err)
		}
		mine := ""
		if off+n <= len(shared) {
			mine = shared[off:]
		}
		got, err := NewRequestShared(context.Background(), in[off:off+n], mine, &req, new(reqmem.Memory))
		if err != nil {
			t.Fatalf("head %d: %v", i, err)
		}
		want, err := NewRequest(context.Background(), []byte(h), &req)
		if err != nil {
			t.Fatal(err)
		}
		if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Host != want.Host ||
			!reflect.DeepEqual(got.Header, want.Header) || got.URL.String() != want.URL.String() {
			t.Errorf("head %d: got %s %s %s %v, want %s %s %s %v", i, got.Method, got.RequestURI, got.Host, got.Header,
				want.Method, want.RequestURI, want.Host, want.Header)
		}
		// Overwriting the input changes nothing: no string aliases it.
		in2 := append([]byte(nil), in...)
		copy(in[off:off+n], make([]byte, n))
		if got.Host != want.Host || got.RequestURI != want.RequestURI {
			t.Errorf("head %d: the request aliases its input", i)
		}
		in = in2
		if mine != "" {
			uri := unsafe.StringData(got.RequestURI)
			base := uintptr(unsafe.Pointer(unsafe.StringData(shared)))
			if p := uintptr(unsafe.Pointer(uri)); p < base || p >= base+uintptr(len(shared)) {
				t.Errorf("head %d: RequestURI is not cut from the shared copy", i)
			}
		}
		off += n
	}
}
