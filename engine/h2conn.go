package engine

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/protocol/h2"
)

// h2OutboundHigh bounds the bytes queued on the socket for a client that does not
// read: DATA stops being framed above it until gnet has written it out.
const h2OutboundHigh = 512 << 10

// h2DrainPoll is how often a connection whose outbound queue is over h2OutboundHigh
// checks it again (gnet reports no write progress).
const h2DrainPoll = 2 * time.Millisecond

var (
	errStreamReset   = errors.New("h2: stream reset")
	errH2ConnClosed  = errors.New("h2: connection closed")
	errH2WriteStall  = errors.New("h2: flow-control window stalled (--write-timeout)")
	errH2BodyTimeout = errors.New("h2: request body stalled (--body-timeout)")
	errH2AfterReturn = errors.New("h2: write after the handler returned")
)

// h2Conn drives one HTTP/2 connection on its event loop: it feeds inbound bytes to
// the protocol state machine, dispatches each request to the pool as its own task, and
// frames what the handlers write. Handler goroutines reach it only through notify,
// which queues their stream and wakes the loop once per batch.
type h2Conn struct {
	c   *conn
	srv *Server // c.srv
	pc  *h2.Conn

	streams map[uint32]*h2Stream
	// blocked lists the streams with response bytes waiting for flow-control window
	// or for the socket's outbound queue to drain.
	blocked []*h2Stream

	// bodyStart is how much request body is buffered before a handler starts
	// without the whole body: the stream window, or --body-buffer-size if smaller.
	bodyStart int

	dead      bool // the connection is closing: nothing more is written
	draining  bool // graceful stop: GOAWAY sent, close when the last stream ends
	lastIdle  time.Time
	armed     time.Time
	drainTick *time.Timer
	onWakeCB  gnet.AsyncCallback

	mu          sync.Mutex // guards ready and wakePending
	ready       []*h2Stream
	spare       []*h2Stream
	wakePending bool
}

func newH2Conn(c *conn, up *h2Upgrade) *h2Conn {
	cfg := c.srv.cfg
	h := &h2Conn{
		c:   c,
		srv: c.srv,
		pc: h2.NewConn(h2.Config{
			MaxConcurrentStreams: cfg.HTTP2MaxConcurrentStreams,
			InitialWindowSize:    cfg.HTTP2InitialWindowSize,
			MaxFrameSize:         cfg.HTTP2MaxFrameSize,
			MaxHeaderListSize:    cfg.HTTP2MaxHeaderListSize,
		}),
		streams:  make(map[uint32]*h2Stream),
		lastIdle: time.Now(),
	}
	h.onWakeCB = h.onWake
	window := int(cfg.HTTP2InitialWindowSize)
	if window <= 0 {
		window = 65535
	}
	h.bodyStart = window
	if cfg.BodyBufferSize > 0 && cfg.BodyBufferSize < window {
		h.bodyStart = cfg.BodyBufferSize
	}
	if up != nil {
		if err := h.pc.Upgrade(up.settings); err != nil {
			c.srv.log.Info().Str("peer", c.remoteAddr).Err(err).Msg("h2c upgrade with invalid HTTP2-Settings")
			h.fail(err)
			return h
		}
		r := up.req
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		s := newH2Stream(h, 1, r)
		h.streams[1] = s
		h.submit(s)
	}
	h.flush()
	h.arm(time.Now().Add(h.idleTimeout()))
	return h
}

func (h *h2Conn) idleTimeout() time.Duration {
	if d := h.srv.cfg.KeepAlive; d > 0 {
		return d
	}
	return h.srv.cfg.HeaderTimeout
}

// onTraffic consumes every whole frame in the inbound buffer.
func (h *h2Conn) onTraffic() gnet.Action {
	if h.dead {
		_, _ = h.c.gc.Discard(-1)
		return gnet.None
	}
	buf, _ := h.c.gc.Peek(-1)
	if len(buf) == 0 {
		h.flush()
		return gnet.None
	}
	now := time.Now()
	used := 0
	for !h.dead {
		ev, n, err := h.pc.Next(buf[used:], now)
		if err != nil {
			_, _ = h.c.gc.Discard(-1)
			h.fail(err)
			return gnet.None
		}
		if n == 0 {
			break
		}
		used += n
		h.onEvent(&ev, now)
	}
	if used > 0 {
		_, _ = h.c.gc.Discard(used)
	}
	h.flush()
	h.maybeClose()
	return gnet.None
}

func (h *h2Conn) onEvent(ev *h2.Event, now time.Time) {
	switch ev.Kind {
	case h2.EventRequest:
		h.onRequest(ev, now)
	case h2.EventData:
		if s := h.streams[ev.StreamID]; s != nil {
			s.addBody(ev.Data, ev.EndStream, now)
			if !s.submitted && (ev.EndStream || s.bodyBuffered() >= h.bodyStart) {
				h.submit(s)
			}
		}
	case h2.EventTrailers:
		if s := h.streams[ev.StreamID]; s != nil {
			s.setTrailers(ev.Trailer)
			if !s.submitted {
				h.submit(s)
			}
		}
	case h2.EventReset:
		if s := h.streams[ev.StreamID]; s != nil {
			if !ev.Remote && ev.Reason != "" {
				h.srv.log.Debug().Str("peer", h.c.remoteAddr).Uint32("stream", ev.StreamID).
					Str("code", ev.Code.String()).Str("reason", ev.Reason).Msg("h2 stream reset")
			}
			s.reset(errStreamReset)
			h.maybeFinish(s)
		} else if ev.Reason != "" {
			h.srv.log.Info().Str("peer", h.c.remoteAddr).Uint32("stream", ev.StreamID).
				Str("code", ev.Code.String()).Str("reason", ev.Reason).Msg("h2 request rejected")
		}
	case h2.EventWindow:
		h.serviceBlocked(ev.StreamID)
	case h2.EventGoAway:
		if ev.Code != h2.ErrCodeNo {
			h.srv.log.Debug().Str("peer", h.c.remoteAddr).Str("code", ev.Code.String()).
				Bytes("debug", ev.Data).Msg("h2 client sent GOAWAY")
		}
	}
}

func (h *h2Conn) onRequest(ev *h2.Event, now time.Time) {
	r, err := h2.NewRequest(context.Background(), ev.Request, ev.EndStream)
	if err == nil {
		r.RemoteAddr = h.c.remoteAddr
		h.c.applyForwarded(r)
	}
	if err != nil {
		h.srv.log.Info().Str("peer", h.c.remoteAddr).Err(err).Msg("h2 bad request target: 400")
		h.answerStatus(ev.StreamID, http.StatusBadRequest)
		h.pc.ReleaseStream(ev.StreamID)
		return
	}
	s := newH2Stream(h, ev.StreamID, r)
	h.streams[ev.StreamID] = s
	h.c.idleSince.Store(0)
	if ev.EndStream {
		s.bodyEOF = true
		h.submit(s)
		return
	}
	if hasToken(r.Header["Expect"], "100-continue") {
		// The client waits for this before it sends the body the handler needs.
		_ = h.pc.WriteResponse(ev.StreamID, &h2.ResponseHead{Status: http.StatusContinue}, false)
		r.Header.Del("Expect")
	}
	s.bodyWaitSince = now
	if d := h.srv.cfg.BodyTimeout; d > 0 {
		h.arm(now.Add(d))
	}
}

// submit hands s to the pool: the whole request is there, or as much of its body as
// the loop buffers.
func (h *h2Conn) submit(s *h2Stream) {
	s.submitted = true
	h.srv.beginRequest()
	// A busy pool queues the stream behind this connection's others; connections
	// take turns (pool.Enqueue). Only a full queue is answered 503 at once.
	if err := h.srv.pool.Enqueue(h.c.lctx, s, h); err != nil {
		h.srv.endRequest()
		h.srv.log.Warn().Err(err).Str("request", s.String()).Msg("no handler slot free and the stream queue is full (--max-queued-streams): 503")
		h.srv.stats.PoolRejected()
		h.srv.stats.Request(stats.H2, s.req.Method, http.StatusServiceUnavailable, time.Duration(monoNow()-s.start), 0, 0)
		s.mu.Lock()
		s.handlerDone = true
		s.mu.Unlock()
		s.reset(errStreamReset)
		h.answerStatus(s.id, http.StatusServiceUnavailable)
		h.maybeFinish(s)
		return
	}
}

// answerStatus ends stream id with a bare status: a head with END_STREAM, which no
// flow-control window can hold back (RST_STREAM NO_ERROR follows through
// ReleaseStream when the request is still open).
func (h *h2Conn) answerStatus(id uint32, status int) {
	_ = h.pc.WriteResponse(id, &h2.ResponseHead{
		Status:        status,
		Date:          string(h.srv.date.get()),
		ContentLength: "0",
	}, true)
}

// notify queues s for the loop (its handler wrote, finished or read body) and wakes
// the loop once per batch. It runs on handler goroutines.
func (h *h2Conn) notify(s *h2Stream) {
	h.mu.Lock()
	if !s.queued {
		s.queued = true
		h.ready = append(h.ready, s)
	}
	wake := !h.wakePending
	h.wakePending = true
	h.mu.Unlock()
	if wake {
		if err := h.c.gc.Wake(h.onWakeCB); err != nil {
			h.mu.Lock()
			h.wakePending = false
			h.mu.Unlock()
		}
	}
}

// onWake runs on the loop: it frames what the queued streams' handlers produced.
func (h *h2Conn) onWake(_ gnet.Conn, _ error) error {
	h.mu.Lock()
	batch := h.ready
	h.ready = h.spare[:0]
	h.wakePending = false
	for _, s := range batch {
		s.queued = false
	}
	h.mu.Unlock()
	if h.dead || h.c.state != stH2 {
		h.spare = batch[:0]
		return nil
	}
	now := time.Now()
	for _, s := range batch {
		if h.streams[s.id] == s {
			h.service(s, now)
		}
	}
	clear(batch)
	h.spare = batch[:0]
	h.serviceBlocked(0)
	h.flush()
	h.maybeClose()
	return nil
}

// serviceBlocked retries the streams waiting for window: all of them, or only id.
func (h *h2Conn) serviceBlocked(id uint32) {
	if len(h.blocked) == 0 {
		return
	}
	now := time.Now()
	blocked := h.blocked
	h.blocked = nil
	for i, s := range blocked {
		if h.dead {
			break
		}
		if id != 0 && s.id != id {
			h.blocked = append(h.blocked, s)
			continue
		}
		s.inBlocked = false
		if h.streams[s.id] == s {
			h.service(s, now)
		}
		blocked[i] = nil
	}
}

// flush writes the frames the protocol state machine queued, in one write.
func (h *h2Conn) flush() {
	out := h.pc.Output()
	if len(out) == 0 {
		return
	}
	_, _ = h.c.gc.Write(out)
	h.pc.ClearOutput()
}

// outboundFull reports whether the socket's queue is over its bound, and arranges
// for the blocked streams to be retried once it drains.
func (h *h2Conn) outboundFull() bool {
	// Frames framed this turn but not yet handed to gnet count too.
	if h.c.gc.OutboundBuffered()+len(h.pc.Output()) <= h2OutboundHigh {
		return false
	}
	if h.drainTick == nil {
		h.drainTick = time.AfterFunc(h2DrainPoll, func() { _ = h.c.gc.Wake(h.onWakeCB) })
	} else {
		h.drainTick.Reset(h2DrainPoll)
	}
	return true
}

// maybeFinish forgets s once its handler has returned and its last frame is written
// (or it was reset): its concurrency slot is freed.
func (h *h2Conn) maybeFinish(s *h2Stream) {
	s.mu.Lock()
	done := s.handlerDone && (s.ended || s.resetErr != nil) || !s.submitted && s.resetErr != nil
	s.mu.Unlock()
	if !done || h.streams[s.id] != s {
		return
	}
	delete(h.streams, s.id)
	h.pc.ReleaseStream(s.id)
	if len(h.streams) == 0 {
		h.lastIdle = time.Now()
		h.c.idleSince.Store(monoOf(h.lastIdle)) // an idle keep-alive connection (evict.go)
		h.arm(h.lastIdle.Add(h.idleTimeout()))
	}
}

// maybeClose starts closing a connection that has nothing left to do: draining (our
// GOAWAY, the client's, or stream identifiers exhausted) with no stream left.
func (h *h2Conn) maybeClose() {
	if h.dead || len(h.streams) > 0 || !(h.draining || h.pc.Draining()) {
		return
	}
	h.close()
}

// close stops writing and hands the connection to the engine's graceful close: the
// queued frames (GOAWAY last) are written, then the write side is shut.
func (h *h2Conn) close() {
	if h.dead {
		return
	}
	h.flush()
	h.dead = true
	h.cancelAll(errH2ConnClosed)
	h.c.beginLinger()
}

// fail answers a connection error: its GOAWAY is queued; log it and close.
func (h *h2Conn) fail(err error) {
	var ce *h2.ConnError
	if errors.As(err, &ce) && ce.Code == h2.ErrCodeEnhanceYourCalm {
		h.srv.log.Warn().Str("peer", h.c.remoteAddr).Str("code", ce.Code.String()).
			Str("reason", ce.Reason).Msg("h2 client flooding or stalling: GOAWAY")
	} else {
		h.srv.log.Info().Str("peer", h.c.remoteAddr).Err(err).Msg("h2 protocol error: GOAWAY")
	}
	h.close()
}

// cancelAll ends every stream: handlers see their context canceled and their writes fail.
func (h *h2Conn) cancelAll(err error) {
	for _, s := range h.streams {
		s.reset(err)
	}
	h.blocked = nil
}

// onClose runs on the loop when the connection is gone.
func (h *h2Conn) onClose(error) {
	h.dead = true
	h.srv.pool.DropQueued(h)
	h.cancelAll(errH2ConnClosed)
	if h.drainTick != nil {
		h.drainTick.Stop()
	}
}

// shutdown begins a graceful stop: GOAWAY, then in-flight streams finish (bounded by
// --graceful-timeout in the engine's Shutdown).
func (h *h2Conn) shutdown() {
	if h.dead || h.draining {
		return
	}
	h.draining = true
	h.pc.GoAway(h2.ErrCodeNo, "graceful shutdown")
	h.flush()
	h.maybeClose()
}

// busy reports whether any stream is still in flight.
func (h *h2Conn) busy() bool { return !h.dead && len(h.streams) > 0 }

// arm makes sure the connection's timer fires no later than t.
func (h *h2Conn) arm(t time.Time) {
	if h.dead {
		return
	}
	if h.armed.IsZero() || t.Before(h.armed) || h.armed.Before(time.Now()) {
		h.armed = t
		h.c.setDeadline(t)
	}
}

// onExpire runs when the connection's timer passed: it applies every bound that
// could have expired and re-arms for the next.
func (h *h2Conn) onExpire(now time.Time) gnet.Action {
	h.armed = time.Time{}
	if h.dead {
		return gnet.Close
	}
	cfg := h.srv.cfg
	var next time.Time
	later := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if len(h.streams) == 0 {
		if end := h.lastIdle.Add(h.idleTimeout()); !now.Before(end) {
			h.pc.GoAway(h2.ErrCodeNo, "idle timeout")
			h.close()
			return gnet.None
		} else {
			later(end)
		}
	}
	for _, s := range h.streams {
		if !s.bodyWaitSince.IsZero() && cfg.BodyTimeout > 0 {
			if s.submitted && s.bodyBuffered() > 0 {
				// The handler has not read what came: the client waits for window,
				// not the other way round.
				s.bodyWaitSince = now
			}
			if end := s.bodyWaitSince.Add(cfg.BodyTimeout); !now.Before(end) {
				h.bodyTimedOut(s)
			} else {
				later(end)
			}
		}
		if s.inBlocked && s.outMeter.active() {
			if s.outMeter.tooSlow(now.UnixNano(), cfg.MinResponseRate, cfg.MinRateGrace) {
				h.srv.log.Info().Str("request", s.String()).Int("min_bytes_per_second", cfg.MinResponseRate).
					Msg("h2 client reads below --min-response-rate")
				if h.stalled(s) {
					return gnet.None
				}
				continue
			}
			later(now.Add(rateCheckEvery))
		}
		if s.inBlocked && !s.blockedSince.IsZero() && cfg.WriteTimeout > 0 {
			if end := s.blockedSince.Add(cfg.WriteTimeout); !now.Before(end) {
				if h.stalled(s) {
					return gnet.None
				}
			} else {
				later(end)
			}
		}
	}
	h.flush()
	h.maybeClose()
	if !next.IsZero() && !h.dead {
		h.arm(next)
	}
	return gnet.None
}

// bodyTimedOut answers a request whose body stopped arriving: 408 when its handler
// has not started, otherwise the handler's body read fails and the stream is reset.
func (h *h2Conn) bodyTimedOut(s *h2Stream) {
	h.srv.log.Info().Str("request", s.String()).Msg("h2 request body stalled (--body-timeout)")
	s.bodyWaitSince = time.Time{}
	if !s.submitted {
		h.answerStatus(s.id, http.StatusRequestTimeout)
		s.reset(errH2BodyTimeout)
		h.maybeFinish(s)
		return
	}
	s.failBody(errH2BodyTimeout)
	h.pc.ResetStream(s.id, h2.ErrCodeCancel)
	s.reset(errH2BodyTimeout)
	h.maybeFinish(s)
}

// stalled handles a stream whose response made no progress for --write-timeout. When
// the connection window itself is exhausted the client is starving the whole
// connection: GOAWAY ENHANCE_YOUR_CALM. Otherwise only the stream is reset.
func (h *h2Conn) stalled(s *h2Stream) bool {
	if h.pc.ConnSendWindow() == 0 {
		h.srv.log.Warn().Str("peer", h.c.remoteAddr).Msg("h2 client left the connection window at zero (--write-timeout): GOAWAY")
		h.pc.Fail(h2.ErrCodeEnhanceYourCalm, "flow-control window stalled")
		h.close()
		return true
	}
	h.srv.log.Info().Str("request", s.String()).Msg("h2 stream window stalled (--write-timeout): reset")
	h.pc.ResetStream(s.id, h2.ErrCodeCancel)
	s.reset(errH2WriteStall)
	s.inBlocked = false
	h.maybeFinish(s)
	return false
}
