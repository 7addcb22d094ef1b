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
	deadline atomic.Int64 // unix nanos; 0: no deadline. The handler may move it (SetDeadline).
	// task runs the Job while it runs; nil before and after. Guards SetDeadline and
	// Detach against a context whose Job has finished (its task is reused).
	task atomic.Pointer[task]

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
	d := c.deadline.Load()
	if d == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, d), true
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
