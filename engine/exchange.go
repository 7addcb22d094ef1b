package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/internal/reqmem"
	"github.com/gonicorn/gonicorn/internal/stats"
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
	start      int64 // monoNow when the request was read
	closeAfter bool  // the request asked to close (or the protocol always closes)
	expect100  bool
	bodyBuf    *bytebufferpool.ByteBuffer // a buffered body, released when the handler returns
	hijack     chan hijackResult          // set while a Hijack waits for the loop
	next       *exchange                  // a request pipelined behind this one, run after it
	chained    bool                       // this request runs behind another in one pool task
	hmu        sync.Mutex

	// direct: the handler may write its whole response to the socket itself
	// (set at dispatch: a keep-alive HTTP/1 request read whole, nothing queued
	// or held before it, nothing pipelined behind it). wroteDirect: it did; the
	// loop moves the connection on when it next sees it (conn.settleDirect).
	direct      bool
	wroteDirect atomic.Bool
	directBytes int64 // what the handler wrote itself (TryWrite), whole or a head

	// state moves once from exActive to one of the ends; whoever moves it owns
	// the response bytes that are still to be written.
	state atomic.Int32

	// ctx and mem are the memory of the context the request runs under and of
	// its URL and header values (one allocation for all). An exchange is never
	// reused: a handler may keep its request or its context.
	ctx pool.Context
	mem reqmem.Memory
}

const (
	exActive   int32 = iota
	exFinished       // the handler returned; its response is on its way
	exTimedOut       // the deadline passed first
	exFailed         // a panic, or the connection went away
)

// requestContext returns the context ex's request is to be built with.
func (ex *exchange) requestContext() context.Context {
	return ex.c.srv.pool.InitContext(&ex.ctx, ex.c.lctx)
}

// init readies ex to serve r, built under ex.requestContext().
func (ex *exchange) init(r *http.Request, closeAfter, expect100 bool) {
	c := ex.c
	// --keep-alive 0 turns keep-alive off: every response closes.
	ex.closeAfter = closeAfter || c.dialect.oneRequest() || c.srv.cfg.KeepAlive <= 0
	ex.req, ex.expect100, ex.start = r, expect100, c.srv.requestStart()
	ex.w.init(ex)
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

// dispatch hands ex to the pool. It runs on the loop. When every handler slot
// is busy the request waits its turn in the pool's fair queue, behind the
// earlier requests of its connection (a pipelined chain is one Job), with the
// connections taking turns; it runs when a slot frees, or Dropped answers it
// 503 once it waited past the queue wait. Only a full queue is answered at once.
func (c *conn) dispatch(ex *exchange) gnet.Action {
	if c.state != stBodyStream {
		c.enter(stHandling)
		ex.direct = c.dialect == dialectHTTP1 && !ex.closeAfter && !ex.expect100 && !c.mustClose &&
			ex.next == nil && !ex.chained && len(c.pendingBufs) == 0
		c.inputWhileHandling.Store(false)
	}
	c.srv.beginRequest()
	if err := c.srv.pool.Enqueue(c.lctx, ex, c); err != nil {
		c.srv.endRequest()
		c.srv.log.Warn().Err(err).Str("request", ex.String()).
			Msg("no handler slot free and the queue is full (--max-queued-streams): 503")
		ex.state.Store(exFailed)
		c.cur = nil
		c.body.release()
		c.srv.stats.PoolRejected()
		ex.countRequest(http.StatusServiceUnavailable, 0)
		c.refuse(http.StatusServiceUnavailable)
		return gnet.None
	}
	return gnet.None
}

func (ex *exchange) setHandle(h *pool.Handle) {
	ex.hmu.Lock()
	ex.handle = h
	ex.hmu.Unlock()
}

// begun reports whether a pool goroutine has started running the exchange.
func (ex *exchange) begun() bool {
	ex.hmu.Lock()
	defer ex.hmu.Unlock()
	return ex.handle != nil
}

// Next returns the request pipelined behind this one (pool.Chain).
func (ex *exchange) Next() pool.Job {
	if ex.next == nil {
		return nil
	}
	return ex.next
}

// Run serves the request on a pool goroutine.
func (ex *exchange) Run(ctx context.Context) {
	if ex.chained {
		if ex.state.Load() != exActive {
			return // a chained request whose connection is gone: never counted in flight
		}
		ex.c.srv.beginRequest()
	}
	defer ex.c.srv.endRequest()
	// The handle before the state: connGone moves the state first, then
	// cancels the handle it finds.
	ex.setHandle(pool.HandleOf(ctx))
	if ex.state.Load() != exActive {
		// The connection went away before the handler could start.
		if b := ex.bodyBuf; b != nil {
			ex.bodyBuf = nil
			putBuf(b)
		}
		return
	}
	r := ex.req
	if r.Context() != ctx {
		// Built elsewhere (uWSGI) without the pool's context.
		r = r.WithContext(ctx)
		ex.w.mu.Lock()
		ex.w.req = r
		ex.w.mu.Unlock()
	}
	ex.c.srv.handler.ServeHTTP(&ex.w, r)
	ex.w.finish()
	ex.w.recycleHeader()
	if ex.bodyBuf != nil {
		// The handler has returned: nothing reads the buffered body any more.
		b := ex.bodyBuf
		ex.bodyBuf = nil
		putBuf(b)
	}
}

// Dropped runs when the request waited in the pool's queue longer than the
// queue wait (on the clock's goroutine), or when its connection closed first
// (on the loop, from OnClose). A waiting client gets 503 with Retry-After and
// Connection: close, written by the loop (abandon wakes it); the requests
// pipelined behind it get none, as after any response that closes. The
// handler never runs.
func (ex *exchange) Dropped() {
	defer ex.c.srv.endRequest()
	if b := ex.bodyBuf; b != nil {
		// No handler will read the buffered body.
		ex.bodyBuf = nil
		putBuf(b)
	}
	if ex.state.Load() != exActive {
		ex.c.srv.log.Debug().Str("request", ex.String()).
			Msg("client went away while its request waited for a handler slot")
		return
	}
	ex.c.srv.log.Warn().Str("request", ex.String()).
		Msg("request waited too long for a handler slot: 503")
	ex.w.abandon(http.StatusServiceUnavailable, exFailed)
}

// Context returns the context the request was built with, for the pool to run
// it with.
func (ex *exchange) Context() context.Context { return ex.req.Context() }

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
	for e := ex; e != nil; e = e.next {
		e.state.CompareAndSwap(exActive, exFailed)
		e.hmu.Lock()
		h := e.handle
		e.hmu.Unlock()
		if h != nil {
			h.Cancel()
		}
		e.w.connGone()
	}
}

// sendContinue writes "100 Continue" if the response has not started.
func (ex *exchange) sendContinue() { ex.w.sendContinue() }

// statsProtocol is the protocol the metrics count the exchange under.
func (ex *exchange) statsProtocol() stats.Protocol {
	if ex.c.dialect == dialectUWSGI {
		return stats.UWSGI
	}
	return stats.HTTP1
}

// countRequest counts an exchange answered without its handler, for the metrics.
func (ex *exchange) countRequest(status int, bodyBytes int64) {
	if st := ex.c.srv.stats; st != nil {
		st.Request(ex.statsProtocol(), ex.req.Method, status, time.Duration(monoNow()-ex.start), ex.req.ContentLength, bodyBytes)
	}
}

// logAccess counts a finished exchange and writes its access log line.
func (ex *exchange) logAccess(status int, bodyBytes int64, respHeader http.Header) {
	ex.c.srv.recordRequest(ex.statsProtocol(), ex.req, ex.start, status, bodyBytes, respHeader)
}

// holdLimit bounds the responses held back to be written together with the
// responses of requests a client pipelined behind them.
const holdLimit = 64 << 10

// serviceWrites writes what the connection's exchanges have handed over, in
// request order: a streamed piece of the current one, then every complete
// response up to the first that is not. A response whose client already sent
// the next request, or whose next pipelined request runs, is held and goes out
// with what follows: one write for a pipelined burst. It runs on the loop.
func (c *conn) serviceWrites() gnet.Action {
	if r := c.readySince.Swap(0); r != 0 {
		// A response finished at r and waited for the loop (its handler wrote
		// it itself, or it was held): if the connection is idle now, it has
		// been since r, which is what eviction orders by.
		defer c.idleFrom(r)
	}
	for c.cur != nil {
		ex := c.cur
		if ex.w.hasInflight() {
			c.writeFlush(&ex.w)
		}
		out := ex.w.takeSent()
		if out == nil && !ex.wroteDirect.Load() {
			return c.flushIfWaiting() // not finished yet
		}
		c.outTotal += ex.directBytes // written under the response's lock, before either
		// The response is complete: ask now, before writing it, so that the
		// FIN may leave with it.
		quick := c.closesQuickly(ex)
		switch {
		case out == nil:
			// The handler wrote the response itself.
		case !ex.closeAfter && !ex.w.closeConn && !c.mustClose && c.state == stHandling &&
			(ex.next != nil || c.gc.InboundBuffered() > 0) && c.pendingBytes+out.Len() <= holdLimit:
			c.hold(out)
		case quick:
			werr := c.writeLast(out.B)
			putBuf(out)
			if werr != nil {
				return gnet.None
			}
		default:
			werr := c.writeOut(out.B)
			putBuf(out)
			if werr != nil {
				return gnet.None
			}
		}
		if c.finishExchange(ex, quick) == gnet.Close {
			c.flushPending()
			return gnet.Close
		}
	}
	return c.flushIfWaiting()
}

// flushIfWaiting sends everything held once the connection waits on the client.
func (c *conn) flushIfWaiting() gnet.Action {
	if c.state != stHandling {
		c.flushPending()
	}
	return gnet.None
}

// settleDirect moves the connection on from a response its handler wrote to
// the socket itself. It runs on the loop whenever the loop sees the connection
// while it is handling: the client's next request, or the clock.
func (c *conn) settleDirect() gnet.Action {
	if ex := c.cur; ex == nil || !ex.wroteDirect.Load() {
		return gnet.None
	}
	return c.serviceWrites()
}

// closesQuickly reports whether the connection closes as soon as ex's response
// is out (quickClose): a request read whole with nothing behind it on a
// connection that closes now. serviceWrites asks before writing the response,
// so that over TCP the FIN leaves with it, and tells finishExchange.
func (c *conn) closesQuickly(ex *exchange) bool {
	if ex.next != nil && !ex.closeAfter && !ex.w.closeConn && !c.mustClose {
		return false // the request behind it is served next
	}
	return (c.dialect.oneRequest() || ex.closeAfter && !ex.w.closeConn) && !c.mustClose &&
		c.state == stHandling && c.gc.InboundBuffered() == 0
}

// finishExchange moves the connection on after ex's response is queued; quick
// is closesQuickly(ex), asked before the response was written.
func (c *conn) finishExchange(ex *exchange, quick bool) gnet.Action {
	c.cur = nil
	if next := ex.next; next != nil {
		if ex.closeAfter || ex.w.closeConn || c.mustClose {
			// This response closes the connection: the requests behind it get
			// none (the client retries them, as HTTP/1.1 allows).
			next.connGone()
		} else {
			c.cur = next
			return gnet.None
		}
	}
	// A request read whole with nothing behind it on a connection that closes
	// now: close as soon as the response is out (nginx's lingering_close
	// heuristic). Lingering (shut the write side, drain input) is for a client
	// that may still be sending.
	if quick {
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
		c.enter(stDiscard)
		c.resume()
		return c.onTraffic()
	}
	return c.nextRequest()
}

// nextRequest readies the connection for its next request and parses any that
// already arrived (pipelining).
func (c *conn) nextRequest() gnet.Action {
	c.enter(stIdle)
	c.resume()
	return c.onTraffic()
}

// abort closes a connection whose response was cut (onAbortWake).
func (c *conn) abort() gnet.Action { return gnet.Close }
