package gonicorn

import (
	"net/http"
	"time"
)

// WithTimeout runs h with its own deadline in place of --timeout: d from the start
// of each request, or no deadline at all when d <= 0. Use it for the routes that
// rightly run long (server-sent events, long polls, large exports) or must answer
// sooner than the rest:
//
//	mux.Handle("/events", gonicorn.WithTimeout(events, time.Hour))
//	mux.Handle("/quick", gonicorn.WithTimeout(quick, 2*time.Second))
//
// It is http.ResponseController's SetWriteDeadline, which gonicorn maps onto the
// handler's deadline (r.Context() reports it and ends with it); a handler can call
// that itself at any point to extend or lift its own deadline. Under net/http the
// same call bounds the connection's writes, so the middleware means the same there.
func WithTimeout(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var deadline time.Time
		if d > 0 {
			deadline = time.Now().Add(d)
		}
		// A writer that cannot take a deadline (a test recorder) runs h as it is.
		_ = http.NewResponseController(w).SetWriteDeadline(deadline)
		h.ServeHTTP(w, r)
	})
}
