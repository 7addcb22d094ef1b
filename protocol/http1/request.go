package http1

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"unsafe"

	"github.com/gonicorn/gonicorn/internal/header"
	"github.com/gonicorn/gonicorn/internal/reqmem"
)

// NewRequest maps a parsed head to the *http.Request net/http's server would have built
// for it, running under ctx. head is the buffer Parse was given, cut at the head's end:
// every string of the request shares one copy of it, so nothing aliases the caller's
// buffer afterwards. The request has no Body and no RemoteAddr: the engine sets both.
// A request target that is not a valid URL is returned as url.ParseRequestURI's error.
func NewRequest(ctx context.Context, head []byte, req *Request) (*http.Request, error) {
	return NewRequestIn(ctx, head, req, new(reqmem.Memory))
}

// NewRequestIn is NewRequest building the request's URL and header values in mem,
// which then belongs to the request.
func NewRequestIn(ctx context.Context, head []byte, req *Request, mem *reqmem.Memory) (*http.Request, error) {
	return NewRequestShared(ctx, head, string(head), req, mem)
}

// NewRequestShared is NewRequestIn taking the request's strings from shared, a
// copy of head the caller made: it starts with head's bytes and may go on with
// more (the heads a client pipelined behind it, each request's strings then
// sharing one copy). When shared is shorter than head, head is copied.
func NewRequestShared(ctx context.Context, head []byte, shared string, req *Request, mem *reqmem.Memory) (*http.Request, error) {
	if len(shared) < len(head) {
		shared = string(head)
	}
	all := shared
	sub := func(b []byte) string {
		if len(b) == 0 {
			return ""
		}
		off := subOffset(head, b)
		if off < 0 {
			return string(b)
		}
		return all[off : off+len(b)]
	}
	method, ok := header.Method(req.Method)
	if !ok {
		method = sub(req.Method)
	}
	target := sub(req.Target)
	// Built on the stack and moved to the heap once, with the context it will run
	// with: no WithContext copy per request.
	tmpl := http.Request{
		Method:        method,
		RequestURI:    target,
		ProtoMajor:    req.ProtoMajor,
		ProtoMinor:    req.ProtoMinor,
		Header:        make(http.Header, len(req.Fields)),
		ContentLength: req.ContentLength,
		Close:         !req.KeepAlive,
		Host:          sub(req.Host),
	}
	switch {
	case req.ProtoMajor == 1 && req.ProtoMinor == 1:
		tmpl.Proto = "HTTP/1.1"
	case req.ProtoMajor == 1 && req.ProtoMinor == 0:
		tmpl.Proto = "HTTP/1.0"
	default:
		tmpl.Proto = "HTTP/" + strconv.Itoa(req.ProtoMajor) + "." + strconv.Itoa(req.ProtoMinor)
	}
	if method == http.MethodConnect && len(target) > 0 && target[0] != '/' {
		mem.URL = url.URL{Host: target}
	} else if err := reqmem.ParseTarget(&mem.URL, target); err != nil {
		return nil, err
	}
	tmpl.URL = &mem.URL
	if tmpl.URL.Host != "" {
		// An absolute-form target names the host; the Host field is ignored
		// (RFC 9112 §3.2.2), as net/http does.
		tmpl.Host = tmpl.URL.Host
	}
	if req.ContentLength < 0 {
		tmpl.ContentLength = 0
		if req.Chunked {
			tmpl.ContentLength = -1
			tmpl.TransferEncoding = []string{"chunked"}
		}
	}
	// One backing array for every header's value list; a repeated header outgrows
	// its one-element slot and appends into a slice of its own.
	vals := mem.HeaderValues(len(req.Fields))
	for i, f := range req.Fields {
		name := canonicalName(f.Name, sub)
		if name == "Host" || name == "Transfer-Encoding" && req.Chunked {
			continue // in r.Host or r.TransferEncoding only, as net/http keeps them
		}
		vals[i] = sub(f.Value)
		if old, ok := tmpl.Header[name]; ok {
			tmpl.Header[name] = append(old, vals[i])
		} else {
			tmpl.Header[name] = vals[i : i+1 : i+1]
		}
	}
	if req.Chunked {
		// Declared trailer names appear in Trailer with nil values until the body
		// has been read, as net/http does.
		tmpl.Trailer = header.DeclaredTrailers(tmpl.Header["Trailer"])
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return tmpl.WithContext(ctx), nil
}

// subOffset returns where b starts inside head, or -1 when it does not alias it.
func subOffset(head, b []byte) int {
	if len(b) == 0 || len(head) == 0 {
		return -1
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(head))))
	if off < 0 || off+len(b) > len(head) {
		return -1
	}
	return off
}

// canonicalName returns the canonical form of a header name, sharing the head's
// string when the name is well known or already canonical.
func canonicalName(name []byte, sub func([]byte) string) string {
	if s, ok := header.Common(name); ok {
		return s
	}
	upper := true
	for _, ch := range name {
		if upper && 'a' <= ch && ch <= 'z' || !upper && 'A' <= ch && ch <= 'Z' {
			return http.CanonicalHeaderKey(string(name))
		}
		upper = ch == '-'
	}
	return sub(name)
}
