package pool

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type dropJob struct {
	*testJob
	dropped chan struct{}
}

func (j *dropJob) Dropped() { close(j.dropped) }

func newDropJob(run func(context.Context)) *dropJob {
	return &dropJob{testJob: newJob(run), dropped: make(chan struct{})}
}

func TestParkedHandlerGivesItsSlotAndTakesOneBack(t *testing.T) {
	p, _ := New(1, time.Minute, zerolog.Nop())
	defer p.Close()
	parked, resume, unparked := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	slow := newJob(func(ctx context.Context) {
		if !Park(ctx) {
			t.Error("Park refused with room to park")
		}
		close(parked)
		<-resume
		unparked <- Unpark(ctx)
	})
	if _, err := p.Submit(context.Background(), slow); err != nil {
		t.Fatal(err)
	}
	<-parked
	if p.Parked() != 1 {
		t.Fatalf("Parked = %d", p.Parked())
	}
	// The slot is free: another job runs while the first waits on its client.
	release := make(chan struct{})
	other := newJob(func(context.Context) { <-release })
	if _, err := p.Submit(context.Background(), other); err != nil {
		t.Fatalf("submit beside a parked handler: %v", err)
	}
	// Both slots' worth now: a third is refused, and the parked one must wait to run.
	if _, err := p.Submit(context.Background(), newJob(func(context.Context) {})); !errors.Is(err, ErrOverload) {
		t.Fatalf("third submit: %v", err)
	}
	close(resume)
	select {
	case err := <-unparked:
		t.Fatalf("Unpark returned %v while the only slot was busy", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-unparked; err != nil {
		t.Fatalf("Unpark: %v", err)
	}
	<-slow.done
	waitFor(t, func() bool { return p.Running() == 0 && p.Parked() == 0 }, "the pool to empty")
	// Every slot came back.
	if _, err := p.Submit(context.Background(), newJob(func(context.Context) {})); err != nil {
		t.Fatalf("slot leaked: %v", err)
	}
}

func TestParkIsBoundedByMaxParked(t *testing.T) {
	p, _ := New(2, time.Minute, zerolog.Nop())
	defer p.Close()
	p.SetLimits(1, 0)
	results := make(chan bool, 2)
	release := make(chan struct{})
	for i := 0; i < 2; i++ {
		j := newJob(func(ctx context.Context) {
			results <- Park(ctx)
			<-release
			_ = Unpark(ctx)
		})
		if _, err := p.Submit(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	a, b := <-results, <-results
	if a == b {
		t.Fatalf("Park results %v %v, want exactly one parked", a, b)
	}
	close(release)
	waitFor(t, func() bool { return p.Running() == 0 && p.Parked() == 0 }, "the pool to empty")
}

func TestUnparkGivesUpWhenTheContextEnds(t *testing.T) {
	p, _ := New(1, 100*time.Millisecond, zerolog.Nop())
	defer p.Close()
	errc := make(chan error, 1)
	release := make(chan struct{})
	j := newJob(func(ctx context.Context) {
		Park(ctx)
		// Take the slot away, then try to come back: the deadline ends the wait.
		_, _ = p.Submit(context.Background(), newJob(func(context.Context) { <-release }))
		errc <- Unpark(ctx)
	})
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Unpark = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Unpark waited past the deadline")
	}
	close(release)
	waitFor(t, func() bool { return p.Running() == 0 }, "the pool to empty")
	if _, err := p.Submit(context.Background(), newJob(func(context.Context) {})); err != nil {
		t.Fatalf("slot leaked: %v", err)
	}
}

func TestQueueServesSourcesRoundRobin(t *testing.T) {
	p, _ := New(1, time.Minute, zerolog.Nop())
	defer p.Close()
	release := make(chan struct{})
	blocker := newJob(func(context.Context) { <-release })
	if err := p.Enqueue(context.Background(), blocker, "x"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var jobs []*testJob
	add := func(src string, n int) {
		for i := 0; i < n; i++ {
			j := newJob(func(context.Context) { mu.Lock(); order = append(order, src); mu.Unlock() })
			jobs = append(jobs, j)
			if err := p.Enqueue(context.Background(), j, src); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("a", 4) // a busy connection queues first...
	add("b", 2) // ...and the others still get every other turn
	add("c", 1)
	if p.Queued() != 7 {
		t.Fatalf("Queued = %d", p.Queued())
	}
	close(release)
	for _, j := range jobs {
		<-j.done
	}
	got := ""
	for _, s := range order {
		got += s
	}
	if got != "abcaba" && got != "abcabaa" {
		t.Fatalf("order %q, want round-robin abcabaa", got)
	}
}

func TestQueueBoundAndExpiry(t *testing.T) {
	p, _ := New(1, 50*time.Millisecond, zerolog.Nop())
	defer p.Close()
	p.SetLimits(0, 2)
	release := make(chan struct{})
	if err := p.Enqueue(context.Background(), newJob(func(context.Context) { <-release }), 1); err != nil {
		t.Fatal(err)
	}
	a, b := newDropJob(func(context.Context) {}), newDropJob(func(context.Context) {})
	if err := p.Enqueue(context.Background(), a, 1); err != nil {
		t.Fatal(err)
	}
	if err := p.Enqueue(context.Background(), b, 2); err != nil {
		t.Fatal(err)
	}
	if err := p.Enqueue(context.Background(), newJob(func(context.Context) {}), 3); !errors.Is(err, ErrOverload) {
		t.Fatalf("enqueue past the bound: %v", err)
	}
	p.DropQueued(2)
	<-b.dropped
	if n := p.ExpireQueued(time.Now()); n != 0 {
		t.Fatalf("expired %d before the queue wait", n)
	}
	if n := p.ExpireQueued(time.Now().Add(time.Second)); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	<-a.dropped
	close(release)
	waitFor(t, func() bool { return p.Running() == 0 && p.Queued() == 0 }, "the pool to empty")
}

// A Chain that waited in the queue runs whole when its turn comes, on the slot
// it was given, each Job with a Handle of its own, before the next source's Job.
func TestQueuedChainRunsWholeOnItsTurn(t *testing.T) {
	p, _ := New(1, time.Minute, zerolog.Nop())
	defer p.Close()
	release := make(chan struct{})
	if err := p.Enqueue(context.Background(), newJob(func(context.Context) { <-release }), "holder"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var handles []*Handle
	step := func(name string) *testJob {
		return newJob(func(ctx context.Context) {
			mu.Lock()
			order = append(order, name)
			handles = append(handles, HandleOf(ctx))
			mu.Unlock()
		})
	}
	third := step("a3")
	head := &chainJob{step("a1"), &chainJob{step("a2"), third}}
	other := step("b1")
	if err := p.Enqueue(context.Background(), head, "a"); err != nil {
		t.Fatal(err)
	}
	if err := p.Enqueue(context.Background(), other, "b"); err != nil {
		t.Fatal(err)
	}
	if p.Queued() != 2 {
		t.Fatalf("queued %d, want the chain and the other source's job", p.Queued())
	}
	close(release)
	<-third.done
	<-other.done
	waitFor(t, func() bool { return p.Running() == 0 && p.Queued() == 0 }, "the pool to empty")
	mu.Lock()
	got, gotHandles := append([]string(nil), order...), append([]*Handle(nil), handles...)
	mu.Unlock()
	if want := []string{"a1", "a2", "a3", "b1"}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] ||
		got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("order %v, want %v (one slot: the chain holds it to its end)", got, want)
	}
	for i, h := range gotHandles {
		if h == nil {
			t.Fatalf("job %s ran without a Handle", got[i])
		}
	}
	// The slot is free again: exactly one.
	block := make(chan struct{})
	if err := p.Enqueue(context.Background(), newJob(func(context.Context) { <-block }), "c"); err != nil {
		t.Fatal(err)
	}
	last := step("c2")
	if err := p.Enqueue(context.Background(), last, "d"); err != nil {
		t.Fatal(err)
	}
	if p.Queued() != 1 {
		t.Fatalf("queued %d behind one busy slot, want 1", p.Queued())
	}
	close(block)
	<-last.done
}
