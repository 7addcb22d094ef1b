package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// The generator serialises its request once, before the load starts: on the hot path
// it only copies these bytes onto sockets. An HTTP/1.1 request carries what wrk's
// does (request line and Host) plus Options.Header; an h2c request what h2load's
// does (the pseudo-headers and user-agent).

// userAgent is the user-agent of h2c requests.
const userAgent = "gonicorn-bench"

// appendHTTP1Request appends one HTTP/1.1 request for o to dst.
func appendHTTP1Request(dst []byte, o *loadSpec, closeConn bool) []byte {
	dst = append(dst, o.Method...)
	dst = append(dst, ' ')
	dst = append(dst, o.Path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, o.Host...)
	dst = append(dst, "\r\n"...)
	for _, kv := range o.Header {
		dst = append(dst, kv[0]...)
		dst = append(dst, ": "...)
		dst = append(dst, kv[1]...)
		dst = append(dst, "\r\n"...)
	}
	if len(o.Body) > 0 || o.Method == http.MethodPost || o.Method == http.MethodPut {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(o.Body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, o.Body...)
}

// appendUWSGIRequest appends one uWSGI request packet for o, with the variables
// nginx's uwsgi_params sends, followed by the body.
func appendUWSGIRequest(dst []byte, o *loadSpec) ([]byte, error) {
	u, err := url.ParseRequestURI(o.Path)
	if err != nil {
		return nil, fmt.Errorf("bench: path %q: %w", o.Path, err)
	}
	host, port, err := net.SplitHostPort(o.Host)
	if err != nil {
		host, port = o.Host, "80"
	}
	contentLength := ""
	if len(o.Body) > 0 || o.Method == http.MethodPost || o.Method == http.MethodPut {
		contentLength = strconv.Itoa(len(o.Body))
	}
	contentType := ""
	vars := [][2]string{
		{"QUERY_STRING", u.RawQuery},
		{"REQUEST_METHOD", o.Method},
		{"CONTENT_TYPE", ""}, // filled below
		{"CONTENT_LENGTH", contentLength},
		{"REQUEST_URI", o.Path},
		{"PATH_INFO", u.Path},
		{"DOCUMENT_ROOT", "/usr/share/nginx/html"},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_SCHEME", "http"},
		{"REMOTE_ADDR", "127.0.0.1"},
		{"REMOTE_PORT", "40000"},
		{"SERVER_PORT", port},
		{"SERVER_NAME", host},
		{"HTTP_HOST", o.Host},
	}
	for _, kv := range o.Header {
		if strings.EqualFold(kv[0], "Content-Type") {
			contentType = kv[1]
		}
		vars = append(vars, [2]string{"HTTP_" + strings.ToUpper(strings.ReplaceAll(kv[0], "-", "_")), kv[1]})
	}
	vars[2][1] = contentType
	kv := make([]string, 0, 2*len(vars))
	for _, v := range vars {
		kv = append(kv, v[0], v[1])
	}
	dst, err = uwsgi.AppendPacket(dst, kv...)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return append(dst, o.Body...), nil
}

// headerPairs flattens h into name/value pairs in a stable order.
func headerPairs(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out [][2]string
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}
