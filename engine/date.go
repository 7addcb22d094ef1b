package engine

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateCache holds the HTTP Date header value, refreshed by the server's clock
// goroutine so that no request formats a time.
type dateCache struct{ v atomic.Pointer[[]byte] }

func (d *dateCache) refresh(now time.Time) {
	b := now.UTC().AppendFormat(make([]byte, 0, 29), http.TimeFormat)
	d.v.Store(&b)
}

func (d *dateCache) get() []byte { return *d.v.Load() }
