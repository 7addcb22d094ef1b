package pool

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"
	"github.com/rs/zerolog"
)

// ErrOverload is returned by Submit when every handler slot is busy.
var ErrOverload = errors.New("pool: every handler slot is busy")

// Job is one request's work.
type Job interface {
	// Run serves the request on a pool goroutine; ctx ends at the deadline, or
	// earlier when the Job's Cancel func is called (the client went away).
	Run(ctx context.Context)
	// Expired is called once, from a timer goroutine, when the deadline passes before
	// Run returns; the context is canceled right after it returns.
	Expired()
	// Recovered is called on the pool goroutine after Run panicked, with the panic
	// value; the pool has already logged the stack (except for http.ErrAbortHandler).
	Recovered(v any)
	// String describes the request for the log of stuck handlers ("GET /x from ip:port").
	String() string
}

// Chain is a Job that has more Jobs to run after it on the same pool goroutine
// (the requests a client pipelined behind it): each gets its own context and
// deadline, and the slot stays held until the last one returns.
type Chain interface {
	Job
	// Next returns the Job to run after this one, or nil.
	Next() Job
}

// NewContext returns the context a Job will run with, before it is submitted, so
// that the request can be built with it (no copy of the request per run). The Job
// hands it back through a Context method; its deadline starts when the Job starts.
func (p *Pool) NewContext(parent context.Context) context.Context {
	return &reqContext{parent: parent}
}

// Context is the memory of a Job's context, for a submitter that allocates a
// structure per request anyway: embedded there, it saves NewContext's
// allocation. Use each Context for one Job only; it must not be copied.
type Context struct {
	c reqContext
}

// InitContext is NewContext using ctx's memory: it returns the context a Job
// will run with. ctx must be zero (never used before).
func (p *Pool) InitContext(ctx *Context, parent context.Context) context.Context {
	ctx.c.parent = parent
	return &ctx.c
}

// HandleOf returns the Handle of a context the pool gave a Job, or nil.
func HandleOf(ctx context.Context) *Handle {
	if c, ok := ctx.(*reqContext); ok {
		return (*Handle)(c)
	}
	return nil
}

// Stuck is a handler still running past its deadline.
type Stuck struct {
	What    string        // the Job's description
	Overdue time.Duration // how long past its deadline
}

// Pool runs Jobs on a bounded set of goroutines.
type Pool struct {
	workers *ants.PoolWithFunc
	size    int
	timeout time.Duration
	log     zerolog.Logger

	running atomic.Int64
	overdue atomic.Int64

	// The scheduler (sched.go): slots held, parked handlers, the fair queue.
	mu          sync.Mutex
	slots       int
	parked      int
	maxParked   int
	unparkers   []chan struct{}
	queue       fairQueue
	maxQueued   int
	queueWait   time.Duration
	queuedGauge atomic.Int64
	parkedGauge atomic.Int64

	stuckMu sync.Mutex
	stuck   map[*task]struct{}

	live      liveTasks // running tasks under the default deadline (clock.go)
	stopClock chan struct{}
	closeOnce sync.Once

	tasks sync.Pool
}

// New makes a pool of size goroutines whose Jobs get timeout each (0: no deadline).
func New(size int, timeout time.Duration, log zerolog.Logger) (*Pool, error) {
	if size <= 0 {
		return nil, fmt.Errorf("pool: size must be positive, got %d", size)
	}
	p := &Pool{size: size, timeout: timeout, log: log, stuck: make(map[*task]struct{}),
		maxParked: DefaultParkedPerSlot * size, maxQueued: DefaultMaxQueued, queueWait: timeout}
	if p.queueWait <= 0 {
		p.queueWait = time.Minute
	}
	w, err := ants.NewPoolWithFunc(p.goroutines(), p.run,
		ants.WithNonblocking(true),
		ants.WithExpiryDuration(10*time.Second),
		ants.WithLogger(antsLogger{log}),
	)
	if err != nil {
		return nil, fmt.Errorf("pool: starting ants: %w", err)
	}
	p.workers = w
	if timeout > 0 {
		now := time.Now()
		p.live.wallOffset.Store(now.UnixNano() - int64(now.Sub(monoBase)))
		p.stopClock = make(chan struct{})
		go p.runClock(tickFor(timeout), p.stopClock)
	}
	return p, nil
}

// DefaultParkedPerSlot sets how many handlers may be parked on their clients per
// handler slot; DefaultMaxQueued is the queue bound SetLimits changes.
const (
	DefaultParkedPerSlot = 4
	DefaultMaxQueued     = 16384
)

// goroutines bounds the pool's goroutines: the running handlers, the parked ones,
// and room for workers still returning to ants after their slot was passed on.
func (p *Pool) goroutines() int { return 2*p.size + p.maxParked }

// SetLimits changes how many handlers may park (maxParked; 0 = no parking) and
// how many Jobs the queue holds (maxQueued; 0 = no queue). Call it before Jobs run.
func (p *Pool) SetLimits(maxParked, maxQueued int) {
	p.mu.Lock()
	p.maxParked, p.maxQueued = max(maxParked, 0), max(maxQueued, 0)
	p.mu.Unlock()
	p.workers.Tune(p.goroutines())
}

// task carries one Job through the pool. Tasks are reused unless they expired.
type task struct {
	pool   *Pool
	job    Job
	parent context.Context
	ctx    *reqContext
	timer  *time.Timer  // a deadline the handler set (SetDeadline)
	state  atomic.Int32 // taskRunning → taskDone or taskExpired

	// mu orders the deadline changes of SetDeadline and Detach (handler
	// goroutines) with finish. runOne lists the task before the handler can
	// reach it.
	mu       sync.Mutex
	armed    bool // the timer is set to fire expire
	detached bool // Detach: the Job no longer counts as running, has no deadline

	// The default deadline, checked by the pool's clock (clock.go): due is
	// monoNow's terms, 0 for none; the list fields are guarded by live.mu.
	due                int64
	livePrev, liveNext *task
	onList             bool
}

const (
	taskRunning int32 = iota
	taskDone
	taskExpired
)

// CancelFunc ends a submitted Job's context early (the connection went away).
type CancelFunc func()

// Submit starts j on a pool goroutine, with a context whose values come from parent.
// It never blocks: a full pool returns ErrOverload. The returned handle cancels the
// Job's context early.
func (p *Pool) Submit(parent context.Context, j Job) (*Handle, error) {
	if !p.acquireSlot() {
		return nil, ErrOverload
	}
	ctx, err := p.start(parent, j)
	if err != nil {
		return nil, err
	}
	return (*Handle)(ctx), nil
}

// Handle lets the submitter cancel a running Job's context.
type Handle reqContext

// Cancel ends the Job's context with context.Canceled, if it has not ended yet.
func (h *Handle) Cancel() { (*reqContext)(h).cancel(&errCanceled) }

// prepare readies t to run j with a fresh context under parent.
func (p *Pool) prepare(t *task, parent context.Context, j Job) *reqContext {
	t.job = j
	t.parent = parent
	t.state.Store(taskRunning)
	var ctx *reqContext
	if cj, ok := j.(interface{ Context() context.Context }); ok {
		ctx, _ = cj.Context().(*reqContext)
	}
	if ctx == nil {
		ctx = &reqContext{parent: parent}
	}
	ctx.pool = p
	if p.timeout > 0 {
		t.due = monoNow() + int64(p.timeout)
		ctx.deadline.Store(t.due + p.live.wallOffset.Load())
	}
	t.ctx = ctx
	p.running.Add(1)
	return ctx
}

func (p *Pool) run(arg any) {
	t := arg.(*task)
	for {
		c, _ := t.job.(Chain)
		parent, ctx := t.parent, t.ctx
		p.runOne(t)
		if ctx.parked {
			// The Job returned while parked (its wait failed): it holds no slot.
			p.unpark(ctx)
		}
		var next Job
		if c != nil {
			next = c.Next()
		}
		slot := ctx.slot
		if next == nil {
			if !slot {
				return
			}
			// The slot passes on: to a parked handler, or to the next queued Job,
			// which runs right here (no hand-off to another goroutine).
			e, ok := p.takeTurn()
			if !ok {
				return
			}
			next, parent = e.job, e.parent
		}
		t, _ = p.tasks.Get().(*task)
		if t == nil {
			t = &task{pool: p}
		}
		p.prepare(t, parent, next).slot = slot
	}
}

func (p *Pool) runOne(t *task) {
	if t.due != 0 {
		p.live.add(t, t.due)
	}
	t.ctx.task.Store(t) // publishes the listed task to SetDeadline and Detach
	defer p.finish(t)
	t.job.Run(t.ctx)
}

func (p *Pool) finish(t *task) {
	if v := recover(); v != nil {
		if v != http.ErrAbortHandler {
			p.log.Error().Str("request", t.job.String()).Str("panic", fmt.Sprint(v)).
				Bytes("stack", debug.Stack()).Msg("handler panicked")
		}
		t.job.Recovered(v)
	}
	t.mu.Lock()
	reusable := !t.armed || t.timer.Stop()
	if t.due != 0 {
		// Off the clock's list before the state changes below: an expiry the
		// clock made is complete, counted overdue, when this sees it.
		p.live.remove(t)
		t.due = 0
	}
	detached := t.detached
	t.armed, t.detached = false, false
	t.ctx.task.Store(nil)
	t.mu.Unlock()
	if !detached {
		p.running.Add(-1)
	}
	if !t.state.CompareAndSwap(taskRunning, taskDone) {
		// The deadline fired first: this task was counted overdue.
		p.overdue.Add(-1)
		p.stuckMu.Lock()
		delete(p.stuck, t)
		p.stuckMu.Unlock()
		reusable = false
	}
	t.ctx.cancel(&errCanceled)
	if reusable {
		t.job, t.ctx, t.parent = nil, nil, nil
		p.tasks.Put(t)
	}
}

// expire runs on a timer goroutine when a deadline the handler set passes.
func (t *task) expire() {
	if !t.state.CompareAndSwap(taskRunning, taskExpired) {
		return
	}
	t.pool.countOverdue(t)
	t.expired()
}

// countOverdue counts t, just expired, as running past its deadline.
func (p *Pool) countOverdue(t *task) {
	p.overdue.Add(1)
	p.stuckMu.Lock()
	p.stuck[t] = struct{}{}
	p.stuckMu.Unlock()
}

// expired tells the Job its deadline passed and ends its context. The Job claims
// its response before its handler can see the context end, so a handler
// returning promptly on ctx.Done cannot pass off a cut response as complete.
func (t *task) expired() {
	t.job.Expired()
	t.ctx.cancel(&errDeadline)
}

// Running returns how many Jobs are running now, parked ones included.
func (p *Pool) Running() int { return int(p.running.Load()) }

// Overdue returns how many running Jobs are past their deadline.
func (p *Pool) Overdue() int { return int(p.overdue.Load()) }

// Size returns the number of handler slots.
func (p *Pool) Size() int { return p.size }

// Healthy reports false when every slot is held by a handler past its deadline: the
// worker can no longer serve anything and should be replaced.
func (p *Pool) Healthy() bool { return p.overdue.Load() < int64(p.size) }

// Stuck lists the Jobs running past their deadline, most overdue first.
func (p *Pool) Stuck() []Stuck {
	now := time.Now()
	p.stuckMu.Lock()
	out := make([]Stuck, 0, len(p.stuck))
	for t := range p.stuck {
		out = append(out, Stuck{What: t.job.String(), Overdue: now.Sub(time.Unix(0, t.ctx.deadline.Load()))})
	}
	p.stuckMu.Unlock()
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Overdue > out[j-1].Overdue; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Close stops the pool's idle goroutines and its clock; running Jobs finish on
// their own, no longer timed out.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		if p.stopClock != nil {
			close(p.stopClock)
		}
		p.workers.Release()
	})
}

// Wait waits until no Job runs or ctx ends.
func (p *Pool) Wait(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for p.running.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pool: %d handlers still running: %w", p.running.Load(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

type antsLogger struct{ log zerolog.Logger }

func (l antsLogger) Printf(format string, args ...any) { l.log.Warn().Msgf("ants: "+format, args...) }
