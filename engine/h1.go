package engine

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

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
	if c.requests == 0 && c.srv.h2c {
		if match, full := http1.IsH2Preface(buf); match {
			if !full {
				c.awaitHead()
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
	n, err := c.h1.parser.Parse(buf, &c.h1.head)
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
		c.awaitHead()
		return false, gnet.None
	}
	c.h1.parser.Reset()
	upgrade := c.wantsH2Upgrade()
	chain := upgrade == nil && c.chainable()
	var shared string
	if chain && len(buf) > n {
		// Requests pipelined behind this one may follow: one copy of the
		// buffered bytes serves all their strings (parseAhead).
		shared = string(buf[:min(len(buf), sharedCopyMax)])
	}
	ex := c.newExchange()
	r, err := c.newRequest(ex, buf[:n], shared)
	if err != nil {
		c.srv.log.Info().Str("peer", c.remoteAddr).Err(err).Msg("bad request target")
		c.reject(400, "bad request target")
		return false, gnet.None
	}
	keepAlive := c.h1.head.KeepAlive
	expect := c.h1.head.Expect100
	contentLength, chunked := c.h1.head.ContentLength, c.h1.head.Chunked
	_, _ = c.gc.Discard(n)
	c.requests++
	ex.init(r, !keepAlive, expect)
	if chain {
		c.parseAhead(ex, shared, n)
	}
	return true, c.startBody(ex, contentLength, chunked, upgrade)
}

// awaitHead starts the clock of a head not complete in the buffer, at its first
// bytes, once: readHead runs again for every read (and every Wake) until the
// head is complete. A head that arrives whole (the usual case) goes from idle
// straight to its body or handler: no header deadline to arm and clear.
func (c *conn) awaitHead() {
	if c.state == stIdle {
		c.enter(stHead)
	}
}

// maxChain bounds the pipelined requests parsed ahead into one pool task.
const maxChain = 16

// sharedCopyMax bounds the bytes copied at once for the strings of a pipelined
// burst: heads past it get a copy each. A request a handler keeps keeps the
// whole copy alive, at most this much.
const sharedCopyMax = 4 << 10

// chainable reports whether the request just parsed may have requests pipelined
// behind it served on the same pool goroutine: it has no body, keeps the
// connection, and changes nothing about how the bytes after it are read.
func (c *conn) chainable() bool {
	h := &c.h1.head
	return h.ContentLength <= 0 && !h.Chunked && h.KeepAlive && !h.Expect100 &&
		h.Upgrade == nil && h.HTTP2Settings == nil && c.srv.cfg.KeepAlive > 0 && !c.srv.draining.Load()
}

// parseAhead takes the complete, chainable requests already pipelined behind ex
// and links them after it: one pool task then serves the burst, each request
// with its own deadline, and the responses leave in one write. Anything else
// (a partial head, a body, a bad request) stays in the buffer for the usual path.
//
// shared is the copy of the bytes buffered when ex was parsed, and off how far
// into it ex's head ended: the requests' strings are cut from it where their
// heads lie within. Their exchanges are allocated together, as many as the
// buffered bytes hold heads the size of the first one (more are allocated one
// by one): a burst costs two allocations where it cost one per request. An
// exchange in a block is used once, like any other; the block stays alive as
// long as any of its requests does.
func (c *conn) parseAhead(ex *exchange, shared string, off int) {
	tail := ex
	var block []exchange
	for i := 1; i < maxChain; i++ {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			return
		}
		n, err := c.h1.parser.Parse(buf, &c.h1.head)
		if err != nil || n == 0 {
			if err != nil {
				c.h1.parser.Reset()
			}
			return
		}
		if !c.chainable() {
			c.h1.parser.Reset()
			return
		}
		var next *exchange
		if len(block) == 0 {
			block = make([]exchange, min(maxChain-i, len(buf)/n))
		}
		next, block = &block[0], block[1:]
		next.c = c
		var mine string
		if off+n <= len(shared) {
			mine = shared[off:]
		}
		off += n
		r, err := c.newRequest(next, buf[:n], mine)
		c.h1.parser.Reset()
		if err != nil {
			return
		}
		_, _ = c.gc.Discard(n)
		c.requests++
		next.init(r, false, false)
		next.setBody(http.NoBody, nil)
		next.chained = true
		tail.next = next
		tail = next
	}
}

// wantsH2Upgrade reports whether the parsed head asks for h2c and may have it.
func (c *conn) wantsH2Upgrade() []byte {
	if !c.srv.h2c || c.requests > 0 || c.h1.head.ProtoMinor != 1 || c.h1.head.HTTP2Settings == nil {
		return nil
	}
	if !bytes.EqualFold(bytes.TrimSpace(c.h1.head.Upgrade), []byte("h2c")) {
		return nil
	}
	settings, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(c.h1.head.HTTP2Settings, "=")))
	if err != nil {
		return nil
	}
	if settings == nil {
		settings = []byte{}
	}
	return settings
}

// newRequest builds the request of the head just parsed for ex, with the pool
// context it will run under and the connection's peer address. shared, when it
// holds head's bytes at its start, is the copy the request's strings are cut
// from; otherwise head is copied.
func (c *conn) newRequest(ex *exchange, head []byte, shared string) (*http.Request, error) {
	r, err := http1.NewRequestShared(ex.requestContext(), head, shared, &c.h1.head, &ex.mem)
	if err != nil {
		return nil, err
	}
	r.RemoteAddr = c.remoteAddr
	c.applyForwarded(r)
	return r, nil
}

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
	if c.h1 != nil {
		c.h1.parser.Reset()
	}
	b := getBuf()
	b.B = appendErrorResponse(b.B, 1, status, c.srv.date.get(), c.dialect.connectionHeader(), true)
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
	c.enter(stH2)
	c.dialect = dialectH2
	c.h2 = newH2Conn(c, up)
	if len(c.h2.streams) == 0 {
		c.idleSince.Store(monoNow()) // no stream yet: idle (evict.go)
	}
}

func shutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// speaksHTTP reports whether buf starts the way an HTTP/1 request line does: a
// method token followed by a space, or any line that names an HTTP-version. Such a
// line, however malformed ("GET / HTTP/1.1 " with a trailing space, a missing
// version), gets a 400 or 505 answer as net/http gives; bytes that are not HTTP at all
// (a TLS hello, another protocol, noise) get a silent close.
func speaksHTTP(buf []byte) bool {
	buf = bytes.TrimLeft(buf, "\r\n")
	line := buf
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		line = bytes.TrimSuffix(buf[:i], []byte("\r"))
	}
	if bytes.Contains(line, []byte(" HTTP/")) {
		return true
	}
	i := 0
	for i < len(line) && http1.IsToken(line[i:i+1]) {
		i++
	}
	if i == 0 || i > maxMethodLen || i < len(line) && line[i] != ' ' {
		return false
	}
	// A third field that is no HTTP version at all ("INVALID CONNECTION PREFACE",
	// what h2spec sends as a bad HTTP/2 preface) is not an HTTP request line.
	if i < len(line) {
		if j := bytes.IndexByte(line[i+1:], ' '); j >= 0 {
			version := bytes.TrimSpace(line[i+1+j+1:])
			if len(version) > 0 && !(len(version) >= 5 && bytes.EqualFold(version[:5], []byte("HTTP/"))) {
				return false
			}
		}
	}
	return true
}

// maxMethodLen bounds what speaksHTTP takes for a method: the longest registered
// method (UPDATEREDIRECTREF) has 17 bytes.
const maxMethodLen = 24
