package h2

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gonicorn/gonicorn/internal/header"
)

// NewRequest maps a validated request head to the *http.Request net/http's HTTP/2
// server would have built for it, running under ctx. endStream says the HEADERS frame
// ended the stream: the request then has an empty body. Otherwise Body is nil and the
// engine sets it, as it sets RemoteAddr. A :path that is not a valid URL is an error.
func NewRequest(ctx context.Context, head *RequestHead, endStream bool) (*http.Request, error) {
	tmpl := http.Request{
		Method:        head.Method,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        head.Header,
		Host:          head.Authority,
		RequestURI:    head.Path,
		ContentLength: head.ContentLength,
	}
	if head.Method == http.MethodConnect {
		tmpl.URL = &url.URL{Host: head.Authority}
		tmpl.RequestURI = head.Authority
	} else {
		u, err := url.ParseRequestURI(head.Path)
		if err != nil {
			return nil, fmt.Errorf("h2 request target %q: %w", head.Path, err)
		}
		tmpl.URL = u
	}
	if endStream {
		tmpl.Body = http.NoBody
		tmpl.ContentLength = 0
	}
	tmpl.Trailer = header.DeclaredTrailers(tmpl.Header["Trailer"])
	if ctx == nil {
		ctx = context.Background()
	}
	return tmpl.WithContext(ctx), nil
}
