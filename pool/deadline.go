package pool

import (
	"errors"
	"time"
)

// ErrTooLate is returned by SetDeadline when the Job has finished or its deadline
// has already passed (its context is ending, its response is being abandoned).
var ErrTooLate = errors.New("pool: the request has finished or already timed out")

// SetDeadline moves the running Job's deadline to d; a zero d lifts it. A handler
// uses it (through http.ResponseController.SetWriteDeadline or gonicorn.WithTimeout)
// to run longer than --timeout, a server-sent-events stream for example, or
// shorter. The context's Deadline reports the new value; contexts derived from it
// earlier keep theirs. A d in the past expires the Job at once.
func (h *Handle) SetDeadline(d time.Time) error {
	c := (*reqContext)(h)
	t := c.task.Load()
	if t == nil {
		return ErrTooLate
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx != c || t.state.Load() != taskRunning {
		return ErrTooLate
	}
	if t.due != 0 && !t.pool.live.takeOff(t) {
		return ErrTooLate // the clock expired it: the deadline won
	}
	if t.armed {
		if !t.timer.Stop() {
			return ErrTooLate // expire runs now: the deadline won
		}
		t.armed = false
	}
	if d.IsZero() {
		c.deadline.Store(0)
		return nil
	}
	c.deadline.Store(d.UnixNano())
	if t.detached {
		return nil // a detached Job is never expired; its context just reports d
	}
	if t.timer == nil {
		t.timer = time.AfterFunc(time.Until(d), t.expire)
	} else {
		t.timer.Reset(time.Until(d))
	}
	t.armed = true
	return nil
}

// Detach takes the running Job out of the pool's accounting: it has no deadline
// any more, no longer counts in Running, and can never be reported stuck or make
// the pool unhealthy. It is for a handler that took its connection over (Hijack,
// a WebSocket) and may rightly run for hours; its handler slot goes to the next
// Job. Call it from the Job's own goroutine. It reports false when the Job has
// finished or its deadline already passed.
func (h *Handle) Detach() bool {
	c := (*reqContext)(h)
	t := c.task.Load()
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx != c || t.state.Load() != taskRunning {
		return false
	}
	if t.detached {
		return true
	}
	if t.due != 0 && !t.pool.live.takeOff(t) {
		return false
	}
	if t.armed {
		if !t.timer.Stop() {
			return false
		}
		t.armed = false
	}
	c.deadline.Store(0)
	t.detached = true
	t.pool.running.Add(-1)
	if c.slot {
		// A hijacked connection (a WebSocket) runs on its own: it holds no slot.
		// Detach runs on the handler's goroutine, which owns c.slot.
		c.slot = false
		t.pool.releaseSlot()
	}
	return true
}
