package engine

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/internal/header"
	"github.com/gonicorn/gonicorn/pool"
	"github.com/gonicorn/gonicorn/protocol/http1"
)

const (
	// flushThreshold is how much body is buffered before the head goes out: a
	// response that fits gets a Content-Length and one write.
	flushThreshold = 64 << 10
	// largeWrite is the size from which a Write is sent from the caller's slice
	// (the writer waits until the loop has taken it) instead of being copied.
	largeWrite = 16 << 10
	// highWater and lowWater bound the bytes queued for a slow reader: a writer
	// waits above highWater until the queue drains below lowWater.
	highWater = 256 << 10
	lowWater  = 64 << 10
)

var (
	continueLine  = []byte("HTTP/1.1 100 Continue\r\n\r\n")
	crlf          = []byte("\r\n")
	errWriteStall = errors.New("write to a slow reader made no progress (--write-timeout)")
)

// response is the http.ResponseWriter of an HTTP/1 or uWSGI exchange. Its methods
// run on the handler's goroutine (and abandon on the pool's timer goroutine); mu
// orders them. The connection is reached only through AsyncWrite and Wake.
type response struct {
	ex  *exchange
	c   *conn // ex.c
	req *http.Request

	mu sync.Mutex
	writerState
	chunked   bool
	closeConn bool
	buf       *bytebufferpool.ByteBuffer
	inflight  *bytebufferpool.ByteBuffer // a flush the loop has not taken yet
	extra     []byte                     // the caller's bytes sent with inflight
	extraCRLF bool                       // a chunk's CRLF follows extra
	sent      *bytebufferpool.ByteBuffer // the final write
	ack       chan error
	gone      bool
	hijacked  bool
	contSent  bool
	deadline  time.Time // write deadline set through http.ResponseController
	sniffed   [1]string // the Content-Type value the head got by sniffing
}

func (w *response) init(ex *exchange) {
	w.ex = ex
	w.c = ex.c
	w.req = ex.req
	w.declared = -1
	w.isHead = ex.req.Method == http.MethodHead
	w.buf = getBuf()
}

// Header returns the response header map; after WriteHeader, changes reach only
// the trailers (see handlerHeader).
func (w *response) Header() http.Header {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hdr.get()
}

// usableLocked reports why the handler may no longer write, if so.
func (w *response) usableLocked() error {
	switch {
	case w.hijacked:
		return http.ErrHijacked
	case w.ex.state.Load() == exTimedOut:
		return http.ErrHandlerTimeout
	case w.gone || w.ex.state.Load() != exActive:
		return errConnClosed
	}
	return nil
}

// WriteHeader sends an informational head at once, or records the final status.
func (w *response) WriteHeader(code int) {
	checkWriteHeaderCode(code)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.usableLocked() != nil {
		return
	}
	if w.wroteHeader {
		w.c.srv.log.Debug().Str("request", w.ex.String()).Msg("superfluous WriteHeader call")
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if !w.c.dialect.sendsInterim(w.req) {
			return
		}
		if code == http.StatusContinue {
			w.contSent = true
		}
		out := getBuf()
		out.B = http1.AppendStatusLine(out.B, 1, 1, code)
		out.B = http1.AppendHeaders(out.B, w.hdr.get())
		out.B = append(out.B, crlf...)
		if w.handoffLocked(out, nil, false) == nil {
			w.mu.Unlock()
			_ = w.waitAck()
			w.mu.Lock()
		}
		return
	}
	w.writeHeaderLocked(code)
}

func (w *response) writeHeaderLocked(code int) {
	w.wroteHeader = true
	w.status = code
	w.declared = declaredLength(w.hdr.fix(false), w.c.srv.log, w.ex)
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status < 200 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// declaredLength returns the Content-Length a handler set in h, or -1. An
// invalid one is removed from h and logged: the response then frames itself.
func declaredLength(h http.Header, log zerolog.Logger, req fmt.Stringer) int64 {
	cl := h.Get("Content-Length")
	if cl == "" {
		return -1
	}
	if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
		return n
	}
	log.Warn().Str("request", req.String()).Str("content_length", cl).Msg("handler set an invalid Content-Length: ignored")
	h.Del("Content-Length")
	return -1
}

// maxPiece bounds what one handoff adds to a connection's queue: a large Write
// leaves in pieces, each waiting for the queue to fall below its high-water mark,
// so a slow reader's queue holds at most that mark + maxPiece however large the
// Write.
const maxPiece = 32 << 10

// Write buffers or streams body bytes, waiting while a slow reader's queue is full.
func (w *response) Write(p []byte) (int, error) {
	if len(p) <= maxPiece {
		return w.writePiece(p)
	}
	n := 0
	for n < len(p) {
		m, err := w.writePiece(p[n:min(n+maxPiece, len(p))])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writePiece is Write for at most maxPiece bytes.
func (w *response) writePiece(p []byte) (int, error) {
	w.mu.Lock()
	if send, err := w.startWrite(w, len(p)); !send {
		w.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if !w.headSent && (w.buf.Len()+len(p) <= flushThreshold || w.holdForUWSGIBody(len(p))) {
		w.buf.B = append(w.buf.B, p...)
		w.mu.Unlock()
		return len(p), nil
	}
	out := w.startStreamLocked()
	var extra []byte
	if len(p) >= largeWrite {
		if w.chunked {
			out.B = http1.AppendChunkHeader(out.B, len(p))
		}
		extra = p
	} else {
		w.appendFramed(out, p)
	}
	err := w.handoffLocked(out, extra, w.chunked && extra != nil)
	w.mu.Unlock()
	if err == nil {
		err = w.waitAck()
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// uwsgiHoldLimit bounds the response a uWSGI exchange keeps in memory while its
// request body is still arriving. nginx stops sending a request body to a uWSGI
// upstream once the response head arrives, so a head sent early would cut the
// body the handler is still reading (an echo, a transcoder).
const uwsgiHoldLimit = 8 << 20

// holdForUWSGIBody reports whether n more response bytes stay buffered because
// the request body of a uWSGI exchange is not complete yet.
func (w *response) holdForUWSGIBody(n int) bool {
	if !w.c.dialect.holdsHeadForBody() || w.buf.Len()+n > uwsgiHoldLimit {
		return false
	}
	p, ok := w.req.Body.(*bodyPipe)
	return ok && !p.complete()
}

// startStreamLocked returns the buffer to send next in streaming mode: the head
// (on the first call) and the body buffered so far, framed.
func (w *response) startStreamLocked() *bytebufferpool.ByteBuffer {
	if w.headSent {
		out := w.buf
		w.buf = getBuf()
		return out
	}
	out := getBuf()
	w.chunked = w.c.dialect.canChunk(w.req) &&
		w.declared < 0 && bodyAllowed(w.status) && !w.isHead
	closeDelimited := !w.chunked && w.declared < 0 && bodyAllowed(w.status) && !w.isHead
	var fields [16]http1.OutField
	hs := w.hdr.scan(fields[:])
	w.appendHeadLocked(out, -1, closeDelimited, w.buf.B, &hs)
	if w.buf.Len() > 0 {
		w.appendFramed(out, w.buf.B)
		w.buf.Reset()
	}
	return out
}

func (w *response) appendFramed(out *bytebufferpool.ByteBuffer, p []byte) {
	if len(p) == 0 {
		return
	}
	if w.chunked {
		out.B = http1.AppendChunkHeader(out.B, len(p))
		out.B = append(out.B, p...)
		out.B = append(out.B, crlf...)
		return
	}
	out.B = append(out.B, p...)
}

// handoffLocked gives out (and extra, the caller's own bytes) to the loop, which
// writes them after any responses it holds; the writer must then waitAck before
// touching extra again.
func (w *response) handoffLocked(out *bytebufferpool.ByteBuffer, extra []byte, chunkEnd bool) error {
	if w.ack == nil {
		// Made on the first handoff: most responses leave in one final write.
		w.ack = make(chan error, 1)
	}
	w.inflight, w.extra, w.extraCRLF = out, extra, chunkEnd
	if err := w.c.gc.Wake(onFlushWake); err != nil {
		w.inflight, w.extra = nil, nil
		putBuf(out)
		w.gone = true
		return errConnClosed
	}
	return nil
}

// waitAck waits until the loop has taken the last handoff and the queue to the
// client is short enough, or the write deadline passes.
func (w *response) waitAck() (werr error) {
	d := w.c.srv.cfg.WriteTimeout
	w.mu.Lock()
	if !w.deadline.IsZero() {
		d = time.Until(w.deadline)
	}
	ack := w.ack
	ctx := w.req.Context()
	w.mu.Unlock()
	select {
	case err := <-ack:
		return err // the loop took it and the client keeps up: no wait
	default:
	}
	// The handler now waits on its client: its pool slot runs someone else meanwhile.
	if pool.Park(ctx) {
		defer func() {
			if err := pool.Unpark(ctx); err != nil && werr == nil {
				werr = err
			}
		}()
	}
	if d <= 0 {
		return <-ack
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-ack:
		return err
	case <-t.C:
		w.c.srv.log.Info().Str("request", w.ex.String()).Msg("response write stalled (--write-timeout): closing")
		w.mu.Lock()
		w.gone = true
		w.mu.Unlock()
		_ = w.c.gc.Wake(onAbortWake)
		return errWriteStall
	}
}

func (w *response) hasInflight() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inflight != nil
}

// writeFlush writes w's streamed piece after what the connection holds, and
// acknowledges it once the queue to the client is short enough.
func (c *conn) writeFlush(w *response) {
	w.mu.Lock()
	out, extra, chunkEnd := w.inflight, w.extra, w.extraCRLF
	w.inflight, w.extra = nil, nil
	w.mu.Unlock()
	if out == nil {
		return
	}
	var err error
	switch {
	case extra == nil:
		err = c.writeOut(out.B)
	case chunkEnd:
		err = c.writeOut(out.B, extra, crlf)
	default:
		err = c.writeOut(out.B, extra)
	}
	putBuf(out)
	if err != nil {
		w.signal(errConnClosed)
		return
	}
	queued := c.gc.OutboundBuffered()
	if queued > c.srv.highWaterNow() {
		c.srv.watchDrain(c, drainWriter)
		return
	}
	if queued == 0 {
		c.outMeter.stop() // the client keeps up
	}
	w.signal(nil)
}

func (w *response) signal(err error) {
	w.mu.Lock()
	ack := w.ack
	w.mu.Unlock()
	if ack == nil {
		return // no writer has ever waited
	}
	select {
	case ack <- err:
	default:
	}
}

// Flush sends what is buffered, starting a streamed response.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController.
func (w *response) FlushError() error {
	w.mu.Lock()
	if err := w.begin(w); err != nil {
		w.mu.Unlock()
		return err
	}
	if w.headSent && w.buf.Len() == 0 || !w.headSent && w.holdForUWSGIBody(0) {
		w.mu.Unlock()
		return nil
	}
	out := w.startStreamLocked()
	err := w.handoffLocked(out, nil, false)
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.waitAck()
}

// SetWriteDeadline is http.ResponseController's: t becomes the handler's deadline
// in place of --timeout (zero lifts it; see deadline.go) and bounds the waits of
// later writes (zero: --write-timeout per stalled write).
func (w *response) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	if err := setHandlerDeadline(w.req.Context(), t); err != nil {
		return err
	}
	w.deadline = t
	return nil
}

// SetReadDeadline bounds the waits of later body reads (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error {
	if p, ok := w.req.Body.(*bodyPipe); ok {
		p.setReadDeadline(t)
	}
	return nil
}

// EnableFullDuplex is always in effect here: the body streams while the handler
// writes, since the event loop feeds it independently of the response.
func (w *response) EnableFullDuplex() error { return nil }

// appendHeadLocked appends the status line and header fields. contentLength < 0
// means none is added; sniff is the body's start, for Content-Type detection;
// hs is the head's scan, whose trailers it leaves out.
func (w *response) appendHeadLocked(out *bytebufferpool.ByteBuffer, contentLength int64, closeDelimited bool, sniff []byte, hs *headScan) {
	w.headSent = true
	h := w.hdr.head
	minor := 1
	if w.req.ProtoMajor == 1 && w.req.ProtoMinor == 0 {
		minor = 0
	}
	if w.ex.closeAfter || closeDelimited || w.c.srv.draining.Load() || hasToken(hs.connection, "close") {
		w.closeConn = true
	}
	out.B = http1.AppendStatusLine(out.B, 1, minor, w.status)
	out.B = http1.AppendFields(out.B, hs.fields)
	if !hs.date {
		out.B = append(out.B, "Date: "...)
		out.B = append(out.B, w.c.srv.date.get()...)
		out.B = append(out.B, crlf...)
	}
	if !hs.ctype && bodyAllowed(w.status) && len(sniff) > 0 && h.Get("Content-Encoding") == "" {
		ct := http.DetectContentType(sniff)
		if h == nil && w.c.srv.access != nil {
			// The access log reads the head's Content-Type; a handler that
			// never asked for its header has no map yet.
			h = make(http.Header, 1)
			w.hdr.head = h
		}
		if h != nil {
			w.sniffed[0] = ct
			h["Content-Type"] = w.sniffed[:]
		}
		out.B = append(out.B, "Content-Type: "...)
		out.B = append(out.B, ct...)
		out.B = append(out.B, crlf...)
	}
	if contentLength >= 0 && w.declared < 0 {
		out.B = append(out.B, "Content-Length: "...)
		out.B = strconv.AppendInt(out.B, contentLength, 10)
		out.B = append(out.B, crlf...)
	}
	if w.chunked {
		out.B = append(out.B, "Transfer-Encoding: chunked\r\n"...)
	}
	if w.c.dialect.connectionHeader() {
		switch {
		case w.closeConn && !hasToken(hs.connection, "close"):
			out.B = append(out.B, "Connection: close\r\n"...)
		case !w.closeConn && minor == 0:
			out.B = append(out.B, "Connection: keep-alive\r\n"...)
		}
	}
	out.B = append(out.B, crlf...)
}

func (w *response) appendTrailers(out *bytebufferpool.ByteBuffer, keys []string) {
	out.B = append(out.B, "0\r\n"...)
	if tr := w.hdr.trailers(keys); tr != nil {
		out.B = http1.AppendHeaders(out.B, tr)
	}
	out.B = append(out.B, crlf...)
}

func hasToken(vals []string, tok string) bool {
	for _, v := range vals {
		for _, t := range header.SplitList(v) {
			if strings.EqualFold(t, tok) {
				return true
			}
		}
	}
	return false
}

// finish completes the response after the handler returned.
func (w *response) finish() {
	w.mu.Lock()
	if !w.ex.state.CompareAndSwap(exActive, exFinished) || w.hijacked || w.gone {
		w.mu.Unlock()
		return
	}
	if !w.wroteHeader {
		w.writeHeaderLocked(http.StatusOK)
	}
	var out *bytebufferpool.ByteBuffer
	whole := !w.headSent // out holds the whole response
	if !w.headSent {
		out = getBuf()
		var fields [16]http1.OutField
		hs := w.hdr.scan(fields[:])
		canChunk := w.c.dialect.canChunk(w.req)
		switch {
		case len(hs.trailers) > 0 && canChunk && bodyAllowed(w.status) && !w.isHead:
			w.chunked = true
			w.appendHeadLocked(out, -1, false, w.buf.B, &hs)
			w.appendFramed(out, w.buf.B)
			w.appendTrailers(out, hs.trailers)
		default:
			cl := int64(-1)
			if bodyAllowed(w.status) && (!w.isHead || w.written > 0) {
				cl = w.written
			}
			w.appendHeadLocked(out, cl, false, w.buf.B, &hs)
			out.B = append(out.B, w.buf.B...)
		}
		w.buf.Reset()
	} else {
		out = w.buf
		w.buf = nil
		if w.chunked {
			w.appendTrailers(out, w.hdr.trailerKeys())
		}
		if w.declared >= 0 && w.written < w.declared {
			// The handler promised more than it wrote: the client must see a cut.
			w.closeConn = true
		}
	}
	if w.buf != nil {
		putBuf(w.buf)
		w.buf = nil
	}
	w.sent = out
	status, n := w.status, w.written
	if whole && w.ex.direct && !w.closeConn && w.writeDirect(out) {
		// Out on the wire without the loop: no wake, no hop.
	} else if w.ex.next == nil || w.ex.next.state.Load() != exActive {
		// With a request chained behind, its own completion (or its timeout,
		// panic or streamed piece) wakes the loop for both: one wake a burst.
		// A loop that yielded to this handler writes it when it resumes.
		if w.c.loopWaits.Load() {
			// Nothing to do: w.sent is read after the loop clears loopWaits.
		} else if err := w.c.gc.Wake(onFinalWake); err != nil {
			w.sent = nil
			putBuf(out)
		}
	} else {
		// Bounded all the same: the clock writes it if the next takes long.
		// (The first response of a chain marks the time; the clock is read once.)
		if w.c.readySince.Load() == 0 {
			w.c.readySince.CompareAndSwap(0, monoNow())
		}
	}
	w.mu.Unlock()
	w.ex.logAccess(status, n, w.hdr.head)
}

// writeDirect writes a whole keep-alive response to the socket from the
// handler's goroutine when nothing is queued for the connection (gnet's
// TryWrite), and reports whether all of it went. What the socket did not take
// stays in out for the loop to write after it. The loop moves the connection
// on when it next sees it: at the client's next request, at once when one
// arrived already, or within a tick of the clock.
func (w *response) writeDirect(out *bytebufferpool.ByteBuffer) bool {
	c := w.c
	n, ok := c.ctl.TryWrite(out.B)
	if !ok {
		return false
	}
	w.ex.directBytes = int64(n)
	if n < len(out.B) {
		out.B = out.B[:copy(out.B, out.B[n:])]
		return false
	}
	w.sent = nil
	putBuf(out)
	w.ex.wroteDirect.Store(true)
	if c.loopWaits.Load() {
		// The loop yielded to this handler and settles it when it resumes.
	} else if c.inputWhileHandling.Load() {
		// The next request is already buffered: the loop will not hear of
		// the connection again by itself.
		_ = c.gc.Wake(onFinalWake)
	} else {
		c.readySince.CompareAndSwap(0, monoNow())
	}
	return true
}

// recycleHeader pools the head's header map once the response is complete and
// logged (finish): the handler has returned, and a ResponseWriter, its Header
// included, may not be used after that (net/http's contract). A response cut
// short (timed out, failed, hijacked) keeps its map: its handler may still run.
func (w *response) recycleHeader() {
	w.mu.Lock()
	h := w.hdr.head
	ok := h != nil && w.ex.state.Load() == exFinished && !w.hijacked && !w.gone
	if ok {
		w.hdr.head = nil
	}
	w.mu.Unlock()
	if ok {
		putHeaderMap(h)
	}
}

// takeSent hands the final write's buffer to the loop.
func (w *response) takeSent() *bytebufferpool.ByteBuffer {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// abandon answers for a handler that timed out or panicked: an error response
// when nothing was sent, else a cut connection. Later writes are dropped.
func (w *response) abandon(status int, state int32) {
	if !w.ex.state.CompareAndSwap(exActive, state) {
		return
	}
	w.mu.Lock()
	if w.gone || w.hijacked {
		w.mu.Unlock()
		return
	}
	if w.headSent {
		w.gone = true
		w.mu.Unlock()
		if state == exTimedOut {
			w.c.srv.stats.TimedOut(stats.TimeoutCut)
		}
		_ = w.c.gc.Wake(onAbortWake)
		return
	}
	if state == exTimedOut {
		w.c.srv.stats.TimedOut(stats.TimeoutAnswered)
	}
	w.headSent = true
	w.closeConn = true
	out := getBuf()
	minor := 1
	if w.req.ProtoMinor == 0 {
		minor = 0
	}
	out.B = appendErrorResponse(out.B, minor, status, w.c.srv.date.get(), w.c.dialect.connectionHeader(), !w.isHead)
	if w.buf != nil {
		putBuf(w.buf)
		w.buf = nil
	}
	w.sent = out
	if err := w.c.gc.Wake(onFinalWake); err != nil {
		w.sent = nil
		putBuf(out)
	}
	w.mu.Unlock()
	w.ex.logAccess(status, int64(len(http.StatusText(status))+1), nil)
}

// connGone marks the response dead and frees a writer waiting on the loop.
func (w *response) connGone() {
	w.mu.Lock()
	w.gone = true
	w.mu.Unlock()
	w.signal(errConnClosed)
}

func (w *response) sendContinue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.headSent || w.contSent || w.usableLocked() != nil {
		return
	}
	w.contSent = true
	_ = w.c.gc.AsyncWrite(continueLine, nil)
}

func (w *response) continueSent() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.contSent
}
