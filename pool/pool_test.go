package pool

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type testJob struct {
	run       func(ctx context.Context)
	expired   atomic.Int32
	recovered atomic.Value
	done      chan struct{}
}

func newJob(run func(ctx context.Context)) *testJob {
	return &testJob{run: run, done: make(chan struct{})}
}

func (j *testJob) Run(ctx context.Context) { defer close(j.done); j.run(ctx) }
func (j *testJob) Expired()                { j.expired.Add(1) }
func (j *testJob) Recovered(v any)         { j.recovered.Store(v) }
func (j *testJob) String() string          { return "GET /test" }

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestJobRunsWithParentValues(t *testing.T) {
	p, err := New(2, time.Minute, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	var got any
	var deadlineSet bool
	j := newJob(func(ctx context.Context) {
		got = ctx.Value(key{})
		_, deadlineSet = ctx.Deadline()
	})
	if _, err := p.Submit(parent, j); err != nil {
		t.Fatal(err)
	}
	<-j.done
	if got != "v" || !deadlineSet {
		t.Fatalf("value %v deadline %v", got, deadlineSet)
	}
	waitFor(t, func() bool { return p.Running() == 0 }, "running to drop to 0")
}

func TestFullPoolAnswersOverloadWithoutBlocking(t *testing.T) {
	p, _ := New(1, 0, zerolog.Nop())
	defer p.Close()
	release := make(chan struct{})
	j := newJob(func(context.Context) { <-release })
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Submit(context.Background(), newJob(func(context.Context) {})); !errors.Is(err, ErrOverload) {
		t.Fatalf("second submit: %v, want ErrOverload", err)
	}
	close(release)
	<-j.done
}

func TestDeadlineCancelsContextAndCountsOverdue(t *testing.T) {
	p, _ := New(1, 20*time.Millisecond, zerolog.Nop())
	defer p.Close()
	release := make(chan struct{})
	var ctxErr atomic.Value
	j := newJob(func(ctx context.Context) {
		<-ctx.Done()
		ctxErr.Store(ctx.Err())
		<-release // a stuck handler ignoring its context
	})
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return j.expired.Load() == 1 }, "Expired")
	waitFor(t, func() bool { return ctxErr.Load() != nil }, "ctx done")
	if ctxErr.Load() != context.DeadlineExceeded {
		t.Fatalf("ctx err %v", ctxErr.Load())
	}
	if p.Overdue() != 1 || p.Healthy() {
		t.Fatalf("overdue %d healthy %v: a pool full of overdue handlers is sick", p.Overdue(), p.Healthy())
	}
	if s := p.Stuck(); len(s) != 1 || s[0].What != "GET /test" {
		t.Fatalf("stuck %+v", s)
	}
	close(release)
	<-j.done
	waitFor(t, func() bool { return p.Overdue() == 0 && p.Healthy() }, "recovery")
}

func TestHandleCancelEndsContext(t *testing.T) {
	p, _ := New(1, 0, zerolog.Nop())
	defer p.Close()
	started := make(chan struct{})
	var ctxErr error
	j := newJob(func(ctx context.Context) { close(started); <-ctx.Done(); ctxErr = ctx.Err() })
	h, err := p.Submit(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	h.Cancel()
	<-j.done
	if ctxErr != context.Canceled || j.expired.Load() != 0 {
		t.Fatalf("err %v expired %d", ctxErr, j.expired.Load())
	}
}

func TestPanicIsRecoveredAndReported(t *testing.T) {
	for _, v := range []any{"boom", http.ErrAbortHandler} {
		p, _ := New(1, time.Second, zerolog.Nop())
		j := newJob(func(context.Context) { panic(v) })
		if _, err := p.Submit(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return j.recovered.Load() != nil }, "Recovered")
		if j.recovered.Load() != v {
			t.Fatalf("recovered %v", j.recovered.Load())
		}
		waitFor(t, func() bool { return p.Running() == 0 }, "slot freed")
		// The pool keeps serving after a panic.
		j2 := newJob(func(context.Context) {})
		if _, err := p.Submit(context.Background(), j2); err != nil {
			t.Fatal(err)
		}
		<-j2.done
		p.Close()
	}
}

func BenchmarkSubmit(b *testing.B) {
	p, _ := New(64, time.Minute, zerolog.Nop())
	defer p.Close()
	done := make(chan struct{}, 64)
	j := &benchJob{done: done}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for {
			if _, err := p.Submit(context.Background(), j); err == nil {
				break
			}
		}
		<-done
	}
}

type benchJob struct{ done chan struct{} }

func (j *benchJob) Run(context.Context) { j.done <- struct{}{} }
func (j *benchJob) Expired()            {}
func (j *benchJob) Recovered(any)       {}
func (j *benchJob) String() string      { return "bench" }

type chainJob struct {
	*testJob
	next Job
}

func (c *chainJob) Next() Job { return c.next }

func TestChainRunsEachJobWithItsOwnDeadlineOnOneSlot(t *testing.T) {
	p, _ := New(1, 50*time.Millisecond, zerolog.Nop())
	defer p.Close()
	var order []int
	var ctxs []context.Context
	third := newJob(func(ctx context.Context) { order = append(order, 3); ctxs = append(ctxs, ctx) })
	second := newJob(func(ctx context.Context) {
		order = append(order, 2)
		ctxs = append(ctxs, ctx)
		<-ctx.Done() // outlives its own deadline
	})
	first := newJob(func(ctx context.Context) {
		order = append(order, 1)
		ctxs = append(ctxs, ctx)
		time.Sleep(30 * time.Millisecond) // within its deadline
	})
	head := &chainJob{first, &chainJob{second, third}}
	if _, err := p.Submit(context.Background(), head); err != nil {
		t.Fatal(err)
	}
	// The slot is held by the chain: a second submit is refused.
	if _, err := p.Submit(context.Background(), newJob(func(context.Context) {})); !errors.Is(err, ErrOverload) {
		t.Fatalf("submit during a chain: %v", err)
	}
	<-third.done
	if len(order) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 3 {
		t.Fatalf("order %v", order)
	}
	if first.expired.Load() != 0 || second.expired.Load() != 1 || third.expired.Load() != 0 {
		t.Fatalf("expired: %d %d %d", first.expired.Load(), second.expired.Load(), third.expired.Load())
	}
	if ctxs[2].Err() != nil && ctxs[2] == ctxs[1] {
		t.Fatal("the third job reused the second's context")
	}
	if HandleOf(ctxs[0]) == nil {
		t.Fatal("HandleOf does not know the pool's context")
	}
}

type ctxJob struct {
	*testJob
	ctx context.Context
}

func (c *ctxJob) Context() context.Context { return c.ctx }

func TestJobRunsWithTheContextMadeBeforeSubmit(t *testing.T) {
	type key struct{}
	for _, tc := range []struct {
		name string
		make func(p *Pool, parent context.Context) context.Context
	}{
		{"NewContext", func(p *Pool, parent context.Context) context.Context { return p.NewContext(parent) }},
		{"InitContext", func(p *Pool, parent context.Context) context.Context {
			return p.InitContext(new(Context), parent)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := New(1, time.Minute, zerolog.Nop())
			defer p.Close()
			made := tc.make(p, context.WithValue(context.Background(), key{}, "v"))
			if _, ok := made.Deadline(); ok {
				t.Fatal("the deadline must start when the job starts, not before")
			}
			var got context.Context
			j := &ctxJob{newJob(func(ctx context.Context) { got = ctx }), made}
			h, err := p.Submit(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			<-j.done
			if got != made || HandleOf(made) != h {
				t.Fatal("the job did not run with the context made for it")
			}
			if _, ok := got.Deadline(); !ok {
				t.Fatal("no deadline once running")
			}
			if got.Value(key{}) != "v" {
				t.Fatal("the parent's values are lost")
			}
			select {
			case <-got.Done():
			default:
				t.Fatal("the context did not end when the job returned")
			}
		})
	}
}

func TestInitContextAllocatesNothing(t *testing.T) {
	p, _ := New(1, time.Minute, zerolog.Nop())
	defer p.Close()
	var mem Context
	if n := testing.AllocsPerRun(100, func() {
		mem = Context{}
		_ = p.InitContext(&mem, context.Background())
	}); n != 0 {
		t.Fatalf("InitContext allocated %v times, want 0", n)
	}
}
