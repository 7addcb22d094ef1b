package pool

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestSetDeadline(t *testing.T) {
	cases := []struct {
		name        string
		timeout     time.Duration
		move        func() time.Time // the handler's new deadline; zero lifts it
		runFor      time.Duration
		wantExpired bool
	}{
		{"extended past --timeout runs to its end", 50 * time.Millisecond, func() time.Time { return time.Now().Add(time.Minute) }, 200 * time.Millisecond, false},
		{"lifted runs to its end", 50 * time.Millisecond, func() time.Time { return time.Time{} }, 200 * time.Millisecond, false},
		{"shortened expires early", time.Minute, func() time.Time { return time.Now().Add(20 * time.Millisecond) }, 5 * time.Second, true},
		{"set with no --timeout expires", 0, func() time.Time { return time.Now().Add(20 * time.Millisecond) }, 5 * time.Second, true},
		{"in the past expires at once", time.Minute, func() time.Time { return time.Now().Add(-time.Second) }, 5 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := New(2, tc.timeout, zerolog.Nop())
			defer p.Close()
			var setErr error
			var ctxErr error
			j := newJob(func(ctx context.Context) {
				d := tc.move()
				setErr = HandleOf(ctx).SetDeadline(d)
				if got, ok := ctx.Deadline(); ok != !d.IsZero() || ok && !got.Equal(time.Unix(0, d.UnixNano())) {
					t.Errorf("ctx.Deadline() = %v %v after SetDeadline(%v)", got, ok, d)
				}
				select {
				case <-ctx.Done():
					ctxErr = ctx.Err()
				case <-time.After(tc.runFor):
				}
			})
			if _, err := p.Submit(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			<-j.done
			if setErr != nil {
				t.Fatalf("SetDeadline: %v", setErr)
			}
			if got := j.expired.Load() == 1; got != tc.wantExpired {
				t.Fatalf("expired %v, want %v (ctx err %v)", got, tc.wantExpired, ctxErr)
			}
			if tc.wantExpired != errors.Is(ctxErr, context.DeadlineExceeded) {
				t.Fatalf("context ended with %v", ctxErr)
			}
			waitFor(t, func() bool { return p.Running() == 0 && p.Overdue() == 0 }, "the pool to settle")
		})
	}
}

func TestSetDeadlineAfterTheJobIsTooLate(t *testing.T) {
	p, _ := New(1, time.Minute, zerolog.Nop())
	defer p.Close()
	var h *Handle
	j := newJob(func(ctx context.Context) { h = HandleOf(ctx) })
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	<-j.done
	waitFor(t, func() bool { return p.Running() == 0 }, "the job to finish")
	if err := h.SetDeadline(time.Time{}); !errors.Is(err, ErrTooLate) {
		t.Fatalf("SetDeadline after the job: %v, want ErrTooLate", err)
	}
	if h.Detach() {
		t.Fatal("Detach after the job succeeded")
	}
}

func TestSetDeadlineAfterExpiryIsTooLate(t *testing.T) {
	p, _ := New(1, 10*time.Millisecond, zerolog.Nop())
	defer p.Close()
	var err error
	j := newJob(func(ctx context.Context) {
		<-ctx.Done()
		err = HandleOf(ctx).SetDeadline(time.Now().Add(time.Hour))
	})
	if _, serr := p.Submit(context.Background(), j); serr != nil {
		t.Fatal(serr)
	}
	<-j.done
	if !errors.Is(err, ErrTooLate) || j.expired.Load() != 1 {
		t.Fatalf("SetDeadline after expiry: %v (expired %d)", err, j.expired.Load())
	}
}

func TestDetachedJobLeavesTheAccounting(t *testing.T) {
	p, _ := New(1, 20*time.Millisecond, zerolog.Nop())
	defer p.Close()
	release := make(chan struct{})
	detached := make(chan bool, 1)
	var ctxErr error
	j := newJob(func(ctx context.Context) {
		detached <- HandleOf(ctx).Detach()
		select {
		case <-ctx.Done():
			ctxErr = ctx.Err()
		case <-release:
		}
	})
	if _, err := p.Submit(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if !<-detached {
		t.Fatal("Detach failed")
	}
	if p.Running() != 0 {
		t.Fatalf("a detached job counts as running: %d", p.Running())
	}
	time.Sleep(100 * time.Millisecond) // five times the timeout: it would have expired
	if j.expired.Load() != 0 || p.Overdue() != 0 || !p.Healthy() || len(p.Stuck()) != 0 {
		t.Fatalf("a detached job was timed out: expired %d overdue %d", j.expired.Load(), p.Overdue())
	}
	close(release)
	<-j.done
	if ctxErr != nil {
		t.Fatalf("a detached job's context ended: %v", ctxErr)
	}
	waitFor(t, func() bool { return p.Running() == 0 }, "running stays at 0")
	if p.Running() < 0 {
		t.Fatalf("running went negative: %d", p.Running())
	}
}
