package engine

import (
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Minimum data rates (--min-response-rate, --min-request-rate), in Kestrel's
// spirit: a transfer that waits on its client is measured over a sliding window
// of whole seconds, and once --min-rate-grace has passed since it began to wait, a
// client moving fewer than the minimum bytes per second over the window is cut.
// Time the client is not to blame for (the handler is behind, nothing is queued
// for it) is not measured. --write-timeout and --body-timeout keep bounding a
// client that moves nothing at all; the rates bound the trickle that restarts
// those clocks with every byte.

// rateSlots is the ring of one-second buckets; the window is at most rateSlots-1 s.
const rateSlots = 8

// rateMeter measures one transfer. It lives on the connection's event loop.
type rateMeter struct {
	start int64 // unix nanos measuring began; 0: not measuring
	sec   [rateSlots]int64
	bytes [rateSlots]int64
}

// active reports whether the meter measures; a nil meter never has.
func (m *rateMeter) active() bool { return m != nil && m.start != 0 }

// begin starts measuring at now unless it already measures.
func (m *rateMeter) begin(now int64) {
	if m.start == 0 {
		*m = rateMeter{start: now}
	}
}

// stop ends the measure: the client is not waited on any more.
func (m *rateMeter) stop() {
	if m != nil {
		m.start = 0
	}
}

// beginMeter starts *m measuring at now, allocating it on first use: most
// connections never wait on their client, so a connection holds a pointer, not
// the ring (which would add 272 bytes to every idle keep-alive connection).
func beginMeter(m **rateMeter, now int64) {
	if *m == nil {
		*m = new(rateMeter)
	}
	(*m).begin(now)
}

// add counts n bytes moved at now.
func (m *rateMeter) add(now int64, n int64) {
	if !m.active() || n <= 0 {
		return
	}
	s := now / int64(time.Second)
	i := s % rateSlots
	if m.sec[i] != s {
		m.sec[i], m.bytes[i] = s, 0
	}
	m.bytes[i] += n
}

// tooSlow reports whether, grace after measuring began, the window of the last
// min(grace, 7 s) whole seconds (and the current one) moved fewer than rate bytes
// per second of the window.
func (m *rateMeter) tooSlow(now int64, rate int, grace time.Duration) bool {
	if !m.active() || rate <= 0 || now-m.start < int64(grace) {
		return false
	}
	w := int64(min(max(grace, time.Second), (rateSlots-1)*time.Second) / time.Second)
	s := now / int64(time.Second)
	var sum int64
	for k := int64(0); k <= w; k++ {
		if i := (s - k) % rateSlots; m.sec[i] == s-k {
			sum += m.bytes[i]
		}
	}
	return sum < int64(rate)*w
}

// rateCheckEvery is how often a transfer's rate is checked when nothing else wakes it.
const rateCheckEvery = time.Second

// observeOut feeds the outbound meter of an HTTP/1 connection whose queue a
// handler or a close waits on, from what left the queue since the last look. It
// runs on the loop and reports whether the client reads too slowly.
func (c *conn) observeOut(now time.Time, queued int) bool {
	rate := c.srv.cfg.MinResponseRate
	if rate <= 0 {
		return false
	}
	sent := c.outTotal - int64(queued)
	if queued == 0 {
		c.outMeter.stop()
		c.outSeen = sent
		return false
	}
	ns := now.UnixNano()
	if !c.outMeter.active() {
		beginMeter(&c.outMeter, ns)
		c.outSeen = sent
		return false
	}
	c.outMeter.add(ns, sent-c.outSeen)
	c.outSeen = max(c.outSeen, sent)
	return c.outMeter.tooSlow(ns, rate, c.srv.cfg.MinRateGrace)
}

// armBody starts (or restarts, on progress) the wait for more request body: the
// --body-timeout clock, and the minimum request rate's checks.
func (c *conn) armBody(progress int) {
	now := time.Now()
	wait := now.Add(c.srv.cfg.BodyTimeout)
	if c.srv.cfg.BodyTimeout <= 0 {
		wait = time.Time{}
	}
	c.bodyWaitUntil = wait
	if c.srv.cfg.MinRequestRate > 0 {
		if !c.inMeter.active() {
			beginMeter(&c.inMeter, now.UnixNano())
			c.inCheckAt = time.Time{}
		}
		c.inMeter.add(now.UnixNano(), int64(progress))
		// Progress moves the body timeout, never the next rate check (only the
		// check does): a trickle arriving more often than the check would
		// postpone it forever.
		if c.inCheckAt.IsZero() {
			c.inCheckAt = now.Add(rateCheckEvery)
		}
		if wait.IsZero() || c.inCheckAt.Before(wait) {
			wait = c.inCheckAt
		}
	}
	c.setDeadline(wait)
}

// pauseBody stops the body clocks: the handler is behind, not the client.
func (c *conn) pauseBody() {
	c.inMeter.stop()
	c.bodyWaitUntil = time.Time{}
	c.setDeadline(time.Time{})
}

// bodyExpired decides, when the connection's timer fires while a body arrives,
// whether --body-timeout passed (true), the client sends too slowly (true, and
// logs it), or it was only a rate check that passed (false: re-armed).
func (c *conn) bodyExpired(now time.Time) bool {
	if !c.bodyWaitUntil.IsZero() && !now.Before(c.bodyWaitUntil) {
		return true
	}
	if c.inMeter.tooSlow(now.UnixNano(), c.srv.cfg.MinRequestRate, c.srv.cfg.MinRateGrace) {
		c.srv.log.Info().Str("peer", c.remoteAddr).Int("min_bytes_per_second", c.srv.cfg.MinRequestRate).
			Msg("client sends its request body below --min-request-rate: closing")
		return true
	}
	next := now.Add(rateCheckEvery)
	c.inCheckAt = next
	if !c.bodyWaitUntil.IsZero() && c.bodyWaitUntil.Before(next) {
		next = c.bodyWaitUntil
	}
	c.setDeadline(next)
	return false
}

// cutSlow readies a connection whose client moves data too slowly to close with
// a reset: what the kernel still holds for it is discarded, not trickled out for
// minutes. The caller returns gnet.Close.
func (c *conn) cutSlow() gnet.Action {
	_ = c.gc.SetLinger(0)
	return gnet.Close
}
