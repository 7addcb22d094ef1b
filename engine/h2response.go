package engine

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/pool"
	"github.com/gonicorn/gonicorn/protocol/h2"
)

// The http.ResponseWriter side of h2Stream. Its methods run on the handler's
// goroutine; what they produce is framed on the loop by service.

// Header returns the response header map; after WriteHeader, changes reach only
// the trailers (see handlerHeader).
func (s *h2Stream) Header() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hdr.get()
}

func (s *h2Stream) usableLocked() error {
	switch {
	case s.timedOut:
		return http.ErrHandlerTimeout
	case s.resetErr != nil:
		return s.resetErr
	case s.writeFailed:
		return errH2WriteStall
	case s.handlerDone:
		return errH2AfterReturn
	}
	return nil
}

// WriteHeader records the status; informational (1xx) heads are sent at once.
func (s *h2Stream) WriteHeader(code int) {
	checkWriteHeaderCode(code)
	s.mu.Lock()
	if s.usableLocked() != nil || s.wroteHeader {
		s.mu.Unlock()
		return
	}
	if code < 200 {
		if code == http.StatusSwitchingProtocols {
			s.mu.Unlock()
			return
		}
		s.info = append(s.info, h2Info{status: code, header: s.hdr.head.Clone()})
		s.mu.Unlock()
		s.hc.notify(s)
		return
	}
	s.writeHeaderLocked(code)
	s.mu.Unlock()
}

func (s *h2Stream) writeHeaderLocked(code int) {
	s.wroteHeader = true
	s.status = code
	// The head is framed on the loop: it must not share the map the handler holds.
	s.declared = declaredLength(s.hdr.fix(true), s.srv.log, s)
}

// Write buffers body bytes, waiting while the stream's buffer is full.
func (s *h2Stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	if send, err := s.startWrite(s, len(p)); !send {
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	total := len(p)
	for len(p) > 0 {
		room := h2MaxOut - len(s.out)
		if room <= 0 {
			s.flushReq = true
			if s.outWait == nil {
				s.outWait = make(chan struct{}, 1)
			}
			ch := s.outWait
			ctx := s.ctx
			s.mu.Unlock()
			s.hc.notify(s)
			// Waiting on the client's window: the pool slot runs someone else meanwhile.
			parked := pool.Park(ctx)
			ok := waitSignal(ch, s.srv.cfg.WriteTimeout)
			var uerr error
			if parked {
				uerr = pool.Unpark(ctx)
			}
			s.mu.Lock()
			if uerr != nil && s.usableLocked() == nil {
				s.mu.Unlock()
				return total - len(p), uerr
			}
			if err := s.usableLocked(); err != nil {
				s.mu.Unlock()
				return total - len(p), err
			}
			if !ok && len(s.out) >= h2MaxOut {
				s.writeFailed = true
				s.mu.Unlock()
				s.hc.notify(s)
				return total - len(p), errH2WriteStall
			}
			continue
		}
		n := min(room, len(p))
		s.out = append(s.out, p[:n]...)
		p = p[n:]
	}
	s.mu.Unlock()
	return total, nil
}

// Flush sends the head and the buffered body now.
func (s *h2Stream) Flush() { _ = s.FlushError() }

// FlushError is Flush that reports a stream that can no longer be written.
func (s *h2Stream) FlushError() error {
	s.mu.Lock()
	if err := s.begin(s); err != nil {
		s.mu.Unlock()
		return err
	}
	s.flushReq = true
	s.mu.Unlock()
	s.hc.notify(s)
	return nil
}

// finish runs after the handler returned: what remains goes out with END_STREAM.
func (s *h2Stream) finish() {
	s.mu.Lock()
	if !s.wroteHeader && s.usableLocked() == nil {
		s.writeHeaderLocked(http.StatusOK)
	}
	status, n := s.status, s.written
	if s.declared >= 0 && n < s.declared && !s.isHead && bodyAllowed(status) && s.usableLocked() == nil {
		s.srv.log.Warn().Str("request", s.String()).Int64("declared", s.declared).Int64("written", n).
			Msg("handler wrote less than its Content-Length: stream reset")
		s.writeFailed = true
	}
	s.handlerDone = true
	s.mu.Unlock()
	s.logAccess(status)
	s.hc.notify(s)
}

func (s *h2Stream) logAccess(status int) {
	if s.srv.stats == nil && s.srv.access == nil {
		return
	}
	s.mu.Lock()
	n, hdr := s.written, s.hdr.head
	s.mu.Unlock()
	s.srv.recordRequest(stats.H2, s.req, s.start, status, n, hdr)
}

// trailersLocked collects the trailers of a finished response.
func (s *h2Stream) trailersLocked() http.Header {
	return s.hdr.trailers(s.hdr.trailerKeys())
}

// service frames, on the loop, what the handler of s has produced since last time,
// as far as the flow-control windows and the socket's queue allow.
func (h *h2Conn) service(s *h2Stream, now time.Time) {
	s.mu.Lock()
	if s.consumed > 0 && s.resetErr == nil {
		h.pc.ConsumeData(s.id, s.consumed)
		s.consumed = 0
	}
	switch {
	case s.resetErr != nil || s.ended:
	case s.timedOut:
		if !s.headSent {
			s.headSent = true
			h.answerStatus(s.id, http.StatusServiceUnavailable)
		} else {
			h.pc.ResetStream(s.id, h2.ErrCodeInternal)
		}
		s.ended = true
		s.out = nil
		s.signalOutLocked()
	case s.writeFailed:
		h.pc.ResetStream(s.id, h2.ErrCodeInternal)
		s.ended = true
		s.out = nil
		s.signalOutLocked()
	default:
		h.writeStreamLocked(s, now)
	}
	s.mu.Unlock()
	h.maybeFinish(s)
}

func (h *h2Conn) writeStreamLocked(s *h2Stream, now time.Time) {
	for _, inf := range s.info {
		_ = h.pc.WriteResponse(s.id, &h2.ResponseHead{Status: inf.status, Header: inf.header}, false)
	}
	s.info = nil
	if !s.headSent {
		if !s.wroteHeader || !(s.flushReq || s.handlerDone || len(s.out) >= h2MaxOut) {
			return
		}
		var tr http.Header
		if s.handlerDone {
			tr = s.trailersLocked()
		}
		h.writeHeadLocked(s, tr)
		if s.ended {
			return
		}
	}
	s.flushReq = false
	if len(s.out) > 0 || s.handlerDone {
		if len(s.out) > 0 && h.outboundFull() {
			h.block(s, now, false)
			return
		}
		var tr http.Header
		if s.handlerDone {
			tr = s.trailersLocked()
		}
		end := s.handlerDone && tr == nil
		n, err := h.pc.WriteData(s.id, s.out, end)
		if err != nil {
			s.ended = true
			s.out = nil
			s.signalOutLocked()
			return
		}
		if n > 0 {
			s.outMeter.add(now.UnixNano(), int64(n))
			if n == len(s.out) {
				s.out = s.out[:0]
			} else {
				s.out = s.out[:copy(s.out, s.out[n:])]
			}
			s.signalOutLocked()
		}
		if len(s.out) > 0 {
			h.block(s, now, n > 0)
			return
		}
		s.inBlocked, s.blockedSince = false, time.Time{}
		s.outMeter.stop()
		if s.handlerDone {
			if tr != nil {
				_ = h.pc.WriteTrailers(s.id, tr)
			}
			s.ended = true
			s.out = nil
		}
	}
}

// writeHeadLocked sends the response head, with the fields net/http adds: Date,
// Content-Type sniffed from the body, and Content-Length when the handler finished
// before anything was flushed.
func (h *h2Conn) writeHeadLocked(s *h2Stream, tr http.Header) {
	rh := h2.ResponseHead{Status: s.status, Header: s.hdr.head}
	if _, ok := s.hdr.head["Date"]; !ok {
		rh.Date = string(h.srv.date.get())
	}
	allowed := bodyAllowed(s.status)
	if _, ok := s.hdr.head["Content-Type"]; !ok && allowed && len(s.out) > 0 && s.hdr.head.Get("Content-Encoding") == "" {
		rh.ContentType = http.DetectContentType(s.out[:min(len(s.out), 512)])
	}
	if s.handlerDone && s.declared < 0 && allowed && tr == nil && (s.written > 0 || !s.isHead) {
		rh.ContentLength = strconv.FormatInt(s.written, 10)
	}
	end := s.handlerDone && (len(s.out) == 0 && tr == nil && (s.isHead || !allowed || s.written == 0))
	if err := h.pc.WriteResponse(s.id, &rh, end); err != nil {
		s.ended = true
		return
	}
	s.headSent = true
	if end {
		s.ended = true
		s.out = nil
	}
}

// block lists s as waiting for window (or for the socket to drain) and arms the
// write-stall bound; progress restarts it.
func (h *h2Conn) block(s *h2Stream, now time.Time, progressed bool) {
	if !s.inBlocked {
		s.inBlocked = true
		h.blocked = append(h.blocked, s)
	}
	if progressed || s.blockedSince.IsZero() {
		s.blockedSince = now
	}
	if d := h.srv.cfg.WriteTimeout; d > 0 {
		h.arm(s.blockedSince.Add(d))
	}
	if h.srv.cfg.MinResponseRate > 0 && !s.outMeter.active() {
		// The client's reading (or its flow-control window) holds the stream: its
		// rate is measured from now (--min-response-rate).
		s.outMeter.begin(now.UnixNano())
		h.arm(now.Add(rateCheckEvery))
	}
}
