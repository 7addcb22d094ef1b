package supervisor

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// fakeProc records the signals the herd sends.
type fakeProc struct {
	pid     int
	signals []syscall.Signal
}

func (p *fakeProc) Pid() int { return p.pid }
func (p *fakeProc) Signal(sig syscall.Signal) error {
	p.signals = append(p.signals, sig)
	return nil
}

func (p *fakeProc) got(sig syscall.Signal) bool { return slices.Contains(p.signals, sig) }

// fakeOS starts fakeProcs and serves made-up RSS figures.
type fakeOS struct {
	procs    map[int]*fakeProc // by worker id
	specs    []workerSpec
	rssOf    map[int]int64 // by pid
	failNext int           // launches to fail
}

func newFakeOS() *fakeOS { return &fakeOS{procs: map[int]*fakeProc{}, rssOf: map[int]int64{}} }

func (f *fakeOS) launch(spec workerSpec) (Process, error) {
	if f.failNext > 0 {
		f.failNext--
		return nil, errors.New("exec failed")
	}
	p := &fakeProc{pid: 1000 + spec.ID}
	f.procs[spec.ID] = p
	f.specs = append(f.specs, spec)
	return p, nil
}

func (f *fakeOS) rss(pid int) (int64, error) { return f.rssOf[pid], nil }

// herdFixture drives a herd with a fake clock.
type herdFixture struct {
	t   *testing.T
	os  *fakeOS
	h   *herd
	now time.Time
}

func newFixture(t *testing.T, mutate func(*config.Config)) *herdFixture {
	cfg := config.Default()
	cfg.Workers = 2
	cfg.Timeout = 10 * time.Second
	cfg.GracefulTimeout = 5 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	f := &herdFixture{t: t, os: newFakeOS(), now: time.Unix(1_000_000, 0)}
	f.h = newHerd(zerolog.Nop(), f.os, cfg, 1, func(n int) int { return n })
	f.h.maintain(f.now)
	return f
}

func (f *herdFixture) advance(d time.Duration) {
	f.now = f.now.Add(d)
	f.h.maintain(f.now)
}

func (f *herdFixture) ready(ids ...int) {
	for _, id := range ids {
		f.h.onMessage(id, Message{Kind: MessageReady}, f.now)
	}
	f.h.maintain(f.now)
}

func (f *herdFixture) beat(id int, served uint64) {
	f.h.onMessage(id, Message{Kind: MessageBeat, Served: served}, f.now)
	f.h.maintain(f.now)
}

func (f *herdFixture) exit(id int, st exitStatus) bool {
	halt := f.h.onExit(id, st, f.now)
	f.h.maintain(f.now)
	return halt
}

func (f *herdFixture) proc(id int) *fakeProc {
	f.t.Helper()
	p := f.os.procs[id]
	if p == nil {
		f.t.Fatalf("worker %d was never started", id)
	}
	return p
}

// alive lists the ids of the workers the herd still tracks.
func (f *herdFixture) alive() []int {
	var ids []int
	for _, w := range f.h.byAge(func(*worker) bool { return true }) {
		ids = append(ids, w.id)
	}
	return ids
}

func (f *herdFixture) wantAlive(ids ...int) {
	f.t.Helper()
	if got := f.alive(); !slices.Equal(got, ids) {
		f.t.Fatalf("alive workers = %v, want %v", got, ids)
	}
}

func (f *herdFixture) wantSignals(id int, sigs ...syscall.Signal) {
	f.t.Helper()
	if got := f.proc(id).signals; !slices.Equal(got, sigs) {
		f.t.Fatalf("worker %d got signals %v, want %v", id, got, sigs)
	}
}

func TestHerdStartsTheConfiguredWorkers(t *testing.T) {
	f := newFixture(t, nil)
	f.wantAlive(1, 2)
	if f.h.settled() {
		t.Fatal("settled before any worker is ready")
	}
	f.ready(1, 2)
	if !f.h.settled() {
		t.Fatal("not settled with every worker ready")
	}
	if got := f.os.specs[0].MasterPID; got != 1 {
		t.Fatalf("spec master pid = %d, want 1", got)
	}
}

func TestHerdTimeouts(t *testing.T) {
	tests := []struct {
		name       string
		readyFirst bool
		beatEvery  time.Duration
		wait       time.Duration
		wantAbort  bool
	}{
		{"silent serving worker is aborted after timeout", true, 0, 10*time.Second + time.Millisecond, true},
		{"serving worker within timeout is left alone", true, 0, 10 * time.Second, false},
		{"beating worker is never aborted", true, 2 * time.Second, 60 * time.Second, false},
		{"worker that never reports ready is aborted after timeout", false, 0, 10*time.Second + time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *config.Config) { c.Workers = 1 })
			if tc.readyFirst {
				f.ready(1)
			}
			step := tc.wait
			if tc.beatEvery > 0 {
				step = tc.beatEvery
			}
			for elapsed := time.Duration(0); elapsed < tc.wait; elapsed += step {
				f.advance(step)
				if tc.beatEvery > 0 {
					f.beat(1, 0)
				}
			}
			if got := f.proc(1).got(syscall.SIGABRT); got != tc.wantAbort {
				t.Fatalf("aborted = %v, want %v (signals %v)", got, tc.wantAbort, f.proc(1).signals)
			}
			if tc.wantAbort {
				f.wantAlive(1, 2) // the replacement starts at once
			}
		})
	}
}

func TestHerdKillsAnAbortedWorkerThatLingers(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1 })
	f.ready(1)
	f.advance(11 * time.Second)
	f.wantSignals(1, syscall.SIGABRT)
	f.advance(AbortGrace)
	f.wantSignals(1, syscall.SIGABRT)
	f.advance(time.Millisecond)
	f.wantSignals(1, syscall.SIGABRT, syscall.SIGKILL)
	if f.exit(1, exitStatus{code: -1, signal: syscall.SIGKILL}) {
		t.Fatal("halt after reaping an aborted worker")
	}
	f.wantAlive(2)
	if f.h.crashes != 0 {
		t.Fatalf("an expected death counted as a crash")
	}
}

func TestHerdTimeoutZeroDisablesHeartbeatChecks(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1; c.Timeout = 0 })
	f.ready(1)
	f.advance(time.Hour)
	f.wantSignals(1)
}

func TestHerdMaxRequestsStartsTheSuccessorBeforeRetiring(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.Workers = 1
		c.MaxRequests = 100
		c.MaxRequestsJitter = 10
	})
	f.ready(1)
	f.beat(1, 109)
	f.wantAlive(1) // jitter (fake: the maximum) makes the limit 110
	f.beat(1, 110)
	f.wantAlive(1, 2)
	f.wantSignals(1) // keeps serving until its successor serves
	f.advance(50 * time.Millisecond)
	f.ready(2)
	f.wantSignals(1, syscall.SIGTERM)
	f.advance(5*time.Second + time.Millisecond)
	f.wantSignals(1, syscall.SIGTERM, syscall.SIGKILL)
}

func TestHerdMaxWorkerMemoryRecyclesAfterTheSuccessorServes(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1; c.MaxWorkerMemory = 1 << 20 })
	f.ready(1)
	f.os.rssOf[f.proc(1).pid] = 2 << 20
	f.advance(memoryCheckEvery)
	f.wantAlive(1, 2)
	f.wantSignals(1)
	f.ready(2)
	f.wantSignals(1, syscall.SIGTERM)
}

func TestHerdReloadSwapsWorkersWithoutLosingCapacity(t *testing.T) {
	f := newFixture(t, nil)
	f.ready(1, 2)
	cfg := f.h.cfg
	f.h.reload(cfg)
	f.h.maintain(f.now)
	f.wantAlive(1, 2, 3, 4)
	f.wantSignals(1)
	f.wantSignals(2)
	f.ready(3)
	f.wantSignals(1, syscall.SIGTERM) // oldest first, one for one
	f.wantSignals(2)
	f.ready(4)
	f.wantSignals(2, syscall.SIGTERM)
	f.exit(1, exitStatus{})
	f.exit(2, exitStatus{})
	f.wantAlive(3, 4)
	if !f.h.settled() {
		t.Fatal("not settled after the reload finished")
	}
}

func TestHerdReloadToFewerWorkersRetiresEveryOldOne(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 3 })
	f.ready(1, 2, 3)
	cfg := f.h.cfg
	cfg.Workers = 1
	f.h.reload(cfg)
	f.h.maintain(f.now)
	f.wantAlive(1, 2, 3, 4)
	f.ready(4)
	for id := 1; id <= 3; id++ {
		f.wantSignals(id, syscall.SIGTERM)
	}
}

func TestHerdSecondReloadRetiresBootingWorkersOfTheFirst(t *testing.T) {
	f := newFixture(t, nil)
	f.ready(1, 2)
	f.h.reload(f.h.cfg)
	f.h.maintain(f.now)
	f.wantAlive(1, 2, 3, 4)
	f.h.reload(f.h.cfg)
	f.h.maintain(f.now)
	f.wantSignals(3, syscall.SIGTERM) // never served, nothing to wait for
	f.wantSignals(4, syscall.SIGTERM)
	f.wantSignals(1)
	f.wantSignals(2)
	f.wantAlive(1, 2, 3, 4, 5, 6)
	f.ready(5, 6)
	f.wantSignals(1, syscall.SIGTERM)
	f.wantSignals(2, syscall.SIGTERM)
}

func TestHerdReloadThatCannotBootKeepsTheOldWorkers(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1 })
	f.ready(1)
	f.h.reload(f.h.cfg)
	f.h.maintain(f.now)
	f.wantAlive(1, 2)
	if f.exit(2, exitStatus{code: ExitBootFailed}) {
		t.Fatal("halted although the old worker serves")
	}
	f.wantSignals(1)
	f.wantAlive(1, 3) // first failure retried at once
	f.exit(3, exitStatus{code: ExitBootFailed})
	f.wantAlive(1) // then back-off
	f.advance(crashBackoff(2))
	f.wantAlive(1, 4)
}

func TestHerdBootFailureWithNothingServingHalts(t *testing.T) {
	f := newFixture(t, nil)
	if !f.exit(1, exitStatus{code: ExitBootFailed}) {
		t.Fatal("no halt when the only generation cannot boot")
	}
	if !f.h.halted {
		t.Fatal("halted flag not set")
	}
}

func TestHerdCrashBackoff(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1 })
	f.ready(1)
	f.exit(1, exitStatus{code: -1, signal: syscall.SIGKILL})
	f.wantAlive(2) // the first crash is replaced at once
	f.exit(2, exitStatus{code: 2})
	f.wantAlive()
	f.advance(crashBackoffBase - time.Millisecond)
	f.wantAlive()
	f.advance(time.Millisecond)
	f.wantAlive(3)
	f.advance(crashQuietPeriod + time.Second)
	f.exit(3, exitStatus{code: 2})
	f.wantAlive(4) // a quiet period forgives earlier crashes
}

func TestCrashBackoffGrowsAndIsCapped(t *testing.T) {
	tests := []struct {
		crashes int
		want    time.Duration
	}{
		{1, 0},
		{2, 100 * time.Millisecond},
		{3, 200 * time.Millisecond},
		{4, 400 * time.Millisecond},
		{8, 5 * time.Second},
		{1000, 5 * time.Second},
	}
	for _, tc := range tests {
		if got := crashBackoff(tc.crashes); got != tc.want {
			t.Errorf("crashBackoff(%d) = %v, want %v", tc.crashes, got, tc.want)
		}
	}
}

func TestHerdLaunchFailureBacksOff(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.Workers = 1 })
	f.ready(1)
	f.os.failNext = 2
	f.exit(1, exitStatus{code: 1}) // crash 1: immediate respawn, which fails (crash 2)
	f.wantAlive()
	f.advance(crashBackoff(2)) // the retry fails too (crash 3)
	f.wantAlive()
	f.advance(crashBackoff(3))
	if got := len(f.alive()); got != 1 {
		t.Fatalf("alive = %v after back-off, want one worker", f.alive())
	}
}

func TestHerdResize(t *testing.T) {
	f := newFixture(t, nil)
	f.ready(1, 2)
	f.h.resize(+1)
	f.h.maintain(f.now)
	f.wantAlive(1, 2, 3)
	f.ready(3)
	f.h.resize(-1)
	f.h.maintain(f.now)
	f.wantSignals(1, syscall.SIGTERM) // the oldest goes, as in Gunicorn
	f.exit(1, exitStatus{})
	f.h.resize(-1)
	f.h.resize(-1)
	f.h.resize(-1)
	f.h.maintain(f.now)
	if f.h.target != 1 {
		t.Fatalf("target = %d after many TTOU, want 1", f.h.target)
	}
	f.wantSignals(2, syscall.SIGTERM)
	f.wantSignals(3)
}

func TestHerdStopWorkersAndRestore(t *testing.T) {
	f := newFixture(t, nil)
	f.ready(1, 2)
	f.h.stopWorkers()
	f.h.maintain(f.now)
	f.wantSignals(1, syscall.SIGTERM)
	f.wantSignals(2, syscall.SIGTERM)
	f.exit(1, exitStatus{})
	f.exit(2, exitStatus{})
	f.wantAlive()
	f.h.restoreTarget()
	f.h.maintain(f.now)
	f.wantAlive(3, 4)
}

func TestHerdStop(t *testing.T) {
	tests := []struct {
		name     string
		graceful bool
		wantSig  syscall.Signal
		killAt   time.Duration
	}{
		{"graceful stop sends TERM and kills after graceful-timeout", true, syscall.SIGTERM, 5 * time.Second},
		{"fast stop sends QUIT and kills after the fast bound", false, syscall.SIGQUIT, min(5*time.Second, fastStopBound)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.ready(1, 2)
			f.h.stop(tc.graceful, f.now)
			f.h.maintain(f.now)
			f.wantSignals(1, tc.wantSig)
			f.exit(1, exitStatus{})
			if f.h.stopped(f.now) {
				t.Fatal("stopped with a worker left")
			}
			f.advance(tc.killAt + time.Millisecond)
			f.wantSignals(2, tc.wantSig, syscall.SIGKILL)
			f.exit(2, exitStatus{code: -1, signal: syscall.SIGKILL})
			if !f.h.stopped(f.now) {
				t.Fatal("not stopped with every worker reaped")
			}
			f.wantAlive()
		})
	}
}

func TestHerdFastStopEscalatesAGracefulOne(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.GracefulTimeout = time.Minute })
	f.ready(1, 2)
	f.h.stop(true, f.now)
	f.h.stop(false, f.now)
	f.wantSignals(1, syscall.SIGTERM, syscall.SIGQUIT)
	f.advance(fastStopBound + time.Millisecond)
	f.wantSignals(1, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGKILL)
}

func TestHerdStopGivesUpOnUnreapableWorkers(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.GracefulTimeout = time.Second })
	f.ready(1, 2)
	f.h.stop(true, f.now)
	f.advance(time.Second + time.Millisecond)
	if f.h.stopped(f.now) {
		t.Fatal("stopped right after SIGKILL")
	}
	f.advance(killedReapBound + time.Millisecond)
	if !f.h.stopped(f.now) {
		t.Fatal("a process that never gets reaped holds the master forever")
	}
}

func TestHerdIgnoresEventsOfUnknownWorkers(t *testing.T) {
	f := newFixture(t, nil)
	f.h.onMessage(99, Message{Kind: MessageReady}, f.now)
	if f.h.onExit(99, exitStatus{code: ExitBootFailed}, f.now) {
		t.Fatal("unknown worker halted the herd")
	}
	f.wantAlive(1, 2)
}
