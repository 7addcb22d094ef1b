package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/pool"
	"github.com/gonicorn/gonicorn/protocol/http1"
)

// exchange is one HTTP/1 or uWSGI request and its response: the pool.Job that
// runs the handler.
type exchange struct {
	c          *conn
	req        *http.Request
	w          response
	handle     *pool.Handle
	start      time.Time
	closeAfter bool // the request asked to close (or the protocol always closes)
	expect100  bool
	bodyBuf    *bytebufferpool.ByteBuffer // a buffered body, released when the handler returns
	hijack     chan hijackResult          // set while a Hijack waits for the loop

	// state moves once from exActive to one of the ends; whoever moves it owns
	// the response bytes that are still to be written.
	state atomic.Int32
}

const (
	exActive   int32 = iota
	exFinished       // the handler returned; its response is on its way
	exTimedOut       // the deadline passed first
	exFailed         // a panic, or the connection went away
)

func newExchange(c *conn, r *http.Request, closeAfter, expect100 bool) *exchange {
	// --keep-alive 0 turns keep-alive off: every response closes.
	closeAfter = closeAfter || c.uwsgi || c.srv.cfg.KeepAlive <= 0
	ex := &exchange{c: c, req: r, closeAfter: closeAfter, expect100: expect100, start: time.Now()}
	ex.w.init(ex)
	return ex
}

func (ex *exchange) setBody(body io.ReadCloser, buf *bytebufferpool.ByteBuffer) {
	ex.req.Body = body
	ex.bodyBuf = buf
}

// setTrailers publishes the trailer fields of a chunked body; the handler reads
// them after the body's EOF, which happens after this call.
func (ex *exchange) setTrailers(fields []http1.OwnedField) {
	if len(fields) == 0 {
		return
	}
	if ex.req.Trailer == nil {
		ex.req.Trailer = make(http.Header, len(fields))
	}
	for _, f := range fields {
		ex.req.Trailer[f.Name] = append(ex.req.Trailer[f.Name], f.Value)
	}
}

// dispatch hands ex to the pool. It runs on the loop.
func (c *conn) dispatch(ex *exchange) gnet.Action {
	if c.state != stBodyStream {
		c.state = stHandling
		c.setDeadline(time.Time{})
	}
	c.srv.beginRequest()
	h, err := c.srv.pool.Submit(c.lctx, ex)
	if err != nil {
		c.srv.endRequest()
		c.srv.log.Warn().Err(err).Str("request", ex.String()).Msg("no handler slot free: 503")
		ex.state.Store(exFailed)
		c.cur = nil
		c.body.release()
		c.reject(http.StatusServiceUnavailable, "server overloaded")
		return gnet.None
	}
	ex.handle = h
	return gnet.None
}

// Run serves the request on a pool goroutine.
func (ex *exchange) Run(ctx context.Context) {
	defer ex.c.srv.endRequest()
	r := ex.req.WithContext(ctx)
	ex.w.mu.Lock()
	ex.w.req = r
	ex.w.mu.Unlock()
	ex.c.srv.handler.ServeHTTP(&ex.w, r)
	ex.w.finish()
	if ex.bodyBuf != nil {
		// The handler has returned: nothing reads the buffered body any more.
		b := ex.bodyBuf
		ex.bodyBuf = nil
		putBuf(b)
	}
}

// Expired runs on a timer goroutine when the handler outlives --timeout.
func (ex *exchange) Expired() {
	ex.c.srv.log.Error().Str("request", ex.String()).Dur("timeout", ex.c.srv.cfg.Timeout).
		Msg("handler exceeded --timeout")
	ex.w.abandon(http.StatusServiceUnavailable, exTimedOut)
}

// Recovered runs after the handler panicked (the pool logged the stack).
func (ex *exchange) Recovered(any) {
	ex.w.abandon(http.StatusInternalServerError, exFailed)
}

// String describes the request for logs.
func (ex *exchange) String() string {
	return fmt.Sprintf("%s %s from %s", ex.req.Method, ex.req.RequestURI, ex.c.remoteAddr)
}

// connGone runs on the loop when the connection closed under a running exchange.
func (ex *exchange) connGone() {
	ex.state.CompareAndSwap(exActive, exFailed)
	if ex.handle != nil {
		ex.handle.Cancel()
	}
	ex.w.connGone()
}

// sendContinue writes "100 Continue" if the response has not started.
func (ex *exchange) sendContinue() { ex.w.sendContinue() }

// logAccess writes the access log line of a finished exchange.
func (ex *exchange) logAccess(status int, bodyBytes int64, respHeader http.Header) {
	al := ex.c.srv.access
	if al == nil {
		return
	}
	e := logs.AccessEntry{
		RemoteAddr: ex.req.RemoteAddr,
		Method:     ex.req.Method,
		RequestURI: ex.req.RequestURI,
		Proto:      ex.req.Proto,
		Status:     status,
		BodyBytes:  bodyBytes,
		Start:      ex.start,
		Duration:   time.Since(ex.start),
		ReqHeader:  ex.req.Header,
		RespHeader: respHeader,
	}
	al.Log(&e)
}

// holdLimit bounds the responses held back to be written together with the
// responses of requests a client pipelined behind them.
const holdLimit = 64 << 10

// onFinalWake runs on the loop with the last bytes of a response. When the
// client has already sent the next request and its handler runs, the bytes are
// held and go out with that next response: one write for a pipelined burst.
func onFinalWake(gc gnet.Conn, err error) error {
	c, ok := gc.Context().(*conn)
	if !ok || c.cur == nil {
		return nil
	}
	ex := c.cur
	out := ex.w.takeSent()
	if out == nil {
		return nil
	}
	if err != nil {
		putBuf(out)
		return nil
	}
	keep := !ex.closeAfter && !ex.w.closeConn && !c.mustClose && c.state == stHandling &&
		c.gc.InboundBuffered() > 0 && c.pendingBytes+out.Len() <= holdLimit
	if keep {
		c.hold(out)
	} else {
		werr := c.writeOut(out.B)
		putBuf(out)
		if werr != nil {
			return nil
		}
	}
	act := c.finishExchange(ex)
	if act == gnet.Close {
		c.flushPending()
		return gc.Close()
	}
	if c.state != stHandling {
		// The connection now waits on the client: send everything held.
		c.flushPending()
	}
	return nil
}

// finishExchange moves the connection on after ex's response is queued.
func (c *conn) finishExchange(ex *exchange) gnet.Action {
	c.cur = nil
	if c.uwsgi && c.state == stHandling && c.gc.InboundBuffered() == 0 {
		return c.quickClose()
	}
	// A response that told the client to keep the connection is honoured even
	// while the server drains: closing now would race the client's next request.
	// That request is served (with Connection: close) if it comes soon.
	if ex.closeAfter || ex.w.closeConn || c.mustClose {
		c.body.release()
		c.beginLinger()
		return gnet.None
	}
	if c.state == stBodyStream || c.state == stBodyBuffer {
		// The handler did not read its whole body: drain a bounded rest.
		if ex.expect100 && !ex.w.continueSent() {
			c.body.release()
			c.beginLinger()
			return gnet.None
		}
		if c.body.pipe != nil {
			c.body.pipe.fail(errConnClosed)
			c.body.pipe = nil
		}
		if !c.body.chunked && c.body.remaining > discardLimit {
			c.beginLinger()
			return gnet.None
		}
		c.state = stDiscard
		c.setTimeout(c.srv.cfg.BodyTimeout)
		c.resume()
		return c.onTraffic()
	}
	return c.nextRequest()
}

// nextRequest readies the connection for its next request and parses any that
// already arrived (pipelining).
func (c *conn) nextRequest() gnet.Action {
	c.state = stIdle
	if c.srv.draining.Load() {
		c.setTimeout(min(c.srv.cfg.KeepAlive, drainIdleGrace))
	} else {
		c.setTimeout(c.srv.cfg.KeepAlive)
	}
	c.resume()
	return c.onTraffic()
}

// onAbortWake closes a connection whose response was cut.
func onAbortWake(gc gnet.Conn, err error) error {
	if err != nil {
		return nil
	}
	return gc.Close()
}
