package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// reqContext is a request's context: the parent's values, a deadline, and a Done
// channel made only when someone asks for it. It costs one small allocation per
// request instead of context.WithTimeout's context, timer and closures.
type reqContext struct {
	parent   context.Context
	deadline time.Time // zero: no deadline

	// Owned by the goroutine running the Job (see Park).
	pool   *Pool
	slot   bool // the Job holds a handler slot
	parked bool // the Job gave its slot away while it waits on its client

	mu   sync.Mutex
	done chan struct{}
	err  atomic.Pointer[error]
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *reqContext) Deadline() (time.Time, bool) {
	return c.deadline, !c.deadline.IsZero()
}

func (c *reqContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err.Load() != nil {
			c.done = closedChan
		} else {
			c.done = make(chan struct{})
		}
	}
	return c.done
}

func (c *reqContext) Err() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *reqContext) Value(key any) any { return c.parent.Value(key) }

var (
	errDeadline = context.DeadlineExceeded
	errCanceled = context.Canceled
)

// cancel ends the context with err (the first cancel wins).
func (c *reqContext) cancel(err *error) {
	if !c.err.CompareAndSwap(nil, err) {
		return
	}
	c.mu.Lock()
	if c.done == nil {
		c.done = closedChan
	} else if c.done != closedChan {
		close(c.done)
	}
	c.mu.Unlock()
}

func (c *reqContext) String() string { return "gonicorn.requestContext" }
