package bench

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// clockBase anchors the generator's monotonic clock.
var clockBase = time.Now()

// nanotime is monotonic nanoseconds since clockBase.
func nanotime() int64 { return int64(time.Since(clockBase)) }

// loadConn is one connection slot of a loop: an HTTP/1.x or uWSGI connection, or an
// h2c connection carrying several streams.
type loadConn interface {
	// open starts connecting; the slot's events then drive it.
	open(l *loop) error
	// handle reacts to epoll events for the slot.
	handle(l *loop, events uint32, now int64) error
	// kick issues requests if the connection is ready and idle.
	kick(l *loop, now int64) error
	// ready reports whether a persistent connection has finished its handshake.
	ready() bool
	// inflight returns the requests awaiting a response and when the oldest was sent.
	inflight() (n int, since int64)
	// close releases the socket.
	close()
}

// loop is one single-threaded event loop of the generator, with its share of the
// connections.
type loop struct {
	spec   *loadSpec
	sa     unix.Sockaddr
	family int
	ep     *epoll
	conns  []loadConn
	req    []byte // the serialised request (HTTP/1.1 or uWSGI), one copy
	batch  []byte // Depth copies of req, for pipelining

	// The current phase.
	hist     *Histogram
	limit    int64 // requests this loop may still issue in the phase; <0: unbounded
	stopping bool
	done     int64
	lastDone int64 // nanotime of the last completed response
	err      error

	// kicks are the connections whose next requests go out once every event of the
	// current turn has been handled, so that a turn's requests leave in one burst.
	kicks []loadConn

	connects   int64
	reconnects int64 // persistent connections the server closed between requests
	bytesIn    int64
}

func newLoop(spec *loadSpec, nconns int) (*loop, error) {
	sa, family, err := sockaddrOf(spec.Addr)
	if err != nil {
		return nil, err
	}
	ep, err := newEpoll(nconns * 2)
	if err != nil {
		return nil, err
	}
	l := &loop{spec: spec, sa: sa, family: family, ep: ep, stopping: true}
	switch spec.Workload {
	case UWSGI:
		l.req, err = appendUWSGIRequest(nil, spec)
		if err != nil {
			ep.close()
			return nil, err
		}
	case H2C:
	default:
		l.req = appendHTTP1Request(nil, spec, spec.Workload == ConnPerRequest)
	}
	for range spec.Depth {
		l.batch = append(l.batch, l.req...)
	}
	for i := range nconns {
		var c loadConn
		if spec.Workload == H2C {
			c, err = newH2Conn(l, i)
			if err != nil {
				ep.close()
				return nil, err
			}
		} else {
			c = newH1Conn(l, i)
		}
		l.conns = append(l.conns, c)
	}
	return l, nil
}

// persistent reports whether the workload keeps its connections between requests.
func (l *loop) persistent() bool {
	return l.spec.Workload != ConnPerRequest && l.spec.Workload != UWSGI
}

// fail records the first error; the phase stops at the next turn.
func (l *loop) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

// take returns how many of n requests may be issued now, and counts them issued.
func (l *loop) take(n int) int {
	if l.stopping || l.err != nil {
		return 0
	}
	if l.limit >= 0 {
		n = int(min(int64(n), l.limit))
		l.limit -= int64(n)
	}
	return n
}

// complete records one response that passed its checks.
func (l *loop) complete(sent, now int64) {
	l.hist.Record(time.Duration(now - sent))
	l.done++
	l.lastDone = now
}

// checkResponse compares a response with what the spec wants.
func (l *loop) checkResponse(status int, body []byte, chunked bool) error {
	if status != l.spec.WantStatus {
		return fmt.Errorf("status %d, want %d", status, l.spec.WantStatus)
	}
	if !l.spec.CheckBody {
		return nil
	}
	ok := false
	if chunked {
		ok = chunkedBodyEqual(body, l.spec.WantBody)
	} else {
		ok = string(body) == string(l.spec.WantBody)
	}
	if !ok {
		return fmt.Errorf("wrong body %q, want %q", clip(body), clip(l.spec.WantBody))
	}
	return nil
}

// establish opens every persistent connection and waits until all have finished their
// handshakes.
func (l *loop) establish(timeout time.Duration) error {
	if !l.persistent() {
		return nil
	}
	for _, c := range l.conns {
		if err := c.open(l); err != nil {
			return err
		}
	}
	deadline := nanotime() + int64(timeout)
	for {
		ready := 0
		for _, c := range l.conns {
			if c.ready() {
				ready++
			}
		}
		if ready == len(l.conns) {
			return nil
		}
		if nanotime() > deadline {
			return fmt.Errorf("only %d of %d connections ready after %v", ready, len(l.conns), timeout)
		}
		if err := l.turn(10 * time.Millisecond); err != nil {
			return err
		}
		if l.err != nil {
			return l.err
		}
	}
}

// turn waits for events once and dispatches them.
func (l *loop) turn(wait time.Duration) error {
	evs, err := l.ep.wait(wait)
	if err != nil {
		return err
	}
	now := nanotime()
	for _, ev := range evs {
		if err := l.conns[ev.Fd].handle(l, ev.Events, now); err != nil {
			l.fail(err)
		}
	}
	for i, c := range l.kicks {
		if err := c.kick(l, now); err != nil {
			l.fail(err)
		}
		l.kicks[i] = nil
	}
	l.kicks = l.kicks[:0]
	return nil
}

// deferKick queues c's next requests for the end of the turn, as wrk's event loop
// does: responses read in one turn are answered by one burst of requests.
func (l *loop) deferKick(c loadConn) { l.kicks = append(l.kicks, c) }

// phaseResult is what one phase of one loop measured.
type phaseResult struct {
	done    int64
	elapsed time.Duration // from the phase start to the last response
	err     error
}

// run sends load for d (and at most limit requests when limit >= 0), waits for the
// responses still in flight, and records latencies in hist.
func (l *loop) run(d time.Duration, limit int64, hist *Histogram) phaseResult {
	l.hist, l.limit, l.stopping, l.done, l.err = hist, limit, false, 0, nil
	start := nanotime()
	l.lastDone = start
	deadline := start + int64(d)
	var stopAt int64
	nextCheck := start + int64(100*time.Millisecond)
	for _, c := range l.conns {
		var err error
		if l.persistent() {
			err = c.kick(l, start)
		} else {
			err = c.open(l)
		}
		if err != nil {
			l.fail(err)
			break
		}
	}
	for l.err == nil {
		if err := l.turn(5 * time.Millisecond); err != nil {
			l.fail(err)
			break
		}
		now := nanotime()
		if !l.stopping && (now >= deadline || l.limit == 0) {
			l.stopping, stopAt = true, now
		}
		pending := 0
		if l.stopping || now >= nextCheck {
			nextCheck = now + int64(100*time.Millisecond)
			for _, c := range l.conns {
				n, since := c.inflight()
				pending += n
				if n > 0 && now-since > int64(l.spec.Timeout) {
					l.fail(fmt.Errorf("no response within %v (%d requests in flight on a connection)", l.spec.Timeout, n))
				}
			}
			if l.stopping && pending == 0 {
				break
			}
			if l.stopping && now-stopAt > int64(l.spec.Timeout) {
				l.fail(fmt.Errorf("%d requests still in flight %v after the load stopped", pending, l.spec.Timeout))
			}
		}
	}
	return phaseResult{done: l.done, elapsed: time.Duration(l.lastDone - start), err: l.err}
}

func (l *loop) close() {
	for _, c := range l.conns {
		c.close()
	}
	l.ep.close()
}

// generator runs the loops of one load process.
type generator struct {
	spec  *loadSpec
	loops []*loop
}

func newGenerator(spec *loadSpec) (*generator, error) {
	g := &generator{spec: spec}
	for t := range spec.Threads {
		n := spec.Conns / spec.Threads
		if t < spec.Conns%spec.Threads {
			n++
		}
		l, err := newLoop(spec, n)
		if err != nil {
			g.close()
			return nil, err
		}
		g.loops = append(g.loops, l)
	}
	return g, nil
}

// each runs f on every loop at once, each on its own locked OS thread, and returns
// the first error.
func (g *generator) each(f func(i int, l *loop) error) error {
	errs := make([]error, len(g.loops))
	done := make(chan struct{}, len(g.loops))
	for i, l := range g.loops {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			errs[i] = f(i, l)
			done <- struct{}{}
		}()
	}
	for range g.loops {
		<-done
	}
	return errors.Join(errs...)
}

// establish opens the persistent connections of every loop.
func (g *generator) establish(timeout time.Duration) error {
	return g.each(func(_ int, l *loop) error { return l.establish(timeout) })
}

// phase runs one phase on every loop and merges the results.
func (g *generator) phase(d time.Duration, requests int64) (loadResult, *Histogram, error) {
	hists := make([]Histogram, len(g.loops))
	results := make([]phaseResult, len(g.loops))
	err := g.each(func(i int, l *loop) error {
		limit := int64(-1)
		if requests > 0 {
			limit = requests / int64(len(g.loops))
			if int64(i) < requests%int64(len(g.loops)) {
				limit++
			}
		}
		results[i] = l.run(d, limit, &hists[i])
		return results[i].err
	})
	var r loadResult
	h := &Histogram{}
	for i := range g.loops {
		h.Merge(&hists[i])
		r.Requests += results[i].done
		r.Elapsed = max(r.Elapsed, results[i].elapsed)
	}
	return r, h, err
}

func (g *generator) counters() (connects, reconnects, bytesIn int64) {
	for _, l := range g.loops {
		connects += l.connects
		reconnects += l.reconnects
		bytesIn += l.bytesIn
	}
	return
}

func (g *generator) close() {
	for _, l := range g.loops {
		l.close()
	}
}
