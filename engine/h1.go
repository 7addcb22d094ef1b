package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/protocol/http1"
)

type atomicInt64 = atomic.Int64

var errBodyTimeout = errors.New("request body timeout (--body-timeout)")

// readHead parses an HTTP/1.x head from the inbound buffer. It reports whether the
// connection moved to another state.
func (c *conn) readHead() (bool, gnet.Action) {
	buf, _ := c.gc.Peek(-1)
	if c.state == stIdle {
		// The head's clock starts at its first byte, once: this runs again for
		// every read (and every Wake) until the head is complete.
		c.state = stHead
		c.setTimeout(c.srv.cfg.HeaderTimeout)
	}
	if c.requests == 0 && c.srv.h2c {
		if match, full := http1.IsH2Preface(buf); match {
			if !full {
				return false, gnet.None
			}
			c.startH2(nil)
			return true, gnet.None
		}
	}
	if !c.srv.h1 {
		c.srv.log.Info().Str("peer", c.remoteAddr).Msg("HTTP/1 request on a listener serving only h2c")
		return false, gnet.Close
	}
	n, err := c.parser.Parse(buf, &c.head)
	if err != nil {
		var perr *http1.Error
		status, reason := 400, err.Error()
		if errors.As(err, &perr) {
			status, reason = perr.Status, perr.Reason
		}
		if c.requests == 0 && c.srv.h2c && !speaksHTTP(buf) {
			// Neither HTTP/1 nor the HTTP/2 preface: to an h2c client that is an
			// invalid preface, a connection error with no HTTP answer (RFC 9113 §3.4).
			c.srv.log.Info().Str("peer", c.remoteAddr).Msg("neither an HTTP/1 request nor the HTTP/2 preface: closing")
			return false, gnet.Close
		}
		c.srv.log.Info().Str("peer", c.remoteAddr).Int("status", status).Str("reason", reason).Msg("bad request")
		c.reject(status, reason)
		return false, gnet.None
	}
	if n == 0 {
		return false, gnet.None
	}
	c.parser.Reset()
	r, err := c.newRequest(buf[:n])
	if err != nil {
		c.srv.log.Info().Str("peer", c.remoteAddr).Err(err).Msg("bad request target")
		c.reject(400, "bad request target")
		return false, gnet.None
	}
	keepAlive := c.head.KeepAlive
	expect := c.head.Expect100
	upgrade := c.wantsH2Upgrade()
	contentLength, chunked := c.head.ContentLength, c.head.Chunked
	chain := upgrade == nil && c.chainable()
	_, _ = c.gc.Discard(n)
	c.requests++
	ex := newExchange(c, r, !keepAlive, expect)
	if chain {
		c.parseAhead(ex)
	}
	return true, c.startBody(ex, contentLength, chunked, upgrade)
}

// maxChain bounds the pipelined requests parsed ahead into one pool task.
const maxChain = 16

// chainable reports whether the request just parsed may have requests pipelined
// behind it served on the same pool goroutine: it has no body, keeps the
// connection, and changes nothing about how the bytes after it are read.
func (c *conn) chainable() bool {
	h := &c.head
	return h.ContentLength <= 0 && !h.Chunked && h.KeepAlive && !h.Expect100 &&
		h.Upgrade == nil && h.HTTP2Settings == nil && c.srv.cfg.KeepAlive > 0 && !c.srv.draining.Load()
}

// parseAhead takes the complete, chainable requests already pipelined behind ex
// and links them after it: one pool task then serves the burst, each request
// with its own deadline, and the responses leave in one write. Anything else
// (a partial head, a body, a bad request) stays in the buffer for the usual path.
func (c *conn) parseAhead(ex *exchange) {
	tail := ex
	for i := 1; i < maxChain; i++ {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			return
		}
		n, err := c.parser.Parse(buf, &c.head)
		if err != nil || n == 0 {
			if err != nil {
				c.parser.Reset()
			}
			return
		}
		if !c.chainable() {
			c.parser.Reset()
			return
		}
		r, err := c.newRequest(buf[:n])
		c.parser.Reset()
		if err != nil {
			return
		}
		_, _ = c.gc.Discard(n)
		c.requests++
		next := newExchange(c, r, false, false)
		next.setBody(http.NoBody, nil)
		next.chained = true
		tail.next = next
		tail = next
	}
}

// wantsH2Upgrade reports whether the parsed head asks for h2c and may have it.
func (c *conn) wantsH2Upgrade() []byte {
	if !c.srv.h2c || c.requests > 0 || c.head.ProtoMinor != 1 || c.head.HTTP2Settings == nil {
		return nil
	}
	if !bytes.EqualFold(bytes.TrimSpace(c.head.Upgrade), []byte("h2c")) {
		return nil
	}
	settings, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(c.head.HTTP2Settings, "=")))
	if err != nil {
		return nil
	}
	if settings == nil {
		settings = []byte{}
	}
	return settings
}

var methods = map[string]string{
	"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE",
	"OPTIONS": "OPTIONS", "PATCH": "PATCH", "CONNECT": "CONNECT", "TRACE": "TRACE",
}

// newRequest turns the parsed head into an *http.Request as net/http fills it. All
// its strings share one copy of the head: the parsed slices alias gnet's buffer.
func (c *conn) newRequest(head []byte) (*http.Request, error) {
	h := &c.head
	all := string(head)
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
	method, ok := methods[string(h.Method)]
	if !ok {
		method = sub(h.Method)
	}
	target := sub(h.Target)
	// Built on the stack and moved to the heap once, with the context it will
	// run with: no WithContext copy per request.
	tmpl := http.Request{
		Method:        method,
		RequestURI:    target,
		ProtoMajor:    h.ProtoMajor,
		ProtoMinor:    h.ProtoMinor,
		Header:        make(http.Header, len(h.Fields)),
		ContentLength: h.ContentLength,
		Close:         !h.KeepAlive,
		RemoteAddr:    c.remoteAddr,
		Host:          sub(h.Host),
	}
	switch {
	case h.ProtoMajor == 1 && h.ProtoMinor == 1:
		tmpl.Proto = "HTTP/1.1"
	case h.ProtoMajor == 1 && h.ProtoMinor == 0:
		tmpl.Proto = "HTTP/1.0"
	default:
		tmpl.Proto = "HTTP/" + strconv.Itoa(h.ProtoMajor) + "." + strconv.Itoa(h.ProtoMinor)
	}
	var err error
	if method == "CONNECT" && len(target) > 0 && target[0] != '/' {
		tmpl.URL = &url.URL{Host: target}
	} else if tmpl.URL, err = url.ParseRequestURI(target); err != nil {
		return nil, err
	}
	if tmpl.Host == "" && tmpl.URL.Host != "" {
		tmpl.Host = tmpl.URL.Host
	}
	if h.ContentLength < 0 {
		tmpl.ContentLength = 0
		if h.Chunked {
			tmpl.ContentLength = -1
			tmpl.TransferEncoding = []string{"chunked"}
		}
	}
	vals := make([]string, len(h.Fields))
	for i, f := range h.Fields {
		name := canonicalName(f.Name, sub)
		vals[i] = sub(f.Value)
		if old, ok := tmpl.Header[name]; ok {
			tmpl.Header[name] = append(old, vals[i])
		} else {
			tmpl.Header[name] = vals[i : i+1 : i+1]
		}
	}
	if h.Chunked {
		// Trailer keys announced by the client appear in tmpl.Trailer with nil values
		// until the body has been read, as net/http does.
		if tr := tmpl.Header["Trailer"]; len(tr) > 0 {
			tmpl.Trailer = make(http.Header)
			for _, v := range tr {
				for _, k := range splitComma(v) {
					tmpl.Trailer[http.CanonicalHeaderKey(k)] = nil
				}
			}
		}
	}
	r := tmpl.WithContext(c.srv.pool.NewContext(c.lctx))
	c.applyForwarded(r)
	return r, nil
}

// subOffset returns where b starts inside head, or -1 when it does not alias it.
func subOffset(head, b []byte) int {
	if len(b) == 0 || len(head) == 0 {
		return -1
	}
	off := int(uintptrOf(b) - uintptrOf(head))
	if off < 0 || off+len(b) > len(head) {
		return -1
	}
	return off
}

func splitComma(v string) []string {
	var out []string
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if t := trimOWS(v[:i]); t != "" {
			out = append(out, t)
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return out
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// canonicalName returns the canonical form of a header name, sharing the head's
// string when the name is already canonical.
func canonicalName(name []byte, sub func([]byte) string) string {
	if s, ok := commonHeaders[string(name)]; ok {
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

var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Expect",
		"Host", "If-Modified-Since", "If-None-Match", "Origin", "Pragma", "Referer",
		"Transfer-Encoding", "Upgrade", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Request-Id", "Sec-Websocket-Key", "Sec-Websocket-Version",
		"Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Trailer", "Te", "Range",
		"Http2-Settings", "Keep-Alive", "Dnt", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest",
		"Upgrade-Insecure-Requests",
	} {
		m[k] = k
		lower := []byte(k)
		for i := range lower {
			if 'A' <= lower[i] && lower[i] <= 'Z' {
				lower[i] += 'a' - 'A'
			}
		}
		m[string(lower)] = k
	}
	m["Sec-WebSocket-Key"] = "Sec-Websocket-Key"
	m["Sec-WebSocket-Version"] = "Sec-Websocket-Version"
	m["HTTP2-Settings"] = "Http2-Settings"
	return m
}()

// reject answers a request the server refuses before any handler runs (malformed,
// too slow), counts it, then closes the connection gracefully (see refuse).
func (c *conn) reject(status int, reason string) {
	c.srv.stats.Rejected(status)
	c.refuse(status)
}

// refuse answers status and closes the connection gracefully (write side first,
// so the client reads the answer).
func (c *conn) refuse(status int) {
	c.flushPending()
	c.parser.Reset()
	b := getBuf()
	b.B = appendErrorResponse(b.B, 1, status, c.srv.date.get(), !c.uwsgi, true)
	_, _ = c.gc.Write(b.B)
	putBuf(b)
	c.beginLinger()
}

// appendErrorResponse appends a complete plain-text error response that closes
// the connection (the Connection header is left out for uWSGI, which always closes).
func appendErrorResponse(dst []byte, minor, status int, date []byte, connHeader, withBody bool) []byte {
	text := http.StatusText(status)
	dst = http1.AppendStatusLine(dst, 1, minor, status)
	dst = append(dst, "Date: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	if status == http.StatusServiceUnavailable {
		dst = append(dst, "Retry-After: 1\r\n"...)
	}
	if connHeader {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(text)+1), 10)
	dst = append(dst, "\r\n\r\n"...)
	if withBody {
		dst = append(dst, text...)
		dst = append(dst, '\n')
	}
	return dst
}

// startH2 hands the connection to the HTTP/2 driver.
func (c *conn) startH2(up *h2Upgrade) {
	c.srv.stats.ConnUpgraded()
	c.state = stH2
	c.setDeadline(time.Time{})
	c.h2 = newH2Conn(c, up)
}

func shutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// speaksHTTP reports whether the first line of buf, once complete, ends in an
// HTTP-version token ("HTTP/..."); an incomplete line is given the benefit of the doubt.
func speaksHTTP(buf []byte) bool {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return true
	}
	line := bytes.TrimRight(buf[:i], "\r")
	if i := bytes.LastIndexByte(line, ' '); i >= 0 {
		line = line[i+1:]
	}
	return bytes.HasPrefix(line, []byte("HTTP/"))
}
