package stats

import (
	"sync/atomic"
	"time"
)

// Counters is what one worker process counts. Every method is safe for
// concurrent use, costs a few atomic adds, and does nothing on a nil receiver,
// which is how counting is turned off.
type Counters struct {
	v [numSlots]atomic.Uint64
}

// NewCounters returns zeroed counters.
func NewCounters() *Counters { return new(Counters) }

// Request counts a finished exchange: its response status, how long it took from
// the complete request head to the response's end, and its body bytes in and out.
func (c *Counters) Request(p Protocol, method string, status int, d time.Duration, reqBytes, respBytes int64) {
	if c == nil {
		return
	}
	c.v[offRequests+(methodIndex(method)*numClasses+classIndex(status))*numProtocols+int(p)].Add(1)
	if status >= minStatus && status < minStatus+numStatuses {
		c.v[offStatus+status-minStatus].Add(1)
	}
	d = max(d, 0)
	c.v[offHist+int(p)*numBuckets+bucketIndex(d)].Add(1)
	c.v[offDurSum+int(p)].Add(uint64(d))
	if reqBytes > 0 {
		c.v[offReqBytes+int(p)].Add(uint64(reqBytes))
	}
	if respBytes > 0 {
		c.v[offRespBytes+int(p)].Add(uint64(respBytes))
	}
}

// Rejected counts a request refused before any handler ran (malformed: 400, 414,
// 431 …; too slow: 408), by the status it was answered with.
func (c *Counters) Rejected(status int) {
	if c == nil || status < minStatus || status >= minStatus+numStatuses {
		return
	}
	c.v[offRejected+status-minStatus].Add(1)
}

// PoolRejected counts a request refused with 503 because every handler slot was busy.
func (c *Counters) PoolRejected() {
	if c != nil {
		c.v[offPoolReject].Add(1)
	}
}

// TimedOut counts a handler that ran past --timeout, by what the client got
// (TimeoutAnswered or TimeoutCut).
func (c *Counters) TimedOut(answer int) {
	if c != nil && answer >= 0 && answer < numTimeoutKinds {
		c.v[offTimeouts+answer].Add(1)
	}
}

// ConnOpened counts a connection opened on p.
func (c *Counters) ConnOpened(p Protocol) {
	if c == nil {
		return
	}
	c.v[offAccepted+int(p)].Add(1)
	c.v[offConns+int(p)].Add(1)
}

// ConnUpgraded moves an open connection from HTTP/1 to HTTP/2.
func (c *Counters) ConnUpgraded() {
	if c == nil {
		return
	}
	c.v[offConns+int(HTTP1)].Add(^uint64(0))
	c.v[offConns+int(H2)].Add(1)
	c.v[offAccepted+int(H2)].Add(1)
}

// ConnClosed counts a connection on p gone.
func (c *Counters) ConnClosed(p Protocol) {
	if c != nil {
		c.v[offConns+int(p)].Add(^uint64(0))
	}
}

// Snapshot reads every slot, with inFlight as the requests in flight. The slots
// are read one by one while the worker serves, so a snapshot may count a request
// in one slot and not yet in another; the next one catches up.
func (c *Counters) Snapshot(inFlight int64) Sample {
	var s Sample
	if c == nil {
		return s
	}
	for i := range s.v {
		s.v[i] = c.v[i].Load()
	}
	s.v[offInFlight] = uint64(max(inFlight, 0))
	return s
}
