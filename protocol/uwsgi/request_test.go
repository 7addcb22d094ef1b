package uwsgi

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
)

// wantRequest is what a test expects of the request NewRequest builds.
type wantRequest struct {
	method, requestURI, path, rawPath, rawQuery string
	proto                                       string
	major, minor                                int
	host, remoteAddr                            string
	contentLength                               int64
	header                                      http.Header
	https                                       bool
}

// plainGET is what nginxGET() maps to.
var plainGET = wantRequest{
	method: "GET", requestURI: "/", path: "/", rawPath: "/",
	proto: "HTTP/1.1", major: 1, minor: 1,
	host: "example.test:8080", remoteAddr: "127.0.0.1:40000",
	header: http.Header{},
}

// with returns a copy of w changed by f.
func (w wantRequest) with(f func(*wantRequest)) wantRequest {
	f(&w)
	return w
}

func checkRequest(t *testing.T, r *http.Request, w wantRequest) {
	t.Helper()
	got := wantRequest{
		method: r.Method, requestURI: r.RequestURI, path: r.URL.Path, rawPath: r.URL.EscapedPath(),
		rawQuery: r.URL.RawQuery, proto: r.Proto, major: r.ProtoMajor, minor: r.ProtoMinor,
		host: r.Host, remoteAddr: r.RemoteAddr, contentLength: r.ContentLength,
		header: r.Header, https: r.TLS != nil,
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("request mismatch\n got %+v\nwant %+v", got, w)
	}
	if r.URL.Scheme != "" || r.URL.Host != "" {
		t.Errorf("URL scheme/host = %q/%q, want empty as in a net/http server request", r.URL.Scheme, r.URL.Host)
	}
	if r.Body != nil || r.TransferEncoding != nil || r.Trailer != nil {
		t.Errorf("Body/TransferEncoding/Trailer = %v/%v/%v, want nil (the engine sets the body)", r.Body, r.TransferEncoding, r.Trailer)
	}
}

func TestNewRequestMapsVariables(t *testing.T) {
	tests := []struct {
		name string
		buf  []byte
		want wantRequest
	}{
		{"plain GET as nginx sends it", nginxGET(), plainGET},
		{"query string stays raw", nginxGET("REQUEST_URI", "/search?q=a%20b&x=&y=%2B", "QUERY_STRING", "q=a%20b&x=&y=%2B"),
			plainGET.with(func(w *wantRequest) {
				w.requestURI, w.path, w.rawPath, w.rawQuery = "/search?q=a%20b&x=&y=%2B", "/search", "/search", "q=a%20b&x=&y=%2B"
			})},
		{"percent-encoded path comes from REQUEST_URI, not the decoded PATH_INFO",
			nginxGET("REQUEST_URI", "/caf%C3%A9/a%2Fb%20c", "PATH_INFO", "/café/a/b c"),
			plainGET.with(func(w *wantRequest) {
				w.requestURI, w.path, w.rawPath = "/caf%C3%A9/a%2Fb%20c", "/café/a/b c", "/caf%C3%A9/a%2Fb%20c"
			})},
		{"asterisk target for OPTIONS", nginxGET("REQUEST_METHOD", "OPTIONS", "REQUEST_URI", "*"),
			plainGET.with(func(w *wantRequest) { w.method, w.requestURI, w.path, w.rawPath = "OPTIONS", "*", "*", "*" })},
		{"without REQUEST_URI the target is rebuilt from PATH_INFO and QUERY_STRING",
			packet("REQUEST_METHOD", "GET", "PATH_INFO", "/a b/é", "QUERY_STRING", "x=1&y=%20"),
			wantRequest{method: "GET", requestURI: "/a%20b/%C3%A9?x=1&y=%20", path: "/a b/é", rawPath: "/a%20b/%C3%A9",
				rawQuery: "x=1&y=%20", proto: "HTTP/1.1", major: 1, minor: 1, header: http.Header{}}},
		{"rebuilt target joins SCRIPT_NAME and PATH_INFO",
			packet("REQUEST_METHOD", "GET", "SCRIPT_NAME", "/app", "PATH_INFO", "/x"),
			wantRequest{method: "GET", requestURI: "/app/x", path: "/app/x", rawPath: "/app/x",
				proto: "HTTP/1.1", major: 1, minor: 1, header: http.Header{}}},
		{"rebuilt target without a leading slash gets one",
			packet("REQUEST_METHOD", "GET", "PATH_INFO", "x"),
			wantRequest{method: "GET", requestURI: "/x", path: "/x", rawPath: "/x",
				proto: "HTTP/1.1", major: 1, minor: 1, header: http.Header{}}},
		{"no target at all means /",
			packet("REQUEST_METHOD", "GET"),
			wantRequest{method: "GET", requestURI: "/", path: "/", rawPath: "/",
				proto: "HTTP/1.1", major: 1, minor: 1, header: http.Header{}}},
		{"HTTP/1.0", nginxGET("SERVER_PROTOCOL", "HTTP/1.0"),
			plainGET.with(func(w *wantRequest) { w.proto, w.major, w.minor = "HTTP/1.0", 1, 0 })},
		{"HTTP/2.0 from an nginx http2 listener is kept", nginxGET("SERVER_PROTOCOL", "HTTP/2.0"),
			plainGET.with(func(w *wantRequest) { w.proto, w.major, w.minor = "HTTP/2.0", 2, 0 })},
		{"HTTP/3.0 is kept", nginxGET("SERVER_PROTOCOL", "HTTP/3.0"),
			plainGET.with(func(w *wantRequest) { w.proto, w.major, w.minor = "HTTP/3.0", 3, 0 })},
		{"unparseable SERVER_PROTOCOL means HTTP/1.1", nginxGET("SERVER_PROTOCOL", "SPDY/3"), plainGET},
		{"empty SERVER_PROTOCOL means HTTP/1.1", nginxGET("SERVER_PROTOCOL", ""), plainGET},
		{"HTTP_HOST wins over SERVER_NAME", nginxGET("HTTP_HOST", "api.example.test:9000"),
			plainGET.with(func(w *wantRequest) { w.host = "api.example.test:9000" })},
		{"the last HTTP_HOST wins", nginxGET("HTTP_HOST", "first.test", "HTTP_HOST", "second.test"),
			plainGET.with(func(w *wantRequest) { w.host = "second.test" })},
		{"empty HTTP_HOST falls back to SERVER_NAME", nginxGET("HTTP_HOST", ""), plainGET},
		{"default http port is left out", nginxGET("SERVER_PORT", "80"),
			plainGET.with(func(w *wantRequest) { w.host = "example.test" })},
		{"default https port is left out", nginxGET("SERVER_PORT", "443", "HTTPS", "on"),
			plainGET.with(func(w *wantRequest) { w.host, w.https = "example.test", true })},
		{"port 80 is kept for https", nginxGET("SERVER_PORT", "80", "REQUEST_SCHEME", "https"),
			plainGET.with(func(w *wantRequest) { w.host, w.https = "example.test:80", true })},
		{"empty SERVER_NAME means no host", nginxGET("SERVER_NAME", ""),
			plainGET.with(func(w *wantRequest) { w.host = "" })},
		{"IPv6 client", nginxGET("REMOTE_ADDR", "::1", "REMOTE_PORT", "51000"),
			plainGET.with(func(w *wantRequest) { w.remoteAddr = "[::1]:51000" })},
		{"no REMOTE_ADDR means no remote address", packet("REQUEST_METHOD", "GET", "REQUEST_URI", "/", "REMOTE_PORT", "1"),
			wantRequest{method: "GET", requestURI: "/", path: "/", rawPath: "/",
				proto: "HTTP/1.1", major: 1, minor: 1, header: http.Header{}}},
		{"header variables become canonical headers",
			nginxGET("HTTP_USER_AGENT", "curl/8", "HTTP_X_FOO_BAR", "baz", "HTTP_x_lower_case", "v", "HTTP_X_1_2", "d"),
			plainGET.with(func(w *wantRequest) {
				w.header = http.Header{"User-Agent": {"curl/8"}, "X-Foo-Bar": {"baz"}, "X-Lower-Case": {"v"}, "X-1-2": {"d"}}
			})},
		{"repeated header variables become repeated values in order",
			nginxGET("HTTP_X_MULTI", "one", "HTTP_ACCEPT", "*/*", "HTTP_X_MULTI", "two", "HTTP_X_MULTI", "three", "HTTP_ACCEPT", "text/html"),
			plainGET.with(func(w *wantRequest) {
				w.header = http.Header{"X-Multi": {"one", "two", "three"}, "Accept": {"*/*", "text/html"}}
			})},
		{"header values keep tabs, spaces and non-ASCII bytes", nginxGET("HTTP_X_V", "a\tb c é"),
			plainGET.with(func(w *wantRequest) { w.header = http.Header{"X-V": {"a\tb c é"}} })},
		{"HTTP_TRANSFER_ENCODING is dropped: the body arrives de-chunked",
			nginxGET("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "11", "HTTP_TRANSFER_ENCODING", "chunked"),
			plainGET.with(func(w *wantRequest) {
				w.method, w.contentLength, w.header = "POST", 11, http.Header{"Content-Length": {"11"}}
			})},
		{"CONTENT_LENGTH and CONTENT_TYPE win over their HTTP_ copies",
			nginxGET("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "5", "CONTENT_TYPE", "text/plain",
				"HTTP_CONTENT_LENGTH", "999", "HTTP_CONTENT_TYPE", "application/json"),
			plainGET.with(func(w *wantRequest) {
				w.method, w.contentLength = "POST", 5
				w.header = http.Header{"Content-Length": {"5"}, "Content-Type": {"text/plain"}}
			})},
		{"empty CONTENT_LENGTH and CONTENT_TYPE mean none", nginxGET("CONTENT_LENGTH", "", "CONTENT_TYPE", ""), plainGET},
		{"CONTENT_LENGTH 0", nginxGET("CONTENT_LENGTH", "0"),
			plainGET.with(func(w *wantRequest) { w.header = http.Header{"Content-Length": {"0"}} })},
		{"largest CONTENT_LENGTH", nginxGET("CONTENT_LENGTH", "9223372036854775807"),
			plainGET.with(func(w *wantRequest) {
				w.contentLength, w.header = 1<<63-1, http.Header{"Content-Length": {"9223372036854775807"}}
			})},
		{"HTTPS=on marks the request https", nginxGET("HTTPS", "on"),
			plainGET.with(func(w *wantRequest) { w.https = true })},
		{"REQUEST_SCHEME=https marks the request https", nginxGET("REQUEST_SCHEME", "https"),
			plainGET.with(func(w *wantRequest) { w.https = true })},
		{"an extension method is kept", nginxGET("REQUEST_METHOD", "PROPFIND"),
			plainGET.with(func(w *wantRequest) { w.method = "PROPFIND" })},
		{"the last CGI variable wins", nginxGET("REQUEST_URI", "/override"),
			plainGET.with(func(w *wantRequest) { w.requestURI, w.path, w.rawPath = "/override", "/override", "/override" })},
		{"unknown CGI variables are ignored", nginxGET("UWSGI_SCRIPT", "app", "DOCUMENT_ROOT", "/srv"), plainGET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if _, err := Parse(tt.buf, nil, &p); err != nil {
				t.Fatal(err)
			}
			r, err := NewRequest(context.Background(), &p)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			checkRequest(t, r, tt.want)
		})
	}
}

func TestNewRequestRejectsBadVariables(t *testing.T) {
	tests := []struct {
		name string
		buf  []byte
		want *Error
	}{
		{"missing REQUEST_METHOD", packet("REQUEST_URI", "/"), errNoMethod},
		{"empty REQUEST_METHOD", nginxGET("REQUEST_METHOD", ""), errBadMethod},
		{"REQUEST_METHOD with a space", nginxGET("REQUEST_METHOD", "GET /"), errBadMethod},
		{"non-numeric CONTENT_LENGTH", nginxGET("CONTENT_LENGTH", "abc"), errBadContentLength},
		{"negative CONTENT_LENGTH", nginxGET("CONTENT_LENGTH", "-1"), errBadContentLength},
		{"signed CONTENT_LENGTH", nginxGET("CONTENT_LENGTH", "+1"), errBadContentLength},
		{"fractional CONTENT_LENGTH", nginxGET("CONTENT_LENGTH", "1.5"), errBadContentLength},
		{"CONTENT_LENGTH with a space", nginxGET("CONTENT_LENGTH", " 1"), errBadContentLength},
		{"CONTENT_LENGTH past int64", nginxGET("CONTENT_LENGTH", "9223372036854775808"), errBadContentLength},
		{"CONTENT_TYPE with a newline", nginxGET("CONTENT_TYPE", "text/plain\r\nX: y"), errBadContentType},
		{"empty REQUEST_URI", nginxGET("REQUEST_URI", ""), errBadRequestURI},
		{"relative REQUEST_URI", nginxGET("REQUEST_URI", "no-slash"), errBadRequestURI},
		{"REQUEST_URI with a control byte", nginxGET("REQUEST_URI", "/a\x00b"), errBadRequestURI},
		{"QUERY_STRING with a control byte in a rebuilt target", packet("REQUEST_METHOD", "GET", "PATH_INFO", "/", "QUERY_STRING", "a=\n"), errBadPath},
		{"HTTP_ with no header name", nginxGET("HTTP_", "v"), errEmptyHeaderName},
		{"header name with a space", nginxGET("HTTP_X Y", "v"), errBadHeaderName},
		{"header name with a colon", nginxGET("HTTP_X:Y", "v"), errBadHeaderName},
		{"header value with CRLF", nginxGET("HTTP_X_A", "v\r\nSet-Cookie: x"), errBadHeaderValue},
		{"header value with NUL", nginxGET("HTTP_X_A", "v\x00"), errBadHeaderValue},
		{"header value with DEL", nginxGET("HTTP_X_A", "v\x7f"), errBadHeaderValue},
		{"HTTP_HOST with a slash", nginxGET("HTTP_HOST", "evil.test/path"), errBadHost},
		{"HTTP_HOST with a space", nginxGET("HTTP_HOST", "a b"), errBadHost},
		{"SERVER_NAME with a newline", nginxGET("SERVER_NAME", "a\nb"), errBadHost},
		{"SERVER_PORT with a slash", nginxGET("SERVER_PORT", "80/x"), errBadHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if _, err := Parse(tt.buf, nil, &p); err != nil {
				t.Fatal(err)
			}
			r, err := NewRequest(context.Background(), &p)
			var pe *Error
			if r != nil || !errors.As(err, &pe) || pe != tt.want {
				t.Fatalf("NewRequest = (%v, %v), want (nil, %v)", r, err, tt.want)
			}
		})
	}
}

func TestNewRequestDoesNotAliasThePacketBuffer(t *testing.T) {
	buf := nginxGET("REQUEST_URI", "/p?q=1", "HTTP_X_CUSTOM_NAME", "value", "HTTP_USER_AGENT", "ua",
		"HTTP_HOST", "h.test", "CONTENT_TYPE", "text/plain", "CONTENT_LENGTH", "3", "REMOTE_ADDR", "10.0.0.1")
	var p Packet
	if _, err := Parse(buf, nil, &p); err != nil {
		t.Fatal(err)
	}
	r, err := NewRequest(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'Z'
	}
	want := plainGET.with(func(w *wantRequest) {
		w.requestURI, w.path, w.rawPath, w.rawQuery = "/p?q=1", "/p", "/p", "q=1"
		w.host, w.remoteAddr, w.contentLength = "h.test", "10.0.0.1:40000", 3
		w.header = http.Header{"X-Custom-Name": {"value"}, "User-Agent": {"ua"},
			"Content-Type": {"text/plain"}, "Content-Length": {"3"}}
	})
	checkRequest(t, r, want)
}

func TestNewRequestHeaderValuesDoNotShareSlots(t *testing.T) {
	var p Packet
	if _, err := Parse(nginxGET("HTTP_X_A", "1", "HTTP_X_B", "2", "HTTP_X_A", "3"), nil, &p); err != nil {
		t.Fatal(err)
	}
	r, err := NewRequest(context.Background(), &p)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("X-B", "added")
	r.Header.Add("X-A", "added")
	want := http.Header{"X-A": {"1", "3", "added"}, "X-B": {"2", "added"}}
	if !reflect.DeepEqual(r.Header, want) {
		t.Fatalf("after Add: %v, want %v", r.Header, want)
	}
}

func TestNewRequestFromRealNginxPackets(t *testing.T) {
	tests := []struct {
		file string
		body string
		want wantRequest
	}{
		{"nginx_get.bin", "", wantRequest{
			method: "GET", requestURI: "/caf%C3%A9/a%2Fb%20c?x=1&y=%20z&e=", path: "/café/a/b c",
			rawPath: "/caf%C3%A9/a%2Fb%20c", rawQuery: "x=1&y=%20z&e=", proto: "HTTP/1.1", major: 1, minor: 1,
			host: "127.0.0.1", remoteAddr: "127.0.0.1:48348",
			header: http.Header{"X-Multi": {"one", "two"}, "Accept": {"*/*"}, "User-Agent": {"curl/test"}},
		}},
		{"nginx_post.bin", "hello=world", wantRequest{
			method: "POST", requestURI: "/echo", path: "/echo", rawPath: "/echo", proto: "HTTP/1.1", major: 1, minor: 1,
			host: "127.0.0.1", remoteAddr: "127.0.0.1:36566", contentLength: 11,
			header: http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/7.88.1"},
				"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Length": {"11"}},
		}},
		{"nginx_post_chunked.bin", "chunkedbody", wantRequest{
			method: "POST", requestURI: "/echo", path: "/echo", rawPath: "/echo", proto: "HTTP/1.1", major: 1, minor: 1,
			host: "127.0.0.1", remoteAddr: "127.0.0.1:36570", contentLength: 11,
			header: http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/7.88.1"},
				"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Length": {"11"}},
		}},
		// uwsgi_param HTTP_HOST $http_host after Debian's uwsgi_params (which sends
		// $host): nginx sends both, and the client's Host, sent last, wins.
		{"nginx_http_host_override.bin", "", wantRequest{
			method: "GET", requestURI: "/x", path: "/x", rawPath: "/x", proto: "HTTP/1.1", major: 1, minor: 1,
			host: "Example.test:8443", remoteAddr: "127.0.0.1:34858",
			header: http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/7.88.1"}},
		}},
		{"nginx_http10_no_host.bin", "", wantRequest{
			method: "GET", requestURI: "/old", path: "/old", rawPath: "/old", proto: "HTTP/1.0", major: 1, minor: 0,
			host: "", remoteAddr: "127.0.0.1:36578",
			header: http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/7.88.1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			buf := readTestdata(t, tt.file)
			var p Packet
			n, err := Parse(buf, nil, &p)
			if err != nil || n == 0 {
				t.Fatalf("Parse = (%d, %v)", n, err)
			}
			if got := string(buf[n:]); got != tt.body {
				t.Fatalf("bytes after the packet = %q, want the body %q", got, tt.body)
			}
			r, err := NewRequest(context.Background(), &p)
			if err != nil {
				t.Fatalf("NewRequest: %v", err)
			}
			checkRequest(t, r, tt.want)
		})
	}
}
