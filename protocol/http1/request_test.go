package http1

import (
	"context"
	"net/http"
	"reflect"
	"testing"
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
				want := http.Header{"Host": {"example.com"}, "User-Agent": {"t"}, "X-Two": {"1", "2"}}
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
