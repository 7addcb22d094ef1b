package engine

import (
	"io"
	"net/http"
	"time"
)

// The request-body side of h2Stream: the loop appends what DATA frames carry, the
// handler reads it through h2Body, and what it consumed reopens the flow-control
// window.

// h2ConsumedNotify is how much request body a handler reads before the loop is told
// (to reopen the stream window) while more body is already buffered.
const h2ConsumedNotify = 16 << 10

// signalBodyLocked wakes a handler waiting in Read.
func (s *h2Stream) signalBodyLocked() {
	if s.bodyWait != nil {
		select {
		case s.bodyWait <- struct{}{}:
		default:
		}
	}
}

// addBody appends request body bytes (copied out of the loop's buffer).
func (s *h2Stream) addBody(p []byte, end bool, now time.Time) {
	s.mu.Lock()
	if s.resetErr == nil && s.bodyErr == nil {
		s.body = append(s.body, p...)
		if end {
			s.bodyEOF = true
		}
		s.signalBodyLocked()
	}
	s.mu.Unlock()
	if end {
		s.bodyWaitSince = time.Time{}
	} else {
		s.bodyWaitSince = now
	}
}

func (s *h2Stream) bodyBuffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.body) - s.bodyOff
}

// setTrailers publishes the request's trailers, the ones its Trailer header declared
// (as net/http does: the handler's copy of the request shares that map); the body
// ends with them.
func (s *h2Stream) setTrailers(tr http.Header) {
	s.mu.Lock()
	for k, vv := range tr {
		if _, declared := s.req.Trailer[k]; declared {
			s.req.Trailer[k] = vv
		}
	}
	s.bodyEOF = true
	s.signalBodyLocked()
	s.mu.Unlock()
	s.bodyWaitSince = time.Time{}
}

func (s *h2Stream) failBody(err error) {
	s.mu.Lock()
	s.bodyErr = err
	s.signalBodyLocked()
	s.mu.Unlock()
}

// h2Body is the request body of a stream, read by its handler.
type h2Body h2Stream

// Read returns buffered body bytes, waiting (bounded by --body-timeout) for more.
func (b *h2Body) Read(p []byte) (int, error) {
	s := (*h2Stream)(b)
	s.mu.Lock()
	for {
		if s.bodyOff < len(s.body) {
			n := copy(p, s.body[s.bodyOff:])
			s.bodyOff += n
			drained := s.bodyOff == len(s.body)
			if drained {
				s.body = s.body[:0]
				s.bodyOff = 0
			}
			s.consumed += n
			tell := s.resetErr == nil && !s.bodyEOF && (drained || s.consumed >= h2ConsumedNotify)
			s.mu.Unlock()
			if tell {
				s.hc.notify(s)
			}
			return n, nil
		}
		switch {
		case s.bodyErr != nil:
			err := s.bodyErr
			s.mu.Unlock()
			return 0, err
		case s.bodyEOF:
			s.mu.Unlock()
			return 0, io.EOF
		case s.resetErr != nil:
			err := s.resetErr
			s.mu.Unlock()
			return 0, err
		case len(p) == 0:
			s.mu.Unlock()
			return 0, nil
		}
		if s.bodyWait == nil {
			s.bodyWait = make(chan struct{}, 1)
		}
		ch := s.bodyWait
		s.mu.Unlock()
		if !waitSignal(ch, s.srv.cfg.BodyTimeout) {
			s.mu.Lock()
			if s.bodyOff == len(s.body) && !s.bodyEOF && s.bodyErr == nil {
				s.bodyErr = errH2BodyTimeout
			}
			continue
		}
		s.mu.Lock()
	}
}

// Close stops the handler's interest in the rest of the body.
func (b *h2Body) Close() error {
	s := (*h2Stream)(b)
	s.mu.Lock()
	if !s.bodyEOF && s.bodyErr == nil {
		s.bodyErr = http.ErrBodyReadAfterClose
	}
	s.body = nil
	s.bodyOff = 0
	s.mu.Unlock()
	return nil
}
