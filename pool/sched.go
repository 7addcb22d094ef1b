package pool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/panjf2000/ants/v2"
)

// Slots: --threads bounds the handlers that RUN. A handler that waits on its client
// (a full socket queue, a closed h2 flow-control window) parks: it gives its slot
// to the next job and takes a slot back before it runs again. Parked handlers are
// goroutines that cost memory, not capacity; their number is bounded by MaxParked,
// past which a waiting handler keeps its slot (the old behaviour).
//
// Jobs that find every slot busy either fail at once (Submit) or wait their turn
// in a bounded fair queue (Enqueue: the engine's HTTP/1.1 and uWSGI requests and
// h2 streams): one FIFO per source (a connection), served round-robin across
// sources, so one connection's 10,000 streams do not delay another's one. A
// queued Chain runs whole when its turn comes, like a submitted one.

// Dropper is a Job that wants to know it was dropped from the queue without
// running (it waited longer than the queue allows, or its source went away).
type Dropper interface {
	Dropped()
}

// queued is one Job waiting for a slot.
type queued struct {
	job    Job
	parent context.Context
	since  time.Time
}

// sourceQueue is one source's FIFO.
type sourceQueue struct {
	src   any
	items []queued
	head  int
}

// fairQueue holds queued Jobs per source and serves the sources round-robin.
type fairQueue struct {
	bySrc map[any]*sourceQueue
	ring  []*sourceQueue // sources with items, in serving order
	n     int
}

func (q *fairQueue) push(src any, e queued) {
	if q.bySrc == nil {
		q.bySrc = make(map[any]*sourceQueue)
	}
	sq := q.bySrc[src]
	if sq == nil {
		sq = &sourceQueue{src: src}
		q.bySrc[src] = sq
		q.ring = append(q.ring, sq)
	}
	sq.items = append(sq.items, e)
	q.n++
}

// pop takes the oldest Job of the next source in turn.
func (q *fairQueue) pop() (queued, bool) {
	if q.n == 0 {
		return queued{}, false
	}
	sq := q.ring[0]
	e := sq.items[sq.head]
	sq.items[sq.head] = queued{}
	sq.head++
	q.n--
	copy(q.ring, q.ring[1:])
	q.ring = q.ring[:len(q.ring)-1]
	if sq.head == len(sq.items) {
		delete(q.bySrc, sq.src)
	} else {
		if sq.head > 64 && sq.head*2 > len(sq.items) {
			sq.items = append(sq.items[:0], sq.items[sq.head:]...)
			sq.head = 0
		}
		q.ring = append(q.ring, sq) // to the back: the other sources go first
	}
	return e, true
}

// remove takes out every Job of src, or (src nil) every Job queued before cutoff.
func (q *fairQueue) remove(src any, cutoff time.Time) []queued {
	var out []queued
	keep := q.ring[:0]
	for _, sq := range q.ring {
		live := sq.items[sq.head:]
		if src != nil {
			if sq.src == src {
				out = append(out, live...)
				q.n -= len(live)
				delete(q.bySrc, sq.src)
				continue
			}
			keep = append(keep, sq)
			continue
		}
		// FIFO per source: the expired Jobs are a prefix.
		i := 0
		for i < len(live) && live[i].since.Before(cutoff) {
			i++
		}
		out = append(out, live[:i]...)
		q.n -= i
		clear(sq.items[sq.head : sq.head+i])
		sq.head += i
		if sq.head == len(sq.items) {
			delete(q.bySrc, sq.src)
			continue
		}
		keep = append(keep, sq)
	}
	clear(q.ring[len(keep):])
	q.ring = keep
	return out
}

// Enqueue runs j now if a slot is free, or queues it behind the Jobs of src
// (served round-robin across sources) when every slot is busy. The queue holds at
// most MaxQueued Jobs (then ErrOverload) and each for at most the pool's queue
// wait (see ExpireQueued). The Job's deadline starts when it starts running; a
// queued Job learns its Handle from HandleOf(ctx) in Run. It never blocks.
func (p *Pool) Enqueue(parent context.Context, j Job, src any) error {
	p.mu.Lock()
	if p.slots < p.size {
		p.slots++
		p.mu.Unlock()
		_, err := p.start(parent, j)
		return err
	}
	if p.queue.n >= p.maxQueued {
		p.mu.Unlock()
		return ErrOverload
	}
	p.queue.push(src, queued{job: j, parent: parent, since: time.Now()})
	p.queuedGauge.Store(int64(p.queue.n))
	p.mu.Unlock()
	return nil
}

// start runs j on a slot the caller already holds; on failure the slot is released.
func (p *Pool) start(parent context.Context, j Job) (*reqContext, error) {
	t, _ := p.tasks.Get().(*task)
	if t == nil {
		t = &task{pool: p}
	}
	ctx := p.prepare(t, parent, j)
	ctx.slot = true
	if err := p.workers.Invoke(t); err != nil {
		p.running.Add(-1)
		t.job, t.ctx, t.parent = nil, nil, nil
		p.tasks.Put(t)
		p.releaseSlot()
		if errors.Is(err, ants.ErrPoolOverload) {
			return nil, ErrOverload
		}
		return nil, fmt.Errorf("pool: submit: %w", err)
	}
	return ctx, nil
}

// acquireSlot takes a free slot without waiting.
func (p *Pool) acquireSlot() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slots >= p.size {
		return false
	}
	p.slots++
	return true
}

// releaseSlot gives a slot back: to a parked handler waiting to run again first
// (it holds memory and is halfway through), then to the next queued Job, else free.
func (p *Pool) releaseSlot() {
	e, ok := p.takeTurn()
	if !ok {
		return
	}
	if _, err := p.start(e.parent, e.job); err != nil {
		// start gave the slot back itself (and may have passed it on).
		if d, ok := e.job.(Dropper); ok {
			d.Dropped()
		}
	}
}

// takeTurn passes on a slot its caller holds: a parked handler waiting for a slot
// gets it, else the next queued Job is returned for the caller to run on the slot
// (a finished Job's goroutine runs it itself), else the slot is freed.
func (p *Pool) takeTurn() (queued, bool) {
	p.mu.Lock()
	if len(p.unparkers) > 0 {
		ch := p.unparkers[0]
		copy(p.unparkers, p.unparkers[1:])
		p.unparkers[len(p.unparkers)-1] = nil
		p.unparkers = p.unparkers[:len(p.unparkers)-1]
		p.mu.Unlock()
		close(ch)
		return queued{}, false
	}
	e, ok := p.queue.pop()
	if !ok {
		p.slots--
		p.mu.Unlock()
		return queued{}, false
	}
	p.queuedGauge.Store(int64(p.queue.n))
	p.mu.Unlock()
	return e, true
}

// Park tells the pool that the handler running with ctx is about to wait on its
// client: its slot goes to the next job. It returns false (the handler keeps its
// slot) when ctx is not a pool context, the handler is already parked, or MaxParked
// handlers are parked. A parked handler calls Unpark before it runs again.
func Park(ctx context.Context) bool {
	c, ok := ctx.(*reqContext)
	if !ok || c.pool == nil || !c.slot || c.parked {
		return false
	}
	p := c.pool
	p.mu.Lock()
	if p.parked >= p.maxParked {
		p.mu.Unlock()
		return false
	}
	p.parked++
	p.mu.Unlock()
	c.slot, c.parked = false, true
	p.parkedGauge.Add(1)
	p.releaseSlot()
	return true
}

// Unpark takes a slot back for a parked handler, waiting for one if every slot
// is busy; parked handlers go before queued jobs. It fails only when ctx ends
// first (the deadline, or the client went away): the handler then runs on without
// a slot to its end, which is near (its context is done).
func Unpark(ctx context.Context) error {
	c, ok := ctx.(*reqContext)
	if !ok || c.pool == nil || !c.parked {
		return nil
	}
	p := c.pool
	p.unpark(c)
	p.mu.Lock()
	if p.slots < p.size {
		p.slots++
		p.mu.Unlock()
		c.slot = true
		return nil
	}
	ch := make(chan struct{})
	p.unparkers = append(p.unparkers, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		c.slot = true
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	for i, w := range p.unparkers {
		if w == ch {
			p.unparkers = append(p.unparkers[:i], p.unparkers[i+1:]...)
			p.mu.Unlock()
			return ctx.Err()
		}
	}
	p.mu.Unlock()
	// The slot was handed over as ctx ended: keep it.
	c.slot = true
	return nil
}

// unpark forgets that c's Job is parked.
func (p *Pool) unpark(c *reqContext) {
	c.parked = false
	p.parkedGauge.Add(-1)
	p.mu.Lock()
	p.parked--
	p.mu.Unlock()
}

// ExpireQueued drops the queued Jobs that waited longer than the queue wait
// (--timeout, or a minute without one), calling their Dropped; the engine's clock
// calls it. It returns how many it dropped.
func (p *Pool) ExpireQueued(now time.Time) int {
	p.mu.Lock()
	if p.queue.n == 0 {
		p.mu.Unlock()
		return 0
	}
	out := p.queue.remove(nil, now.Add(-p.queueWait))
	p.queuedGauge.Store(int64(p.queue.n))
	p.mu.Unlock()
	dropAll(out)
	return len(out)
}

// DropQueued drops every queued Job of src (its connection closed).
func (p *Pool) DropQueued(src any) {
	p.mu.Lock()
	if p.queue.n == 0 {
		p.mu.Unlock()
		return
	}
	out := p.queue.remove(src, time.Time{})
	p.queuedGauge.Store(int64(p.queue.n))
	p.mu.Unlock()
	dropAll(out)
}

func dropAll(out []queued) {
	for _, e := range out {
		if d, ok := e.job.(Dropper); ok {
			d.Dropped()
		}
	}
}

// Queued returns how many Jobs wait in the queue.
func (p *Pool) Queued() int { return int(p.queuedGauge.Load()) }

// Parked returns how many handlers wait on their clients without a slot.
func (p *Pool) Parked() int { return int(p.parkedGauge.Load()) }
