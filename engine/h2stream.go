package engine

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/pool"
)

// h2MaxOut bounds the response bytes a stream buffers before its handler waits for
// the loop to frame them: the memory of a stream stays bounded whatever the handler
// writes and however slowly the client opens its window.
const h2MaxOut = 64 << 10

// h2Stream is one request of an HTTP/2 connection. Its three roles live in three
// files: the pool.Job that runs its handler (here), the handler's
// http.ResponseWriter (h2response.go) and, seen as an h2Body, its request body
// (h2body.go). Fields above mu belong to the loop; the rest are shared with the
// handler under mu.
type h2Stream struct {
	hc    *h2Conn
	srv   *Server // hc.srv
	id    uint32
	req   *http.Request
	start int64 // monoNow when the request was read

	submitted     bool
	bodyWaitSince time.Time // waiting for request body since; zero when not waiting
	blockedSince  time.Time // response bytes waiting for window since
	inBlocked     bool      // listed in hc.blocked
	outMeter      rateMeter // response bytes leaving while the stream is blocked
	queued        bool      // listed in hc.ready (guarded by hc.mu)

	mu          sync.Mutex
	handle      *pool.Handle
	ctx         context.Context // the handler's context, once Run starts
	handlerDone bool            // Run returned (or never will run)
	ended       bool            // the last frame of the response is written
	resetErr    error           // the stream is gone: reset, or the connection closed
	timedOut    bool            // the handler outlived --timeout
	writeFailed bool            // the handler gave up waiting: the loop resets the stream

	writerState
	flushReq bool
	out      []byte
	info     []h2Info // 1xx heads to send
	outWait  chan struct{}

	body     []byte
	bodyOff  int
	bodyEOF  bool
	bodyErr  error
	consumed int
	bodyWait chan struct{}
}

// h2Info is an informational (1xx) head the handler wrote.
type h2Info struct {
	status int
	header http.Header
}

func newH2Stream(hc *h2Conn, id uint32, r *http.Request) *h2Stream {
	s := &h2Stream{hc: hc, srv: hc.srv, id: id, req: r, start: hc.srv.requestStart()}
	s.declared = -1
	s.isHead = r.Method == http.MethodHead
	if r.Body == nil {
		r.Body = (*h2Body)(s)
	}
	return s
}

// Run serves the request on a pool goroutine.
func (s *h2Stream) Run(ctx context.Context) {
	defer s.srv.endRequest()
	handle := pool.HandleOf(ctx)
	s.mu.Lock()
	s.handle, s.ctx = handle, ctx
	gone := s.resetErr != nil
	s.mu.Unlock()
	if gone && handle != nil {
		handle.Cancel() // reset while it waited in the queue
	}
	r := s.req.WithContext(ctx)
	s.srv.handler.ServeHTTP(s, r)
	s.finish()
}

// Expired runs on a timer goroutine when the handler outlives --timeout: the loop
// answers 503 if nothing was sent, or resets the stream.
func (s *h2Stream) Expired() {
	s.srv.log.Error().Str("request", s.String()).Dur("timeout", s.srv.cfg.Timeout).
		Msg("handler exceeded --timeout")
	s.mu.Lock()
	s.timedOut = true
	answer := stats.TimeoutAnswered
	if s.headSent {
		answer = stats.TimeoutCut
	}
	s.signalOutLocked()
	s.mu.Unlock()
	s.hc.c.srv.stats.TimedOut(answer)
	s.hc.notify(s)
}

// Recovered runs after the handler panicked: 500 if nothing was sent, else a reset.
func (s *h2Stream) Recovered(any) {
	s.mu.Lock()
	if !s.headSent && !s.timedOut && s.resetErr == nil {
		s.hdr = handlerHeader{}
		s.wroteHeader = false
		s.out = s.out[:0]
		s.written = 0
		s.declared = -1
		s.writeHeaderLocked(http.StatusInternalServerError)
		s.hdr.head.Set("Content-Type", "text/plain; charset=utf-8")
		s.out = append(s.out, "Internal Server Error\n"...)
		s.written = int64(len(s.out))
	} else {
		s.writeFailed = true
	}
	s.handlerDone = true
	s.mu.Unlock()
	s.logAccess(http.StatusInternalServerError)
	s.hc.notify(s)
}

// Dropped runs when the stream waited in the pool's queue longer than the queue
// allows, or its connection closed first: 503 with Retry-After if it still can.
func (s *h2Stream) Dropped() {
	defer s.srv.endRequest()
	s.srv.log.Warn().Str("request", s.String()).Msg("h2 stream waited too long for a handler slot: 503")
	s.mu.Lock()
	if s.usableLocked() == nil && !s.wroteHeader {
		s.writeHeaderLocked(http.StatusServiceUnavailable)
		s.hdr.head.Set("Retry-After", "1")
		s.hdr.head.Set("Content-Type", "text/plain; charset=utf-8")
		s.out = append(s.out, "Service Unavailable\n"...)
		s.written = int64(len(s.out))
	}
	s.handlerDone = true
	s.mu.Unlock()
	s.logAccess(http.StatusServiceUnavailable)
	s.hc.notify(s)
}

// String describes the request for logs.
func (s *h2Stream) String() string {
	return fmt.Sprintf("%s %s from %s (h2 stream %d)", s.req.Method, s.req.RequestURI, s.hc.c.remoteAddr, s.id)
}

// reset marks the stream gone (on the loop): waiting reads and writes fail and the
// handler's context is canceled.
func (s *h2Stream) reset(err error) {
	s.mu.Lock()
	if s.resetErr != nil {
		s.mu.Unlock()
		return
	}
	s.resetErr = err
	s.out = nil
	handle := s.handle
	s.signalOutLocked()
	s.signalBodyLocked()
	s.mu.Unlock()
	if handle != nil {
		handle.Cancel()
	}
}

func (s *h2Stream) signalOutLocked() {
	if s.outWait != nil {
		select {
		case s.outWait <- struct{}{}:
		default:
		}
	}
}

// waitSignal waits for ch, bounded by d plus a second of grace (the loop's own timer
// normally acts first); d <= 0 waits one minute at most.
func waitSignal(ch chan struct{}, d time.Duration) bool {
	if d <= 0 {
		d = time.Minute
	}
	t := time.NewTimer(d + time.Second)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}
