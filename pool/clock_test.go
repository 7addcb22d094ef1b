package pool

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestTickFor(t *testing.T) {
	for _, tc := range []struct{ timeout, want time.Duration }{
		{30 * time.Second, 100 * time.Millisecond},
		{time.Second, 50 * time.Millisecond},
		{10 * time.Millisecond, time.Millisecond},
		{time.Microsecond, time.Millisecond},
	} {
		if got := tickFor(tc.timeout); got != tc.want {
			t.Errorf("tickFor(%v) = %v, want %v", tc.timeout, got, tc.want)
		}
	}
}

// The clock checks the default deadline; the context reports it exactly, in
// wall-clock terms.
func TestDefaultDeadlineIsExact(t *testing.T) {
	const timeout = time.Minute
	p, _ := New(3, timeout, zerolog.Nop()) // a slot per job: a finished one frees its slot after done
	defer p.Close()
	for i := 0; i < 3; i++ {
		before := time.Now()
		var d time.Time
		var after time.Time
		j := newJob(func(ctx context.Context) { d, _ = ctx.Deadline(); after = time.Now() })
		if _, err := p.Submit(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		<-j.done
		if lo, hi := before.Add(timeout-time.Millisecond), after.Add(timeout+time.Millisecond); d.Before(lo) || d.After(hi) {
			t.Fatalf("deadline %v, want within [%v, %v]", d, lo, hi)
		}
	}
}

// A handler that runs past --timeout is expired within about a tick of it, once.
func TestClockExpiresOverdueJob(t *testing.T) {
	const timeout = 40 * time.Millisecond
	p, _ := New(1, timeout, zerolog.Nop())
	defer p.Close()
	var took time.Duration
	j := newJob(func(ctx context.Context) {
		start := time.Now()
		<-ctx.Done()
		took = time.Since(start)
		if ctx.Err() != context.DeadlineExceeded {
			t.Errorf("context ended with %v", ctx.Err())
		}
	})
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	<-j.done
	if took < timeout-time.Millisecond || j.expired.Load() != 1 {
		t.Fatalf("expired after %v (timeout %v), Expired called %d times", took, timeout, j.expired.Load())
	}
	waitFor(t, func() bool { return p.Overdue() == 0 && p.Running() == 0 && len(p.Stuck()) == 0 }, "the accounting to settle")
}

// Jobs finishing right at their deadline race the clock: each is expired at most
// once, and the overdue and stuck accounting returns to zero whichever wins.
func TestClockRacesFinishingJobs(t *testing.T) {
	const timeout = 2 * time.Millisecond
	p, _ := New(8, timeout, zerolog.Nop())
	defer p.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var jobs []*testJob
	for i := 0; i < 400; i++ {
		j := newJob(func(ctx context.Context) {
			spin := time.Duration(i%5) * time.Millisecond / 2 // 0 to 2 ms: around the deadline
			for start := time.Now(); time.Since(start) < spin; {
			}
		})
		for {
			if _, err := p.Submit(context.Background(), j); err == nil {
				break
			}
			time.Sleep(100 * time.Microsecond) // every slot busy
		}
		mu.Lock()
		jobs = append(jobs, j)
		mu.Unlock()
		wg.Add(1)
		go func() { <-j.done; wg.Done() }()
	}
	wg.Wait()
	expired := 0
	for _, j := range jobs {
		n := j.expired.Load()
		if n > 1 {
			t.Fatalf("a job expired %d times", n)
		}
		expired += int(n)
	}
	t.Logf("%d of %d jobs expired", expired, len(jobs))
	waitFor(t, func() bool { return p.Overdue() == 0 && p.Running() == 0 && len(p.Stuck()) == 0 && p.Healthy() },
		"overdue, running and stuck back to zero")
}

// Close stops the clock: nothing is expired after it.
func TestCloseStopsClock(t *testing.T) {
	p, _ := New(1, 5*time.Millisecond, zerolog.Nop())
	p.Close()
	p.Close() // twice is harmless
	select {
	case <-p.stopClock:
	default:
		t.Fatal("the clock's stop channel is open after Close")
	}
}
