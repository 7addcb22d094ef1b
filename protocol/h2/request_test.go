package h2

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

func TestNewRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		head      RequestHead
		endStream bool
		check     func(t *testing.T, r *http.Request)
	}{
		{"GET ends the stream", RequestHead{Method: "GET", Scheme: "http", Authority: "h", Path: "/a?b=1",
			Header: http.Header{}, ContentLength: -1}, true, func(t *testing.T, r *http.Request) {
			if r.Proto != "HTTP/2.0" || r.ProtoMajor != 2 || r.Host != "h" || r.URL.Path != "/a" || r.URL.RawQuery != "b=1" {
				t.Errorf("proto %q host %q url %v", r.Proto, r.Host, r.URL)
			}
			if r.Body != http.NoBody || r.ContentLength != 0 {
				t.Errorf("body %v length %d", r.Body, r.ContentLength)
			}
		}},
		{"POST keeps its length and trailers", RequestHead{Method: "POST", Scheme: "http", Authority: "h", Path: "/u",
			Header: http.Header{"Trailer": {"x-sum"}}, ContentLength: 5}, false, func(t *testing.T, r *http.Request) {
			if r.Body != nil || r.ContentLength != 5 {
				t.Errorf("body %v length %d", r.Body, r.ContentLength)
			}
			if want := (http.Header{"X-Sum": nil}); !reflect.DeepEqual(r.Trailer, want) {
				t.Errorf("trailer %v", r.Trailer)
			}
		}},
		{"CONNECT targets the authority", RequestHead{Method: "CONNECT", Authority: "e:443", Header: http.Header{}, ContentLength: -1},
			false, func(t *testing.T, r *http.Request) {
				if r.URL.Host != "e:443" || r.RequestURI != "e:443" {
					t.Errorf("url %v uri %q", r.URL, r.RequestURI)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRequest(context.Background(), &tc.head, tc.endStream)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
	if _, err := NewRequest(context.Background(), &RequestHead{Method: "GET", Path: "/%zz", Header: http.Header{}}, true); err == nil {
		t.Error("a :path that is not a URL built a request")
	}
}
