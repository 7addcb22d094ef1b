package engine

import "github.com/panjf2000/gnet/v2"

// Loop callbacks: what handler goroutines, the clock and the drain watcher ask a
// connection's event loop to do. gnet's Conn.Wake runs them on the loop, the only
// goroutine that may touch the connection. Each finds its conn and calls the conn
// method that holds the logic, beside the state it changes; a failed wake (the
// connection is closing) is dropped unless a waiting goroutine must be told.

// wakeFor adapts a conn method to a Wake callback; gnet.Close closes the connection.
func wakeFor(step func(c *conn) gnet.Action) gnet.AsyncCallback {
	return func(gc gnet.Conn, err error) error {
		if err != nil {
			return nil
		}
		c, ok := gc.Context().(*conn)
		if !ok {
			return nil
		}
		if step(c) == gnet.Close {
			return gc.Close()
		}
		return nil
	}
}

// Input.
var (
	// onResumeWake: a streaming request body has room again (body.go).
	onResumeWake = wakeFor((*conn).resumeReading)
)

// Connection cap.
var (
	// onEvictWake: the worker is at its connection cap and this connection is
	// among the oldest idle ones (evict.go; the clock asks).
	onEvictWake = wakeFor((*conn).evict)
)

// Output.
var (
	// onFinalWake: a response is complete (exchange.go).
	onFinalWake = wakeFor((*conn).serviceWrites)
	// onFlushHeldWake: responses were held too long behind a pipelined request
	// (conn.go; the clock asks).
	onFlushHeldWake = wakeFor((*conn).flushHeld)
	// onAbortWake: a response was cut; the connection closes (exchange.go).
	onAbortWake = wakeFor((*conn).abort)
	// onDrainCheck: the outbound queue a writer, a linger or a hijack waits on
	// may have drained (drain.go; the drain watcher asks).
	onDrainCheck = wakeFor((*conn).checkDrain)
)

// Time.
var (
	// onExpireWake: the clock saw the connection's deadline pass (conn.go).
	onExpireWake = wakeFor((*conn).expireIfDue)
	// onDrainWake: a graceful stop begins (conn.go).
	onDrainWake = wakeFor((*conn).startDrain)
)

// Streamed output: a failed wake must free the writers waiting on the loop.

// onFlushWake runs on the loop to write a streamed piece. A piece of a chained
// request waits until the responses before it are out.
func onFlushWake(gc gnet.Conn, err error) error {
	c, ok := gc.Context().(*conn)
	if !ok || c.cur == nil {
		return nil
	}
	if err != nil {
		for e := c.cur; e != nil; e = e.next {
			e.w.mu.Lock()
			if e.w.inflight != nil {
				putBuf(e.w.inflight)
				e.w.inflight, e.w.extra = nil, nil
			}
			e.w.mu.Unlock()
			e.w.signal(errConnClosed)
		}
		return nil
	}
	if c.serviceWrites() == gnet.Close {
		return gc.Close()
	}
	return nil
}

// Hand-over: a failed wake must free the handler waiting in Hijack.

// onHijackWake runs on the loop: it waits for the queue to empty, then hands over.
func onHijackWake(gc gnet.Conn, err error) error {
	c, ok := gc.Context().(*conn)
	if !ok {
		return nil
	}
	if err != nil || c.cur == nil || c.cur.hijack == nil {
		if ok && c.cur != nil && c.cur.hijack != nil {
			c.cur.hijack <- hijackResult{err: errConnClosed}
		}
		return nil
	}
	c.flushPending()
	c.enter(stHijacked)
	c.pause()
	if gc.OutboundBuffered() > 0 {
		c.srv.watchDrain(c, drainHijack)
		return nil
	}
	c.completeHijack()
	return nil
}
