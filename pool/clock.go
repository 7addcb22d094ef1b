package pool

import (
	"sync"
	"sync/atomic"
	"time"
)

// The default deadline (the pool's timeout, --timeout) of every running Job is
// checked by one clock per pool, a ticker, instead of a runtime timer per Job:
// arming and stopping a timer cost every request two timer-heap changes and a
// clock read under the timer lock, which a pipelined request (3 µs of CPU) felt.
// A Job is expired within one tick after its deadline (tickFor: a twentieth of
// the timeout, at most 100 ms, the engine's own clock step); its context's
// Deadline is exact. A deadline a handler sets itself (SetDeadline) gets a
// runtime timer, as it may be short and the handler expects it kept.

// monoBase anchors the monotonic readings: monoNow is one vDSO call where
// time.Now makes two (wall and monotonic).
var monoBase = time.Now()

// monoNow returns the monotonic nanoseconds since monoBase.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// tickFor returns how often the clock of a pool with this timeout looks.
func tickFor(timeout time.Duration) time.Duration {
	return min(max(timeout/20, time.Millisecond), 100*time.Millisecond)
}

// liveTasks holds the running tasks whose default deadline the clock checks,
// in an intrusive list: adding and removing one allocate nothing.
type liveTasks struct {
	mu   sync.Mutex
	head *task
	// wallOffset is the wall clock minus monoNow, refreshed every tick: a
	// context's Deadline is its monotonic due plus this offset (unix ns).
	wallOffset atomic.Int64
}

// add puts t on the list, due at due (monoNow's terms).
func (l *liveTasks) add(t *task, due int64) {
	l.mu.Lock()
	t.due = due
	t.livePrev, t.liveNext = nil, l.head
	if l.head != nil {
		l.head.livePrev = t
	}
	l.head = t
	t.onList = true
	l.mu.Unlock()
}

// removeLocked takes t off the list; the caller holds l.mu.
func (l *liveTasks) removeLocked(t *task) {
	if !t.onList {
		return
	}
	if t.livePrev != nil {
		t.livePrev.liveNext = t.liveNext
	} else {
		l.head = t.liveNext
	}
	if t.liveNext != nil {
		t.liveNext.livePrev = t.livePrev
	}
	t.livePrev, t.liveNext, t.onList = nil, nil, false
}

// remove takes t off the list, if it is there.
func (l *liveTasks) remove(t *task) {
	l.mu.Lock()
	l.removeLocked(t)
	l.mu.Unlock()
}

// takeOff takes t off the list for SetDeadline or Detach, which replace its
// default deadline. It reports false when the clock has already expired t.
func (l *liveTasks) takeOff(t *task) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(t)
	return t.state.Load() == taskRunning
}

// runClock expires the tasks past their default deadline until stop closes.
func (p *Pool) runClock(tick time.Duration, stop <-chan struct{}) {
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tk.C:
			p.live.wallOffset.Store(now.UnixNano() - int64(now.Sub(monoBase)))
			p.expireDue(int64(now.Sub(monoBase)))
		}
	}
}

// expireDue expires every listed task due by now. The task's state changes and
// the overdue accounting happen under the list's lock, so finish, which takes
// its task off the list first, sees them complete; the Jobs' Expired callbacks
// run on their own goroutines, as a timer's would.
func (p *Pool) expireDue(now int64) {
	var due []*task
	p.live.mu.Lock()
	for t := p.live.head; t != nil; {
		next := t.liveNext
		if t.due <= now {
			p.live.removeLocked(t)
			if t.state.CompareAndSwap(taskRunning, taskExpired) {
				p.countOverdue(t)
				due = append(due, t)
			}
		}
		t = next
	}
	p.live.mu.Unlock()
	for _, t := range due {
		go t.expired()
	}
}
