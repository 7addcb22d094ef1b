package engine

import (
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/protocol/h2"
)

// At the connection cap (--worker-connections, kept below RLIMIT_NOFILE) the worker
// stops accepting, and new clients would wait in the backlog behind connections
// that do nothing. As nginx reuses idle keep-alive connections when it runs out
// (ngx_drain_connections), the clock closes the connections that wait on their
// client without a request in progress, oldest first: idle keep-alive
// connections, and connections that have sent nothing since they were accepted.
// A connection in the middle of a request (some bytes of a head, a body, a
// handler, a response being written) is never evicted. A warning says the cap was
// hit and what was evicted, at most once per capWarnEvery.

// minEvictAge is how long a connection must have been idle to be evicted.
const minEvictAge = 250 * time.Millisecond

// capWarnEvery bounds how often the cap warning is logged.
const capWarnEvery = 10 * time.Second

// evictStats accumulates what was evicted since the last warning.
type evictStats struct {
	keepAlive atomic.Int64 // idle keep-alive connections closed
	silent    atomic.Int64 // connections that never sent a byte closed
	lastWarn  atomic.Int64 // monoNow of the last warning
}

// markIdle records, for the clock, since when the connection waits on its client
// with nothing in progress (stIdle, from now: monoNow); other states clear it.
// It runs on the loop.
func (c *conn) markIdle(st connState, now int64) {
	if st == stIdle {
		c.idleSince.Store(now)
	} else {
		c.idleSince.Store(0)
	}
}

// idleFrom backdates the idle mark of a connection that is idle now to r (monoNow),
// when its last response was finished then and only settled since.
func (c *conn) idleFrom(r int64) {
	if c.state != stIdle {
		return
	}
	if t := c.idleSince.Load(); t == 0 || t > r {
		c.idleSince.Store(r)
	}
}

// evictCandidate is one connection the clock may close to make room.
type evictCandidate struct {
	c     *conn
	since int64
}

// evictIdle runs on the clock while accepting is paused at the cap: it asks the
// loops to close the oldest idle connections, as many as clients wait in the
// accept queue.
func (s *Server) evictIdle(now int64) {
	if !s.atCap.Load() {
		s.warnCap(now, false)
		return
	}
	var cands []evictCandidate
	s.conns.each(func(c *conn) bool {
		t := c.idleSince.Load()
		if t == 0 {
			// A response its handler wrote to the socket itself leaves the
			// connection idle once the loop settles it (evict does that first).
			t = c.readySince.Load()
		}
		if t != 0 {
			cands = append(cands, evictCandidate{c, t})
		}
		return true
	})
	if len(cands) == 0 {
		s.warnCap(now, true) // every connection is busy: nothing to evict
		return
	}
	waiting := s.backlogWaiting()
	if waiting == 0 {
		s.warnCap(now, false)
		return // nobody waits to be accepted: idle connections may stay
	}
	// Make room for everyone waiting, among the connections idle for at least
	// minEvictAge: a client just accepted has a moment to send its request.
	n := 0
	for _, e := range cands {
		if now-e.since >= int64(minEvictAge) {
			n++
		}
	}
	n = min(n, waiting)
	slices.SortFunc(cands, func(a, b evictCandidate) int {
		switch {
		case a.since < b.since:
			return -1
		case a.since > b.since:
			return 1
		}
		return 0
	})
	for _, e := range cands[:n] {
		_ = e.c.gc.Wake(onEvictWake)
	}
	s.warnCap(now, false) // what the loops evict is told on a later tick
}

// warnCap logs, at most once per capWarnEvery, that the cap was hit and what was
// evicted since the last warning (stuck: at the cap with nothing to evict).
func (s *Server) warnCap(now int64, stuck bool) {
	ka, silent := s.evicted.keepAlive.Load(), s.evicted.silent.Load()
	if ka+silent == 0 && !stuck {
		return
	}
	last := s.evicted.lastWarn.Load()
	if last != 0 && now-last < int64(capWarnEvery) || !s.evicted.lastWarn.CompareAndSwap(last, now) {
		return
	}
	s.evicted.keepAlive.Add(-ka)
	s.evicted.silent.Add(-silent)
	s.log.Warn().Int64("worker_connections", s.maxConns).Int64("open", s.nconns.Load()).
		Int64("evicted_keepalive", ka).Int64("evicted_silent", silent).
		Msg("connection cap reached (--worker-connections, below RLIMIT_NOFILE): closed the oldest idle connections to make room")
}

// backlogWaiting returns how many clients wait in the listeners' accept queues. For
// a listening TCP socket Linux reports the queue's length in TCP_INFO's unacked
// field; a unix socket cannot tell, and counts as one waiting.
func (s *Server) backlogWaiting() int {
	n := 0
	for _, lf := range s.lns {
		if _, tcp := lf.ln.Addr().(*net.TCPAddr); !tcp {
			n++
			continue
		}
		info, err := unix.GetsockoptTCPInfo(lf.fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			n++
			continue
		}
		n += int(info.Unacked)
	}
	return n
}

// evict closes the connection if it still waits on its client with nothing in
// progress. It runs on the loop.
func (c *conn) evict() gnet.Action {
	if c.state == stHandling && c.cur != nil && c.cur.wroteDirect.Load() {
		// Its response went out from the handler's goroutine: the connection
		// waits on its client, once the loop has moved it on.
		if c.settleDirect() == gnet.Close {
			return gnet.Close
		}
	}
	if c.idleSince.Load() == 0 || c.gc.InboundBuffered() > 0 || c.gc.OutboundBuffered() > 0 {
		return gnet.None
	}
	if c.state == stH2 && c.h2 != nil && len(c.h2.streams) == 0 && !c.h2.dead {
		c.srv.evicted.keepAlive.Add(1)
		c.h2.pc.GoAway(h2.ErrCodeNo, "connection cap reached")
		c.h2.close()
		return gnet.None
	}
	if c.state != stIdle {
		return gnet.None
	}
	if c.requests == 0 {
		c.srv.evicted.silent.Add(1)
	} else {
		c.srv.evicted.keepAlive.Add(1)
	}
	c.srv.log.Debug().Str("peer", c.remoteAddr).Int("requests", c.requests).Msg("idle connection closed at the connection cap")
	return gnet.Close
}
