package engine

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/protocol/http1"
)

// connState is where a connection is in its request cycle. It is read and
// changed only on the connection's event loop, and only by conn.enter.
type connState uint8

const (
	stIdle       connState = iota // waiting for a request head (keep-alive idle when no bytes)
	stHead                        // some bytes of a head have arrived
	stBodyBuffer                  // buffering a small body before dispatch
	stBodyStream                  // handler running, body streaming to it
	stHandling                    // handler running, request fully read
	stDiscard                     // response done, discarding the rest of an unread body
	stLinger                      // response sent, write side shut, draining input before close
	stH2                          // the connection speaks HTTP/2
	stHijacked                    // handed to the handler
	stClosed
)

// stateBound is what a connection's single timer does when it enters a state.
type stateBound uint8

const (
	boundKeep      stateBound = iota // unchanged: the state arms its own when it must
	boundNone                        // disarmed: the state has no bound of its own
	boundKeepAlive                   // --keep-alive (shortened while draining)
	boundHeader                      // --header-timeout, from the head's first byte
	boundBody                        // --body-timeout, rearmed by every body read
)

// stateBounds is the bound each state starts on entry. Expiry is answered by
// onExpire, by state. Lingering arms lingerTime once the write side is shut; an
// h2 connection keeps its own clocks per stream.
var stateBounds = [...]stateBound{
	stIdle:       boundKeepAlive,
	stHead:       boundHeader,
	stBodyBuffer: boundBody,
	stBodyStream: boundBody,
	stHandling:   boundNone,
	stDiscard:    boundBody,
	stLinger:     boundKeep,
	stH2:         boundNone,
	stHijacked:   boundKeep,
	stClosed:     boundKeep,
}

// enter moves the connection to st and arms st's bound: every state change goes
// through here.
func (c *conn) enter(st connState) {
	c.state = st
	bound := stateBounds[st]
	var now int64 // read the clock once, for idleSince and the deadline
	if st == stIdle || bound != boundNone && bound != boundKeep {
		now = monoNow()
	}
	c.markIdle(st, now)
	switch bound {
	case boundNone:
		c.setDeadline(time.Time{})
	case boundKeepAlive:
		if c.srv.draining.Load() {
			c.setTimeoutFrom(now, min(c.srv.cfg.KeepAlive, drainIdleGrace))
		} else {
			c.setTimeoutFrom(now, c.srv.cfg.KeepAlive)
		}
	case boundHeader:
		c.setTimeoutFrom(now, c.srv.cfg.HeaderTimeout)
	case boundBody:
		c.setTimeoutFrom(now, c.srv.cfg.BodyTimeout)
	}
}

// pipelineLimit bounds the bytes a client may send ahead while a request runs
// before the engine stops reading its socket.
const pipelineLimit = 64 << 10

// lingerTime bounds how long a closing connection's input is drained after its
// last response, so the client reads the response instead of a reset.
const lingerTime = 2 * time.Second

// drainIdleGrace is how long a graceful stop waits for the next request of an
// idle connection before closing it.
const drainIdleGrace = 500 * time.Millisecond

// conn is one client connection: its protocol state and its current exchange.
type conn struct {
	srv   *Server
	links connLinks // in srv.conns
	gc    gnet.Conn
	ctl   gnet.ConnControl // gc's direct writes and read pausing (third_party/gnet)
	loop  gnet.EventLoop
	lctx  context.Context
	ln    *Listener
	// dialect frames the answers: HTTP/1 or uWSGI from the listener, h2 once the
	// connection switches.
	dialect dialect

	remoteAddr   string
	localAddr    net.Addr
	trustedProxy bool // the peer is in --forwarded-allow-ips

	proxy proxyWait // a PROXY protocol header still to come (proxy.go)

	state     connState
	deadline  atomicInt64 // monoNow terms; 0: none. Set on the loop, read by the clock.
	idleSince atomicInt64 // monoNow when it waits on its client with nothing in progress; 0: busy (evict.go)
	paused    bool        // read interest is off
	mustClose bool        // the connection cannot carry another request (a broken body)
	ackWait   bool        // write side shut: closes once the peer acknowledged the output (closeWhenAcked)
	requests  int         // requests served on this connection
	drainKind drainKind   // what waits for the outbound queue to drain

	// h1 is the HTTP/1 parser's state: nil on a uWSGI connection, which never
	// parses an HTTP/1 head (newConn allocates it with the conn).
	h1 *h1State

	cur   *exchange // the request being read or handled
	first *exchange // a uWSGI connection's exchange, in its own allocation, until used (newExchange)
	body  bodyState // buffering or streaming of cur's body

	h2 *h2Conn

	// Responses held back while the client's next pipelined request runs.
	// Minimum rates (rate.go), on the loop.
	inMeter       *rateMeter // request body arriving; nil until first measured
	bodyWaitUntil time.Time  // when --body-timeout passes for the body wait; zero: none
	inCheckAt     time.Time  // the next check of the request rate
	outMeter      *rateMeter // response bytes leaving while someone waits on them; nil until first measured
	outTotal      int64      // bytes handed to gnet by writeOut
	outSeen       int64      // bytes known to have left the queue at the last look

	pendingBufs  []*bytebufferpool.ByteBuffer
	pendingBytes int
	heldAt       atomicInt64 // monoNow when the oldest held response was held; 0: none
	readySince   atomicInt64 // monoNow since a finished response waits for the loop; 0: none
	// inputWhileHandling: the client sent bytes while its request ran (set on
	// the loop, read by a handler that wrote its response itself).
	inputWhileHandling atomic.Bool
	// loopWaits: the loop has yielded to this connection's handler and writes
	// what it finished when it resumes (Server.inline); the handler need not wake it.
	loopWaits atomic.Bool
	iov       [][]byte
}

// h1State is what parsing HTTP/1 heads needs, kept apart from conn so that a
// uWSGI connection neither carries nor zeroes it.
type h1State struct {
	parser http1.Parser
	head   http1.Request
}

// httpConn is an HTTP/1 (or h2c) connection and its parser state, allocated
// together: one allocation per connection.
type httpConn struct {
	conn
	h1 h1State
}

// uwsgiConn is a uWSGI connection and the exchange of its one request (nginx
// opens a connection per request), allocated together: one allocation for
// both. The exchange is used once (firstExchange) and never reused, so sharing
// the allocation changes no lifetime: an exchange already kept its conn alive.
//
// remoteMem holds the bytes of remoteAddr (nginx's address, for the log: the
// request's RemoteAddr is the client's, from REMOTE_ADDR), written once in
// newConn and never again. An HTTP/1 connection's remoteAddr is every
// request's RemoteAddr, which handlers keep (a rate limiter's key): it gets a
// string of its own, which keeps nothing else alive.
type uwsgiConn struct {
	conn
	ex        exchange
	remoteMem [remoteMemLen]byte
}

// remoteMemLen is room for any IPv4 or IPv6 address with its port, without a
// zone ("[" + 39 + "]:" + 5 characters).
const remoteMemLen = 48

// hold keeps a finished response to be written with the next one.
func (c *conn) hold(b *bytebufferpool.ByteBuffer) {
	if len(c.pendingBufs) == 0 {
		c.heldAt.Store(monoNow())
	}
	c.pendingBufs = append(c.pendingBufs, b)
	c.pendingBytes += b.Len()
}

// writeOut writes the held responses and then bufs, in one system call where the
// socket takes it all. bufs need stay valid only until it returns: gnet copies
// what the socket does not take.
func (c *conn) writeOut(bufs ...[]byte) error {
	for _, b := range bufs {
		c.outTotal += int64(len(b))
	}
	c.outTotal += int64(c.pendingBytes)
	if len(c.pendingBufs) == 0 && len(bufs) == 1 {
		_, err := c.gc.Write(bufs[0])
		return err
	}
	// bufs itself is not handed on (gnet's Writev is an interface call): the
	// variadic slice stays on the caller's stack.
	iov := c.iov[:0]
	for _, b := range c.pendingBufs {
		iov = append(iov, b.B)
	}
	iov = append(iov, bufs...)
	_, err := c.gc.Writev(iov)
	clear(iov)
	c.iov = iov[:0]
	c.releasePending()
	return err
}

// writeLast writes b, the last output before a quick close: over TCP the kernel
// sends it with the FIN (gnet's WriteBeforeClose), one segment fewer each way.
func (c *conn) writeLast(b []byte) error {
	if len(c.pendingBufs) > 0 {
		return c.writeOut(b)
	}
	c.outTotal += int64(len(b))
	_, err := c.ctl.WriteBeforeClose(b)
	return err
}

// flushPending writes the held responses, if any.
func (c *conn) flushPending() {
	if len(c.pendingBufs) > 0 {
		_ = c.writeOut()
	}
}

func (c *conn) releasePending() {
	for i, b := range c.pendingBufs {
		putBuf(b)
		c.pendingBufs[i] = nil
	}
	c.pendingBufs = c.pendingBufs[:0]
	c.pendingBytes = 0
	c.heldAt.Store(0)
}

// flushHeld writes responses held too long behind a slow pipelined request
// (onFlushHeldWake).
func (c *conn) flushHeld() gnet.Action {
	if c.serviceWrites() == gnet.Close {
		return gnet.Close
	}
	c.flushPending()
	return gnet.None
}

// newConn returns the state of a connection gc accepted on lf: one
// allocation, holding the conn with its HTTP/1 parser state, or with the
// exchange of its one request on a uWSGI listener.
func newConn(s *Server, lf *listenerFD, gc gnet.Conn) *conn {
	var c *conn
	remote := gc.RemoteAddr()
	if lf.uwsgi {
		uc := &uwsgiConn{}
		c = &uc.conn
		c.first = &uc.ex
		c.remoteAddr = remoteStringIn(&uc.remoteMem, remote)
	} else {
		hc := &httpConn{}
		c = &hc.conn
		c.h1 = &hc.h1
		c.h1.parser.Limits = h1Limits(s.cfg)
		c.remoteAddr = remoteString(remote)
	}
	c.srv = s
	c.gc = gc
	c.ctl = gc.(gnet.ConnControl)
	c.loop = gc.EventLoop()
	c.lctx = lf.lctx
	c.ln = lf.ln
	c.dialect = dialectOf(lf.uwsgi)
	c.localAddr = gc.LocalAddr()
	c.trustedProxy = s.forwardedAllow.AllowAddr(remote)
	c.proxy = s.proxy.waitFor(c.localAddr, remote)
	return c
}

// h1Limits returns the HTTP/1 parser's limits from the configuration.
func h1Limits(cfg *Options) http1.Limits {
	return http1.Limits{
		MaxRequestLine:  cfg.LimitRequestLine,
		MaxHeaderFields: cfg.LimitRequestFields,
		MaxFieldSize:    cfg.LimitRequestFieldSize,
		MaxHeaderBytes:  headerBytesLimit(cfg.LimitRequestLine, cfg.LimitRequestFields, cfg.LimitRequestFieldSize),
	}
}

// newExchange starts an exchange on c; its request is built next, under the
// context requestContext returns, and handed to init. A uWSGI connection's
// first exchange lives in the conn's own allocation.
func (c *conn) newExchange() *exchange {
	if ex := c.first; ex != nil {
		c.first = nil // used once: an exchange is never reused
		ex.c = c
		return ex
	}
	return &exchange{c: c}
}

// headerBytesLimit bounds a whole head from the per-line limits, as Gunicorn does
// implicitly: the request line plus every field at its largest.
func headerBytesLimit(line, fields, fieldSize int) int {
	if fieldSize <= 0 {
		fieldSize = 8190
	}
	if line <= 0 {
		line = 8190
	}
	if fields <= 0 {
		fields = 100
	}
	n := line + 2 + fields*(fieldSize+2) + 2
	return min(n, 1<<20)
}

// remoteStringIn is remoteString(a) with a TCP peer's bytes in mem, which the
// caller never writes again (the string aliases it): no allocation of its own.
// The string keeps mem's whole allocation alive.
func remoteStringIn(mem *[remoteMemLen]byte, a net.Addr) string {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return remoteString(a)
	}
	b, ok := appendTCPAddr(mem[:0], t)
	if !ok || len(b) == 0 || &b[0] != &mem[0] {
		return tcpAddrString(t)
	}
	return unsafe.String(&b[0], len(b))
}

func remoteString(a net.Addr) string {
	if a == nil {
		return ""
	}
	if _, ok := a.(*net.UnixAddr); ok {
		// Unix peers have no address; net/http reports "@" for abstract, "" otherwise.
		return "unix"
	}
	if t, ok := a.(*net.TCPAddr); ok {
		return tcpAddrString(t)
	}
	return a.String()
}

// tcpAddrString is a.String() in one allocation (net's takes three for the
// address, the port and the join).
func tcpAddrString(a *net.TCPAddr) string {
	var buf [remoteMemLen]byte
	b, ok := appendTCPAddr(buf[:0], a)
	if !ok {
		return a.String()
	}
	return string(b)
}

// appendTCPAddr appends a.String() to dst; false (and dst unchanged) for an
// address it leaves to net: one with a zone, an invalid IP or port.
func appendTCPAddr(dst []byte, a *net.TCPAddr) ([]byte, bool) {
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok || a.Zone != "" || a.Port < 0 || a.Port > 0xffff {
		return dst, false
	}
	// net.IP's String prints an IPv4-mapped IPv6 address as IPv4.
	return netip.AddrPortFrom(ip.Unmap(), uint16(a.Port)).AppendTo(dst), true
}

// setDeadline arms the connection's single timer; zero disarms it.
func (c *conn) setDeadline(t time.Time) {
	if t.IsZero() {
		c.deadline.Store(0)
		return
	}
	c.deadline.Store(monoOf(t))
}

func (c *conn) setTimeout(d time.Duration) {
	if d <= 0 {
		c.deadline.Store(0)
		return
	}
	c.setTimeoutFrom(monoNow(), d)
}

// setTimeoutFrom sets the deadline d after now (monoNow's terms); d <= 0 clears it.
func (c *conn) setTimeoutFrom(now int64, d time.Duration) {
	if d <= 0 {
		c.deadline.Store(0)
		return
	}
	c.deadline.Store(now + int64(d))
}

// pause stops reading the socket; resume starts again. Both run on the loop.
func (c *conn) pause() {
	if c.paused || c.state == stClosed {
		return
	}
	if err := c.ctl.PauseRead(); err != nil {
		c.srv.log.Debug().Err(err).Msg("pausing reads")
		return
	}
	c.paused = true
}

func (c *conn) resume() {
	if !c.paused || c.state == stClosed {
		return
	}
	c.paused = false
	if err := c.ctl.ResumeRead(); err != nil {
		c.srv.log.Debug().Err(err).Msg("resuming reads")
	}
}

// protocol is what the connection speaks now, for the metrics.
func (c *conn) protocol() stats.Protocol {
	switch c.dialect {
	case dialectUWSGI:
		return stats.UWSGI
	case dialectH2:
		return stats.H2
	}
	return stats.HTTP1
}

// loopHandler is the gnet EventHandler of every connection.
type loopHandler struct {
	gnet.BuiltinEventEngine
	s *Server
}

// OnOpen runs on the loop that accepted gc; gc's context is its listener's.
func (h *loopHandler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	lf, ok := gc.Context().(*listenerFD)
	if !ok {
		return nil, gnet.Close
	}
	if lf.uwsgi && !h.s.uwsgiAllow.AllowAddr(gc.RemoteAddr()) {
		h.s.log.Warn().Str("peer", gc.RemoteAddr().String()).Str("listener", lf.ln.Spec).
			Msg("uwsgi peer not in --uwsgi-allow-from: connection refused")
		gc.SetContext(nil)
		return nil, gnet.Close
	}
	c := newConn(h.s, lf, gc)
	gc.SetContext(c)
	now := monoNow()
	c.markIdle(stIdle, now) // accepted, nothing sent yet
	h.s.admitted()
	h.s.conns.add(c)
	h.s.stats.ConnOpened(c.protocol())
	if c.proxy == proxyRequired || c.proxy == proxyOptional {
		c.setTimeoutFrom(now, h.s.cfg.HeaderTimeout) // the PROXY header is part of the head
	} else {
		c.setTimeoutFrom(now, h.s.cfg.KeepAlive+h.s.cfg.HeaderTimeout)
	}
	return nil, gnet.None
}

func (h *loopHandler) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok || c.state == stClosed {
		return gnet.None
	}
	hijacked := c.state == stHijacked
	c.enter(stClosed)
	h.s.conns.remove(c)
	h.s.released()
	h.s.stats.ConnClosed(c.protocol())
	h.s.unwatchDrain(c)
	if c.h2 != nil {
		c.h2.onClose(err)
	}
	if c.cur != nil {
		if hijacked && c.cur.hijack != nil {
			select {
			case c.cur.hijack <- hijackResult{err: errConnClosed}:
			default:
			}
		} else if !hijacked {
			c.cur.connGone()
		}
		if h.s.pool.Queued() > 0 {
			// The request may still wait for a handler slot: it never runs
			// (after connGone, so Dropped knows no one is there to answer).
			h.s.pool.DropQueued(c)
		}
	}
	c.body.release()
	c.releasePending()
	return gnet.None
}

func (h *loopHandler) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	act := c.onTraffic()
	if act != gnet.None || !h.s.inline || c.state != stHandling || c.cur == nil {
		return act
	}
	// No P to spare: the handler just readied runs only when the loop yields.
	// Yield now and write what it finished, rather than after every other
	// connection of this turn: the client has its answer at once and sends the
	// next request while the loop goes on, and the response needs no wake.
	c.loopWaits.Store(true)
	runtime.Gosched()
	if ex := c.cur; ex != nil && ex.state.Load() == exActive && !ex.begun() {
		// The loop came back first: now and then the scheduler takes its
		// global queue, where Gosched put the loop, before the handler readied
		// on this P (fairness, one turn in 61). Yield once more, or the
		// response would cost a wake. A handler that has begun and waits on
		// something else is left to wake the loop when it is done.
		runtime.Gosched()
	}
	c.loopWaits.Store(false)
	if c.state == stClosed {
		return gnet.None
	}
	return c.serviceWrites()
}

// onTraffic advances the connection with whatever input is buffered. It runs on
// the loop, from OnTraffic and from callbacks after a response completes.
func (c *conn) onTraffic() gnet.Action {
	if c.proxy != proxyNone {
		if act, done := c.readProxyHeader(); !done {
			return act
		}
	}
	for {
		switch c.state {
		case stIdle, stHead:
			if c.gc.InboundBuffered() == 0 {
				return gnet.None
			}
			var act gnet.Action
			var progressed bool
			if c.dialect == dialectUWSGI {
				progressed, act = c.readPacket()
			} else {
				progressed, act = c.readHead()
			}
			if act != gnet.None || !progressed {
				return act
			}
		case stBodyBuffer, stBodyStream, stDiscard:
			progressed, act := c.readBody()
			if act != gnet.None || !progressed {
				return act
			}
		case stHandling:
			// The client sent more while its request runs (pipelining): keep it
			// buffered, but bounded. A handler that wrote its response itself
			// checks the flag after it wrote (or this sees wroteDirect). Only
			// bytes count: this also runs right after the dispatch, with the
			// buffer empty, and a flag set then cost every direct write a wake.
			if c.gc.InboundBuffered() > 0 {
				c.inputWhileHandling.Store(true)
			}
			if c.cur != nil && c.cur.wroteDirect.Load() {
				return c.settleDirect() // and parses what came
			}
			if c.gc.InboundBuffered() > pipelineLimit {
				c.pause()
			}
			return gnet.None
		case stLinger:
			_, _ = c.gc.Discard(-1)
			return gnet.None
		case stH2:
			return c.h2.onTraffic()
		case stHijacked:
			c.pause()
			return gnet.None
		default:
			return gnet.None
		}
	}
}

// expireIfDue answers the connection's deadline if it has passed (onExpireWake:
// the clock saw it pass, and the loop may since have moved it).
func (c *conn) expireIfDue() gnet.Action {
	d := c.deadline.Load()
	now := time.Now()
	if d == 0 || d > monoOf(now) {
		return gnet.None
	}
	c.deadline.Store(0)
	return c.onExpire(now)
}

// onExpire answers an expired wait according to what the connection was waiting for.
func (c *conn) onExpire(now time.Time) gnet.Action {
	switch c.state {
	case stIdle:
		if c.proxy == proxyRequired || c.proxy == proxyOptional {
			return c.proxyExpired()
		}
		// Keep-alive idle timeout: a quiet close, once the last response has left
		// (a slow reader may still be reading it; --write-timeout and
		// --min-response-rate bound that).
		if c.gc.OutboundBuffered() > 0 {
			c.enter(stLinger)
			c.srv.watchDrain(c, drainClose)
			return gnet.None
		}
		return gnet.Close
	case stHead:
		c.srv.log.Info().Str("peer", c.remoteAddr).Msg("request head not received in time (--header-timeout): 408")
		c.reject(408, "request head timeout")
		return gnet.None
	case stBodyBuffer:
		if !c.bodyExpired(now) {
			return gnet.None
		}
		c.srv.log.Info().Str("peer", c.remoteAddr).Msg("request body stalled (--body-timeout) or too slow (--min-request-rate): 408")
		c.cur = nil
		c.body.release()
		c.reject(408, "request body timeout")
		return gnet.None
	case stBodyStream:
		if !c.bodyExpired(now) {
			return gnet.None
		}
		c.srv.log.Info().Str("peer", c.remoteAddr).Msg("streamed request body stalled (--body-timeout) or too slow (--min-request-rate)")
		if c.body.pipe != nil {
			c.body.pipe.fail(errBodyTimeout)
			c.body.pipe = nil
		}
		c.enter(stHandling)
		c.mustClose = true
		return gnet.None
	case stLinger:
		// The input has been drained long enough (or the response waited
		// --write-timeout): close, but not under an unacknowledged tail of the
		// response, once only (closeWhenAcked).
		if c.ackWait || c.gc.OutboundBuffered() > 0 {
			return gnet.Close
		}
		return c.closeWhenAcked()
	case stDiscard, stHijacked:
		return gnet.Close
	case stH2:
		return c.h2.onExpire(now)
	}
	return gnet.None
}

// startDrain readies the connection for a graceful stop (onDrainWake).
func (c *conn) startDrain() gnet.Action {
	switch c.state {
	case stIdle:
		// Idle, or accepted but not yet heard from: a request may be on the wire
		// right now, and closing would turn it into a failure the client cannot
		// tell from a crash. Serve one that comes within a moment (its response
		// says Connection: close); close the connection when the moment passes.
		d := monoNow() + int64(drainIdleGrace)
		if cur := c.deadline.Load(); cur == 0 || cur > d {
			c.deadline.Store(d)
		}
		return gnet.None
	case stH2:
		c.h2.shutdown()
		if !c.h2.busy() && c.gc.OutboundBuffered() == 0 {
			return gnet.Close
		}
	}
	return gnet.None
}

// beginLinger sends nothing more: once the outbound buffer is empty it shuts the
// write side and drains input for a moment, so that a client still sending does
// not turn our close into a reset that destroys the response it has not read.
func (c *conn) beginLinger() {
	c.flushPending()
	c.enter(stLinger)
	c.cur = nil
	c.resume()
	if c.gc.OutboundBuffered() > 0 {
		c.srv.watchDrain(c, drainLinger)
		return
	}
	c.shutdownWrite()
}

// quickClose is beginLinger for a peer known to send nothing more (a uWSGI
// request whose body was read whole: nginx sends one request per connection).
// It closes as soon as the response has left, with no lingering.
func (c *conn) quickClose() gnet.Action {
	c.flushPending()
	c.enter(stLinger)
	c.cur = nil
	c.body.release()
	if c.gc.OutboundBuffered() > 0 {
		c.srv.watchDrain(c, drainClose)
		return gnet.None
	}
	return c.closeWhenAcked()
}

// closeUnackedMax is the most output the kernel may still hold unacknowledged
// when a connection closes. A closed socket with more queued is an orphan the
// kernel resets outright (no lingering FIN) whenever TCP memory is over
// tcp_mem's hard limit (tcp_check_oom in tcp_close: it spares sockets whose
// queue is under SOCK_MIN_SNDBUF, about 4.6 KB of buffer): the peer loses the
// response's tail, as nginx did under a machine-wide TCP memory squeeze.
const closeUnackedMax = 2 << 10

// closeWhenAcked closes a connection whose response has left gnet's queue, once
// the peer has acknowledged all but closeUnackedMax of it: until then the write
// side is shut (the FIN follows the data) and the socket stays ours, watched as
// drainClose (bounded by --write-timeout and --min-response-rate; a hang-up or
// socket error closes it at once). A small response is closed without asking,
// and so is a unix socket (whose peer already holds what was written).
func (c *conn) closeWhenAcked() gnet.Action {
	if c.outTotal <= closeUnackedMax {
		return gnet.Close
	}
	if _, tcp := c.gc.LocalAddr().(*net.TCPAddr); !tcp || c.unacked() <= closeUnackedMax {
		return gnet.Close
	}
	if !c.ackWait {
		c.ackWait = true
		if err := shutdownWrite(c.gc.Fd()); err != nil {
			return gnet.Close
		}
	}
	c.srv.watchDrain(c, drainClose)
	return gnet.None
}

// unacked returns the bytes of output the kernel holds that the peer has not
// acknowledged (SIOCOUTQ), or 0 when it cannot tell.
func (c *conn) unacked() int {
	n, err := unix.IoctlGetInt(c.gc.Fd(), unix.SIOCOUTQ)
	if err != nil {
		return 0
	}
	return n
}

func (c *conn) shutdownWrite() {
	c.setTimeout(lingerTime)
	_, _ = c.gc.Discard(-1)
	if err := shutdownWrite(c.gc.Fd()); err != nil {
		_ = c.gc.Close()
	}
}
