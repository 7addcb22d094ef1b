package engine

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gonicorn/gonicorn/pool"
)

// A handler's deadline is --timeout from its start unless the handler moves it:
// http.ResponseController's SetWriteDeadline (and gonicorn.WithTimeout, built on it)
// sets the time by which the handler must be done, zero lifting it. net/http's
// WriteTimeout is the deadline by which a response must be written; a handler that
// streams past it (server-sent events) extends or clears it, and the same calls do
// the same here. A Hijack takes the handler out of the deadline altogether.

// setHandlerDeadline moves the deadline of the handler running with ctx.
func setHandlerDeadline(ctx context.Context, t time.Time) error {
	h := pool.HandleOf(ctx)
	if h == nil {
		return http.ErrNotSupported
	}
	if err := h.SetDeadline(t); err != nil {
		return fmt.Errorf("gonicorn: set the handler deadline: %w", err)
	}
	return nil
}

// detachHandler takes the handler running with ctx out of its deadline and the
// pool's accounting (it hijacked its connection).
func detachHandler(ctx context.Context) {
	if h := pool.HandleOf(ctx); h != nil {
		h.Detach()
	}
}

// SetWriteDeadline is http.ResponseController's: t becomes the handler's deadline
// in place of --timeout; zero lifts it. Stalled writes stay bounded by
// --write-timeout.
func (s *h2Stream) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	if s.handle == nil {
		return http.ErrNotSupported
	}
	if err := s.handle.SetDeadline(t); err != nil {
		return fmt.Errorf("gonicorn: set the handler deadline: %w", err)
	}
	return nil
}
