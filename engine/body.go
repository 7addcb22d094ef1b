package engine

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/pool"
	"github.com/gonicorn/gonicorn/protocol/http1"
)

// discardLimit bounds how much of a body the handler did not read is drained so
// the connection can be kept; a larger rest closes the connection instead.
const discardLimit = 256 << 10

var bufPool bytebufferpool.Pool

func getBuf() *bytebufferpool.ByteBuffer  { return bufPool.Get() }
func putBuf(b *bytebufferpool.ByteBuffer) { bufPool.Put(b) }

// bodyState is the loop's side of the current request body.
type bodyState struct {
	remaining int64 // Content-Length bytes still to come (when !chunked)
	chunked   bool
	dec       http1.ChunkedDecoder
	buf       *bytebufferpool.ByteBuffer // a small body being buffered
	pipe      *bodyPipe                  // a body streaming to the handler
	upgrade   []byte                     // h2c settings when the request upgrades
	discarded int64
	scratch   []byte
	// unasked: the client of an Expect: 100-continue request waits for the
	// handler to ask for the body (its first read), and has sent none of it:
	// no body clock runs until either happens (bodyAsked, readBody).
	unasked bool
}

func (b *bodyState) release() {
	if b.buf != nil {
		putBuf(b.buf)
		b.buf = nil
	}
	if b.pipe != nil {
		b.pipe.fail(errConnClosed)
		b.pipe = nil
	}
	b.upgrade = nil
}

var errConnClosed = errors.New("connection closed")

// startBody decides how the body of ex's request is read, and dispatches ex when
// the handler may start.
func (c *conn) startBody(ex *exchange, contentLength int64, chunked bool, upgrade []byte) gnet.Action {
	c.cur = ex
	c.inMeter.stop() // each body is measured on its own
	b := &c.body
	b.chunked = chunked
	b.remaining = max(contentLength, 0)
	b.upgrade = upgrade
	b.discarded = 0
	if chunked {
		b.dec.Reset()
	}
	limit := int64(c.srv.cfg.BodyBufferSize)
	switch {
	case !chunked && contentLength <= 0:
		ex.setBody(http.NoBody, nil)
		if upgrade != nil {
			b.upgrade = nil
			return c.upgradeH2(ex, upgrade)
		}
		return c.dispatch(ex)
	case ex.expect100 && upgrade == nil:
		// The client waits for 100 Continue: let the handler decide by reading.
		return c.startStream(ex)
	case chunked || contentLength <= limit || upgrade != nil && contentLength <= limit:
		if ex.expect100 {
			// An h2c upgrade: the server needs the body before it can switch.
			c.continueNow(ex)
		}
		b.buf = getBuf()
		c.enter(stBodyBuffer)
		c.armBody(0)
		return gnet.None
	default:
		return c.startStream(ex)
	}
}

func (c *conn) startStream(ex *exchange) gnet.Action {
	c.body.upgrade = nil
	p := newBodyPipe(c, c.srv.cfg.BodyBufferSize, ex)
	c.body.pipe = p
	if c.body.buf != nil {
		p.write(c.body.buf.B)
		putBuf(c.body.buf)
		c.body.buf = nil
	}
	ex.setBody(p, nil)
	c.enter(stBodyStream)
	c.body.unasked = !p.continued
	if c.body.unasked {
		// The client waits for 100 Continue: the time its request waits for a
		// handler slot, and its handler's before it reads, are not its to
		// account for. The queue wait and --timeout bound those.
		c.pauseBody()
	} else {
		c.armBody(0)
	}
	return c.dispatch(ex)
}

// continueNow writes 100 Continue for ex from the loop, at once: before a 101
// that may follow in this very turn.
func (c *conn) continueNow(ex *exchange) {
	w := &ex.w
	w.mu.Lock()
	sent := w.contSent
	w.contSent = true
	w.mu.Unlock()
	if !sent {
		_, _ = c.gc.Write(continueLine)
	}
}

// bodyAsked starts the body clocks of an Expect: 100-continue request whose
// handler has asked for the body (after 100 Continue was written), unless the
// client sent some unasked and they already run.
func (c *conn) bodyAsked() {
	if c.state == stBodyStream && c.body.unasked {
		c.body.unasked = false
		c.armBody(0)
	}
}

// readBody moves body bytes from the inbound buffer to where they go. It reports
// whether the connection changed state.
func (c *conn) readBody() (bool, gnet.Action) {
	b := &c.body
	in, _ := c.gc.Peek(-1)
	if len(in) == 0 {
		return false, gnet.None
	}
	switch c.state {
	case stBodyBuffer:
		if !b.chunked {
			n := int(min(int64(len(in)), b.remaining))
			b.buf.B = append(b.buf.B, in[:n]...)
			_, _ = c.gc.Discard(n)
			b.remaining -= int64(n)
			if b.remaining > 0 {
				c.armBody(n)
				return false, gnet.None
			}
			return true, c.bodyBuffered()
		}
		out, consumed, done, err := b.dec.Decode(b.buf.B, in)
		b.buf.B = out
		_, _ = c.gc.Discard(consumed)
		if err != nil {
			return false, c.badBody(err)
		}
		if done {
			return true, c.bodyBuffered()
		}
		if len(b.buf.B) > c.srv.cfg.BodyBufferSize {
			return true, c.startStream(c.cur)
		}
		if consumed > 0 {
			// Only progress moves the body's clock: a wake with no new bytes
			// (gnet runs OnTraffic for every Wake) must not postpone it.
			c.armBody(consumed)
		}
		return false, gnet.None

	case stBodyStream:
		p := b.pipe
		free := p.space()
		if free <= 0 {
			// The handler is behind, not the client: no body clock while paused.
			c.pause()
			c.pauseBody()
			return false, gnet.None
		}
		var done bool
		moved := 0
		if !b.chunked {
			n := int(min(int64(len(in)), b.remaining, int64(free)))
			moved = n
			p.write(in[:n])
			_, _ = c.gc.Discard(n)
			b.remaining -= int64(n)
			done = b.remaining == 0
		} else {
			src := in[:min(len(in), free)]
			out, consumed, fin, err := b.dec.Decode(b.scratch[:0], src)
			b.scratch = out
			_, _ = c.gc.Discard(consumed)
			moved = consumed
			if err != nil {
				p.fail(err)
				b.pipe = nil
				return false, c.badBody(err)
			}
			p.write(out)
			done = fin
			if fin {
				c.cur.setTrailers(b.dec.Trailers)
			}
			if consumed == 0 && !fin {
				if len(src) < len(in) {
					// The next chunk line does not fit the room left: wait for the
					// handler to make more.
					p.wantRoom()
					c.pause()
					c.pauseBody()
				}
				return false, gnet.None
			}
		}
		if moved > 0 {
			b.unasked = false // sent without waiting: the usual clock from here
		}
		if done {
			p.closeWrite()
			b.pipe = nil
			c.enter(stHandling)
			c.pauseBody()
			return true, gnet.None
		}
		if b.unasked {
			return true, gnet.None // no body yet, none asked for
		}
		c.armBody(moved)
		return true, gnet.None

	case stDiscard:
		if !b.chunked {
			n := int(min(int64(len(in)), b.remaining))
			_, _ = c.gc.Discard(n)
			b.remaining -= int64(n)
			b.discarded += int64(n)
			if b.remaining == 0 {
				return true, c.nextRequest()
			}
		} else {
			out, consumed, done, err := b.dec.Decode(b.scratch[:0], in)
			b.scratch = out[:0]
			_, _ = c.gc.Discard(consumed)
			b.discarded += int64(consumed)
			if err != nil {
				return false, gnet.Close
			}
			if done {
				return true, c.nextRequest()
			}
			if consumed == 0 {
				return false, gnet.None
			}
		}
		if b.discarded > discardLimit {
			return false, gnet.Close
		}
		c.setTimeout(c.srv.cfg.BodyTimeout)
		return false, gnet.None
	}
	return false, gnet.None
}

// badBody answers a malformed chunked body.
func (c *conn) badBody(err error) gnet.Action {
	status, reason := 400, err.Error()
	var perr *http1.Error
	if errors.As(err, &perr) {
		status, reason = perr.Status, perr.Reason
	}
	c.srv.log.Info().Str("peer", c.remoteAddr).Int("status", status).Str("reason", reason).Msg("bad request body")
	if c.state == stBodyBuffer {
		c.cur = nil
		c.body.release()
		c.reject(status, reason)
		return gnet.None
	}
	// The handler already runs: it sees the error from Body.Read; the connection
	// closes after its response.
	c.enter(stHandling)
	c.mustClose = true
	return gnet.None
}

// bodyBuffered dispatches a request whose whole body is in memory.
func (c *conn) bodyBuffered() gnet.Action {
	ex := c.cur
	b := &c.body
	buf := b.buf
	b.buf = nil
	if b.chunked {
		ex.setTrailers(b.dec.Trailers)
	}
	ex.req.ContentLength = int64(len(buf.B))
	ex.setBody(&bufBody{b: buf.B}, buf)
	c.setDeadline(time.Time{})
	if b.upgrade != nil {
		settings := b.upgrade
		b.upgrade = nil
		return c.upgradeH2(ex, settings)
	}
	return c.dispatch(ex)
}

// bufBody is a request body already in memory.
type bufBody struct {
	b   []byte
	off int
}

func (r *bufBody) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *bufBody) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.b[r.off:])
	r.off += n
	return int64(n), err
}

func (r *bufBody) Close() error { r.off = len(r.b); return nil }

// bodyPipe streams a body from the event loop to the handler through a buffer of
// fixed size; the loop stops reading the socket while the buffer is full.
type bodyPipe struct {
	c  *conn
	ex *exchange

	mu        sync.Mutex
	cond      sync.Cond
	buf       []byte
	start     int
	limit     int
	err       error // io.EOF when complete
	closed    bool  // the handler closed the body
	wantWake  bool  // the loop paused for room
	continued bool  // 100 Continue sent (or not needed)
	deadline  time.Time
}

func newBodyPipe(c *conn, limit int, ex *exchange) *bodyPipe {
	p := &bodyPipe{c: c, ex: ex, limit: limit, buf: make([]byte, 0, min(limit, 16<<10))}
	p.cond.L = &p.mu
	p.continued = !ex.expect100 || ex.w.continueSent()
	return p
}

// space returns how many bytes the loop may write now (loop side).
func (p *bodyPipe) space() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0
	}
	n := p.limit - (len(p.buf) - p.start)
	if n <= 0 {
		p.wantWake = true
	}
	return n
}

// wantRoom asks the reader to wake the loop once half the buffer is free.
func (p *bodyPipe) wantRoom() {
	p.mu.Lock()
	p.wantWake = true
	p.mu.Unlock()
}

func (p *bodyPipe) write(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	if p.start > 0 && p.start == len(p.buf) {
		p.buf, p.start = p.buf[:0], 0
	} else if p.start > len(p.buf)/2 {
		n := copy(p.buf, p.buf[p.start:])
		p.buf, p.start = p.buf[:n], 0
	}
	p.buf = append(p.buf, b...)
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *bodyPipe) closeWrite() { p.fail(io.EOF) }

// complete reports whether the whole body has arrived from the client.
func (p *bodyPipe) complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err == io.EOF
}

func (p *bodyPipe) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *bodyPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	if !p.continued {
		p.continued = true
		p.mu.Unlock()
		p.ex.sendContinue()
		// The body is asked for now: its clock starts on the loop (the wake runs
		// after the 100 Continue is written).
		_ = p.c.gc.Wake(p.askedWake)
		p.mu.Lock()
	}
	var timer *time.Timer
	parked := false
	for p.start == len(p.buf) && p.err == nil && !p.closed {
		if !parked {
			// Waiting on the client: the pool slot runs someone else meanwhile.
			parked = pool.Park(p.ex.req.Context())
		}
		if !p.deadline.IsZero() {
			d := time.Until(p.deadline)
			if d <= 0 {
				p.mu.Unlock()
				return 0, errReadDeadline
			}
			if timer == nil {
				timer = time.AfterFunc(d, p.cond.Broadcast)
				defer timer.Stop()
			}
		}
		p.cond.Wait()
	}
	if parked {
		p.mu.Unlock() // the loop writes the pipe while we wait for a slot
		err := pool.Unpark(p.ex.req.Context())
		p.mu.Lock()
		if err != nil {
			p.mu.Unlock()
			return 0, err
		}
	}
	if p.closed {
		p.mu.Unlock()
		return 0, http.ErrBodyReadAfterClose
	}
	if p.start == len(p.buf) {
		err := p.err
		p.mu.Unlock()
		if err != io.EOF {
			p.broken()
		}
		return 0, err
	}
	n := copy(b, p.buf[p.start:])
	p.start += n
	wake := p.wantWake && p.limit-(len(p.buf)-p.start) >= p.limit/2
	if wake {
		p.wantWake = false
	}
	p.mu.Unlock()
	if wake {
		_ = p.c.gc.Wake(onResumeWake)
	}
	return n, nil
}

var errReadDeadline = errors.New("read deadline exceeded")

// broken tells the response that the body failed (stalled, malformed, the
// client gone): the connection cannot carry another request, so a head not yet
// sent says Connection: close.
func (p *bodyPipe) broken() {
	w := &p.ex.w
	w.mu.Lock()
	w.closeConn = true
	w.mu.Unlock()
}

// askedWake runs on the loop once p's handler asked for the body (a Wake
// callback; only for Expect: 100-continue). It starts the body clocks if the
// connection still streams this body.
func (p *bodyPipe) askedWake(gc gnet.Conn, err error) error {
	if c, ok := gc.Context().(*conn); ok && err == nil && c.body.pipe == p {
		c.bodyAsked()
	}
	return nil
}

func (p *bodyPipe) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
	return nil
}

func (p *bodyPipe) setReadDeadline(t time.Time) {
	p.mu.Lock()
	p.deadline = t
	p.mu.Unlock()
	p.cond.Broadcast()
}

// resumeReading reads again once a streaming body has room (onResumeWake).
func (c *conn) resumeReading() gnet.Action {
	c.resume()
	if c.state == stBodyStream && c.deadline.Load() == 0 {
		c.armBody(0) // waiting on the client again: its clocks run
	}
	return c.onTraffic()
}
