// Package readiness answers the readiness path (--readiness-path) of a worker
// before the user's handler sees the request: 503 while the worker starts, 200 while
// it serves, 503 again once its master's --shutdown-delay began, so that a load
// balancer or a Kubernetes readiness probe takes the instance out of rotation
// while it still serves everything it is sent.
//
// It never blocks and never touches a connection: it is an http.Handler wrapper.
package readiness

import (
	"net/http"
	"sync/atomic"
)

// State is a worker's readiness. The zero value is "starting".
type State struct {
	ready    atomic.Bool
	draining atomic.Bool
}

// SetReady marks the worker as serving.
func (s *State) SetReady() { s.ready.Store(true) }

// SetDraining marks the worker as leaving: readiness answers 503 from now on.
func (s *State) SetDraining() { s.draining.Store(true) }

// Status is the readiness answer now: 200, or 503 with the reason.
func (s *State) Status() (code int, reason string) {
	switch {
	case s.draining.Load():
		return http.StatusServiceUnavailable, "draining"
	case !s.ready.Load():
		return http.StatusServiceUnavailable, "starting"
	}
	return http.StatusOK, "ready"
}

// Handler answers requests for path from s, and passes every other request to
// next. An empty path returns next unchanged.
func Handler(path string, s *State, next http.Handler) http.Handler {
	if path == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		code, reason := s.Status()
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(reason + "\n"))
		}
	})
}
