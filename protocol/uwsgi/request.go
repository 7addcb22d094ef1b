package uwsgi

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"

	"github.com/gonicorn/gonicorn/internal/header"
	"github.com/gonicorn/gonicorn/internal/reqmem"
)

// The NewRequest errors are values: their reasons need no formatting.
var (
	errNoMethod         = &Error{Reason: "missing REQUEST_METHOD"}
	errBadMethod        = &Error{Reason: "REQUEST_METHOD is not an HTTP token"}
	errBadRequestURI    = &Error{Reason: "REQUEST_URI is not a valid request target"}
	errBadPath          = &Error{Reason: "PATH_INFO/QUERY_STRING do not form a valid request target"}
	errBadContentLength = &Error{Reason: "CONTENT_LENGTH is not a non-negative decimal integer"}
	errBadContentType   = &Error{Reason: "CONTENT_TYPE holds a control character"}
	errBadHost          = &Error{Reason: "HTTP_HOST or SERVER_NAME is not a valid host"}
	errEmptyHeaderName  = &Error{Reason: "HTTP_ variable with an empty header name"}
	errBadHeaderName    = &Error{Reason: "HTTP_ variable whose header name is not an HTTP token"}
	errBadHeaderValue   = &Error{Reason: "HTTP_ variable whose value holds a control character"}
)

// cgiVars holds the variables NewRequest maps, picked out of a packet in one pass.
// Where a CGI variable repeats, the last one wins.
type cgiVars struct {
	method, requestURI, scriptName, pathInfo, queryString, serverProtocol []byte
	host, serverName, serverPort, remoteAddr, remotePort                  []byte
	contentType, contentLength                                            []byte
	hasMethod, hasRequestURI, secure                                      bool

	headers     int  // header variables to map
	arenaBytes  int  // bytes every string of the request needs, kept in one allocation
	requestHost bool // a non-empty HTTP_HOST was sent
}

func (c *cgiVars) collect(p *Packet) error {
	for i := range p.Vars {
		key, val := p.Vars[i].Key, p.Vars[i].Value
		if len(key) >= len(headerVarPrefix) && string(key[:len(headerVarPrefix)]) == headerVarPrefix {
			name := key[len(headerVarPrefix):]
			switch string(name) {
			case "HOST":
				// An empty Host (HTTP/1.0 without one) falls back to SERVER_NAME.
				c.host, c.requestHost = val, len(val) > 0
				continue
			case "TRANSFER_ENCODING", "CONTENT_LENGTH", "CONTENT_TYPE":
				// The proxy de-chunked the body; CONTENT_* describe what it sends.
				continue
			case "":
				return errEmptyHeaderName
			}
			if !header.IsToken(name) {
				return errBadHeaderName
			}
			if !header.IsFieldValue(val) {
				return errBadHeaderValue
			}
			c.headers++
			c.arenaBytes += len(val)
			if _, ok := header.CommonCGI(name); !ok {
				c.arenaBytes += len(name)
			}
			continue
		}
		switch string(key) {
		case "REQUEST_METHOD":
			c.method, c.hasMethod = val, true
		case "REQUEST_URI":
			c.requestURI, c.hasRequestURI = val, true
		case "SCRIPT_NAME":
			c.scriptName = val
		case "PATH_INFO":
			c.pathInfo = val
		case "QUERY_STRING":
			c.queryString = val
		case "SERVER_PROTOCOL":
			c.serverProtocol = val
		case "SERVER_NAME":
			c.serverName = val
		case "SERVER_PORT":
			c.serverPort = val
		case "REMOTE_ADDR":
			c.remoteAddr = val
		case "REMOTE_PORT":
			c.remotePort = val
		case "CONTENT_TYPE":
			c.contentType = val
		case "CONTENT_LENGTH":
			c.contentLength = val
		}
	}
	c.secure = p.secure()
	c.arenaBytes += len(c.requestURI) + len(c.contentType) + len(c.contentLength) +
		len(c.host) + len(c.serverName) + 1 + len(c.serverPort) +
		len(c.remoteAddr) + 3 + len(c.remotePort)
	return nil
}

// arena hands out strings that all share one allocation.
type arena struct{ b strings.Builder }

// str copies v into the arena and returns it as a string. Earlier strings stay valid:
// the builder never rewrites bytes it has handed out, even when it has to grow.
func (a *arena) str(v []byte) string {
	start := a.b.Len()
	a.b.Write(v)
	return a.b.String()[start:]
}

// NewRequest maps a parsed packet to the *http.Request a net/http server would have
// built for the same client request (see the package documentation for the rules),
// running under ctx. The request has no Body: the engine sets it. Nothing in the
// request aliases the packet's buffer. Bad variables are reported as *Error.
func NewRequest(ctx context.Context, p *Packet) (*http.Request, error) {
	return NewRequestIn(ctx, p, new(reqmem.Memory))
}

// NewRequestIn is NewRequest building the request's URL and header values in mem,
// which then belongs to the request.
func NewRequestIn(ctx context.Context, p *Packet, mem *reqmem.Memory) (*http.Request, error) {
	var c cgiVars
	if err := c.collect(p); err != nil {
		return nil, err
	}
	if !c.hasMethod {
		return nil, errNoMethod
	}
	if !header.IsToken(c.method) {
		return nil, errBadMethod
	}
	contentLength, ok := parseContentLength(c.contentLength)
	if !ok {
		return nil, errBadContentLength
	}
	if !header.IsFieldValue(c.contentType) {
		return nil, errBadContentType
	}

	// The header's fields, exactly: a map made for more than 8 is a large one
	// (two allocations more), so no room is kept for absent CONTENT_* fields.
	fields := c.headers
	if len(c.contentType) > 0 {
		fields++
	}
	if len(c.contentLength) > 0 {
		fields++
	}

	var a arena
	a.b.Grow(c.arenaBytes)
	method, ok := header.Method(c.method)
	if !ok {
		method = string(c.method)
	}
	// Built on the stack and moved to the heap once, with its context.
	tmpl := http.Request{
		Method:        method,
		ContentLength: contentLength,
		Header:        make(http.Header, fields),
	}
	r := &tmpl
	if c.secure {
		r.TLS = &tls.ConnectionState{}
	}

	if err := c.setTarget(r, &a, &mem.URL); err != nil {
		return nil, err
	}
	r.Proto, r.ProtoMajor, r.ProtoMinor = protocol(c.serverProtocol)
	if err := c.setHost(r, &a); err != nil {
		return nil, err
	}
	if len(c.remoteAddr) > 0 {
		r.RemoteAddr = joinHostPort(&a, c.remoteAddr, c.remotePort)
	}

	// One backing array for every header's value list; a repeated header outgrows
	// its one-element slot and appends into a slice of its own.
	values := mem.HeaderValues(fields)[:0]
	if len(c.contentType) > 0 {
		values = append(values, a.str(c.contentType))
		r.Header["Content-Type"] = values[len(values)-1:]
	}
	if len(c.contentLength) > 0 {
		values = append(values, a.str(c.contentLength))
		r.Header["Content-Length"] = values[len(values)-1:]
	}
	if c.headers > 0 {
		var nameBuf [64]byte
		for i := range p.Vars {
			key := p.Vars[i].Key
			if len(key) < len(headerVarPrefix) || string(key[:len(headerVarPrefix)]) != headerVarPrefix {
				continue
			}
			suffix := key[len(headerVarPrefix):]
			switch string(suffix) {
			case "HOST", "TRANSFER_ENCODING", "CONTENT_LENGTH", "CONTENT_TYPE":
				continue
			}
			name, ok := header.CommonCGI(suffix)
			if !ok {
				name = a.str(appendCanonicalHeaderName(nameBuf[:0], suffix))
			}
			v := a.str(p.Vars[i].Value)
			if prev, ok := r.Header[name]; ok {
				r.Header[name] = append(prev, v)
				continue
			}
			values = append(values, v)
			n := len(values)
			r.Header[name] = values[n-1 : n : n]
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return tmpl.WithContext(ctx), nil
}

// setTarget sets RequestURI and URL from REQUEST_URI, or rebuilds them from
// SCRIPT_NAME, PATH_INFO and QUERY_STRING.
// The URL is parsed into u.
func (c *cgiVars) setTarget(r *http.Request, a *arena, u *url.URL) error {
	if c.hasRequestURI {
		r.RequestURI = a.str(c.requestURI)
		if err := reqmem.ParseTarget(u, r.RequestURI); err != nil {
			return errBadRequestURI
		}
		r.URL = u
		return nil
	}
	// nginx sends PATH_INFO percent-decoded: escape it again so the rebuilt target
	// decodes back to the same path.
	path := string(c.scriptName) + string(c.pathInfo)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := (&url.URL{Path: path}).EscapedPath()
	if len(c.queryString) > 0 {
		target += "?" + string(c.queryString)
	}
	if err := reqmem.ParseTarget(u, target); err != nil {
		return errBadPath
	}
	r.RequestURI, r.URL = target, u
	return nil
}

// setHost sets Host from HTTP_HOST, else from SERVER_NAME and SERVER_PORT.
func (c *cgiVars) setHost(r *http.Request, a *arena) error {
	if c.requestHost {
		if !header.AllOf(c.host, header.ClassHost) {
			return errBadHost
		}
		r.Host = a.str(c.host)
		return nil
	}
	if len(c.serverName) == 0 {
		return nil
	}
	if !header.AllOf(c.serverName, header.ClassHost) || !header.AllOf(c.serverPort, header.ClassHost) {
		return errBadHost
	}
	port := string(c.serverPort)
	if port == "" || (!c.secure && port == "80") || (c.secure && port == "443") {
		r.Host = a.str(c.serverName)
		return nil
	}
	start := a.b.Len()
	a.b.Write(c.serverName)
	a.b.WriteByte(':')
	a.b.Write(c.serverPort)
	r.Host = a.b.String()[start:]
	return nil
}

// joinHostPort is net.JoinHostPort writing into the arena.
func joinHostPort(a *arena, host, port []byte) string {
	start := a.b.Len()
	v6 := false
	for _, c := range host {
		if c == ':' {
			v6 = true
			break
		}
	}
	if v6 {
		a.b.WriteByte('[')
	}
	a.b.Write(host)
	if v6 {
		a.b.WriteByte(']')
	}
	a.b.WriteByte(':')
	a.b.Write(port)
	return a.b.String()[start:]
}

// parseContentLength parses CONTENT_LENGTH: empty means no body; anything but decimal
// digits, or a value past int64, is invalid.
func parseContentLength(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// protocol maps SERVER_PROTOCOL to Proto, ProtoMajor and ProtoMinor. It keeps what the
// proxy said when it parses as HTTP/x.y and falls back to HTTP/1.1 otherwise: the
// protocol between client and proxy is no reason to refuse a request.
func protocol(b []byte) (string, int, int) {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1", 1, 1
	case "HTTP/1.0":
		return "HTTP/1.0", 1, 0
	case "HTTP/2.0":
		return "HTTP/2.0", 2, 0
	}
	if major, minor, ok := http.ParseHTTPVersion(string(b)); ok {
		return string(b), major, minor
	}
	return "HTTP/1.1", 1, 1
}
