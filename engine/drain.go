package engine

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// drainKind says what waits for a connection's outbound queue to drain.
type drainKind uint8

const (
	drainNone   drainKind = iota
	drainWriter           // a handler's write waits for the queue to fall below lowWater
	drainLinger           // a closing connection waits to shut its write side
	drainHijack           // a Hijack waits for every queued byte to leave
	drainClose            // a connection closes once every queued byte has left
)

// gnet reports neither progress nor completion of its outbound flushes, so the
// connections waiting on one are polled: the watcher wakes each on its own loop,
// which checks OutboundBuffered. It runs only while someone waits.

// watchDrain registers c (on its loop) as waiting for its queue to drain.
func (s *Server) watchDrain(c *conn, kind drainKind) {
	if kind == drainWriter && c.drainKind != drainWriter {
		s.waitingWriters.Add(1)
	} else if kind != drainWriter && c.drainKind == drainWriter {
		s.waitingWriters.Add(-1)
	}
	c.drainKind = kind
	if kind != drainWriter {
		// A handler's own write has its own bound (waitAck); the others borrow
		// the connection's timer.
		c.setTimeout(s.cfg.WriteTimeout)
	}
	s.drainMu.Lock()
	s.drainWaiters[c] = struct{}{}
	s.drainMu.Unlock()
	select {
	case s.drainKick <- struct{}{}:
	default:
	}
}

func (s *Server) unwatchDrain(c *conn) {
	if c.drainKind == drainNone {
		return
	}
	if c.drainKind == drainWriter {
		s.waitingWriters.Add(-1)
	}
	c.drainKind = drainNone
	s.drainMu.Lock()
	delete(s.drainWaiters, c)
	s.drainMu.Unlock()
}

func (s *Server) drainWatcher() {
	var batch []*conn
	for {
		s.drainMu.Lock()
		batch = batch[:0]
		for c := range s.drainWaiters {
			batch = append(batch, c)
		}
		s.drainMu.Unlock()
		if len(batch) == 0 {
			select {
			case <-s.stopped:
				return
			case <-s.drainKick:
				continue
			}
		}
		for _, c := range batch {
			_ = c.gc.Wake(onDrainCheck)
		}
		pause := time.Duration(1+len(batch)/64) * time.Millisecond
		select {
		case <-s.stopped:
			return
		case <-time.After(min(pause, 20*time.Millisecond)):
		}
	}
}

// checkDrain acts for a connection waiting on its outbound queue (onDrainCheck).
func (c *conn) checkDrain() gnet.Action {
	if c.drainKind == drainNone {
		return gnet.None
	}
	queued := c.gc.OutboundBuffered()
	if c.ackWait && queued == 0 {
		queued = c.unacked() // the kernel holds the rest (closeWhenAcked)
	}
	if c.observeOut(time.Now(), queued) {
		c.srv.log.Info().Str("peer", c.remoteAddr).Int("min_bytes_per_second", c.srv.cfg.MinResponseRate).
			Int("queued", queued).Msg("client reads its response below --min-response-rate: closing")
		c.srv.unwatchDrain(c)
		return c.cutSlow()
	}
	switch c.drainKind {
	case drainWriter:
		if queued > c.srv.lowWaterNow() {
			return gnet.None
		}
		c.srv.unwatchDrain(c)
		if c.cur != nil {
			c.cur.w.signal(nil)
		}
	case drainLinger:
		if queued > 0 {
			return gnet.None
		}
		c.srv.unwatchDrain(c)
		c.shutdownWrite()
	case drainHijack:
		if queued > 0 {
			return gnet.None
		}
		c.srv.unwatchDrain(c)
		c.completeHijack()
	case drainClose:
		if c.ackWait {
			if queued > closeUnackedMax {
				return gnet.None
			}
			c.srv.unwatchDrain(c)
			return gnet.Close
		}
		if queued > 0 {
			return gnet.None
		}
		c.srv.unwatchDrain(c)
		return c.closeWhenAcked()
	}
	return gnet.None
}
