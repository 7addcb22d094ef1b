package supervisor

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// newTestMaster is a Master over fake processes: its signal decisions are tested
// without sending real signals.
func newTestMaster(t *testing.T, reload func() (config.Config, error)) (*Master, *herdFixture) {
	f := newFixture(t, nil)
	f.ready(1, 2)
	m := &Master{
		opts:     Options{Reload: reload},
		log:      zerolog.Nop(),
		herd:     f.h,
		notifier: &Notifier{},
		launcher: &execLauncher{},
		done:     make(chan struct{}),
		events:   make(chan event, 8),
	}
	return m, f
}

func TestMasterReloadKeepsTheConfigurationWhenTheNewOneFails(t *testing.T) {
	m, f := newTestMaster(t, func() (config.Config, error) { return config.Config{}, errors.New("bad file") })
	m.onSignal(syscall.SIGHUP, f.now)
	if f.h.gen != 1 {
		t.Fatalf("generation %d after a failed reload, want 1", f.h.gen)
	}
	f.h.maintain(f.now)
	f.wantAlive(1, 2)
}

func TestMasterReloadKeepsTheBoundListeners(t *testing.T) {
	m, f := newTestMaster(t, func() (config.Config, error) {
		cfg := config.Default()
		cfg.Bind = []string{"127.0.0.1:9999"}
		cfg.Workers = 3
		return cfg, nil
	})
	before := f.h.cfg.Bind
	m.onSignal(syscall.SIGHUP, f.now)
	if f.h.gen != 2 || f.h.target != 3 {
		t.Fatalf("gen %d target %d after reload, want 2 and 3", f.h.gen, f.h.target)
	}
	if len(f.h.cfg.Bind) != len(before) || f.h.cfg.Bind[0] != before[0] {
		t.Fatalf("bind changed to %v on HUP; the listeners cannot", f.h.cfg.Bind)
	}
}

func TestMasterWINCHNeedsAnUpgradeInProgress(t *testing.T) {
	m, f := newTestMaster(t, nil)
	m.onSignal(syscall.SIGWINCH, f.now)
	if f.h.target != 2 {
		t.Fatalf("WINCH without an upgrade changed the target to %d (terminals send it on resize)", f.h.target)
	}
	self, _ := os.FindProcess(os.Getpid()) // stands in for a new master
	m.child = self
	m.onSignal(syscall.SIGWINCH, f.now)
	f.h.maintain(f.now)
	f.wantSignals(1, syscall.SIGTERM)
	f.wantSignals(2, syscall.SIGTERM)
	// The new master dies: this master takes its workers back.
	m.onNewMasterExit(event{kind: eventMasterExit, pid: self.Pid, status: exitStatus{code: 1}})
	f.exit(1, exitStatus{})
	f.exit(2, exitStatus{})
	f.wantAlive(3, 4)
}

func TestMasterUSR2IsIgnoredByAnUnpromotedMaster(t *testing.T) {
	m, f := newTestMaster(t, nil)
	m.parent = os.Getppid()
	m.onSignal(syscall.SIGUSR2, f.now)
	if m.child != nil {
		t.Fatal("an upgrade started an upgrade of its own before its old master left")
	}
}

func TestMasterWhileStoppingOnlyEscalates(t *testing.T) {
	m, f := newTestMaster(t, nil)
	m.herd.stop(true, f.now)
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGUSR2} {
		m.onSignal(sig, f.now)
	}
	if f.h.gen != 1 || f.h.target != 0 || m.child != nil {
		t.Fatalf("a stopping master acted on a signal: gen %d target %d", f.h.gen, f.h.target)
	}
	m.onSignal(syscall.SIGQUIT, f.now)
	f.wantSignals(1, syscall.SIGTERM, syscall.SIGQUIT)
	f.advance(fastStopBound + time.Millisecond)
	f.wantSignals(1, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGKILL)
}

func TestMasterTERMWithShutdownDelayServesOnThenStops(t *testing.T) {
	m, f := newTestMaster(t, nil)
	f.h.cfg.ShutdownDelay = 2 * time.Second
	m.onSignal(syscall.SIGTERM, f.now)
	f.h.maintain(f.now)
	f.wantSignals(1, DrainSignal)
	f.wantSignals(2, DrainSignal)
	if m.closed || f.h.stopping {
		t.Fatal("TERM with a shutdown delay stopped at once")
	}
	// Reloads and resizes wait; a worker that dies during the delay is replaced
	// and told as soon as it serves.
	m.onSignal(syscall.SIGHUP, f.now)
	m.onSignal(syscall.SIGTTIN, f.now)
	if f.h.gen != 1 || f.h.target != 2 {
		t.Fatalf("a signal acted on during the delay: gen %d target %d", f.h.gen, f.h.target)
	}
	f.exit(1, exitStatus{code: 1})
	f.wantAlive(2, 3)
	f.h.maintain(f.now)
	f.wantSignals(3)
	f.ready(3)
	f.h.maintain(f.now)
	f.wantSignals(3, DrainSignal)

	f.advance(time.Second)
	m.endDelay(f.now)
	f.wantSignals(2, DrainSignal)
	f.now = f.now.Add(time.Second)
	m.endDelay(f.now)
	f.wantSignals(2, DrainSignal, syscall.SIGTERM)
	f.wantSignals(3, DrainSignal, syscall.SIGTERM)
	if !f.h.stopping {
		t.Fatal("the delay ended without a graceful stop")
	}
}

func TestMasterSecondTERMEndsTheShutdownDelay(t *testing.T) {
	m, f := newTestMaster(t, nil)
	f.h.cfg.ShutdownDelay = time.Minute
	m.onSignal(syscall.SIGTERM, f.now)
	m.onSignal(syscall.SIGTERM, f.now)
	f.wantSignals(1, DrainSignal, syscall.SIGTERM)
	if !f.h.stopping || !m.delayEnds.IsZero() {
		t.Fatal("a second TERM did not start the graceful stop")
	}
}

// USR2 moves the pidfile to PIDFILE.oldbin (the new master takes PIDFILE); if the
// new master dies, it moves back.
func TestMasterPidFileFollowsAnUpgrade(t *testing.T) {
	m, _ := newTestMaster(t, nil)
	path := t.TempDir() + "/g.pid"
	m.opts.Config.PidFile = path
	pf, err := CreatePidFile(path, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	m.pidfile = pf
	m.movePidFile(path + oldPidSuffix)
	self, _ := os.FindProcess(os.Getpid()) // stands in for the new master
	m.child = self
	if pid, err := readPid(path + ".oldbin"); err != nil || pid != os.Getpid() {
		t.Fatalf("PIDFILE.oldbin: %d %v", pid, err)
	}
	// The new master may take PIDFILE even while it still names its parent.
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := createPidFileAfter(path, os.Getpid()+1, os.Getpid()); err != nil {
		t.Fatalf("new master refused its parent's pidfile: %v", err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := createPidFileAfter(path, os.Getpid()+2, 0); err == nil {
		t.Fatal("a second master took a live master's pidfile")
	}
	os.Remove(path) // the new master died and removed its pidfile
	m.onNewMasterExit(event{kind: eventMasterExit, pid: self.Pid, status: exitStatus{code: 1}})
	if pid, err := readPid(path); err != nil || pid != os.Getpid() {
		t.Fatalf("PIDFILE after the new master died: %d %v", pid, err)
	}
}

// A stop makes the sockets refuse new connections after a grace, unless another
// master (a USR2 successor) still serves them.
func TestMasterStopRefusesConnectionsOnlyWhenNoOtherMasterServes(t *testing.T) {
	for _, withChild := range []bool{false, true} {
		m, f := newTestMaster(t, nil)
		refused := 0
		m.opts.RefuseConnections = func() error { refused++; return nil }
		if withChild {
			m.child, _ = os.FindProcess(os.Getpid())
		}
		m.stop(true, f.now)
		if withChild {
			if m.refuse != nil {
				t.Fatal("a master with a successor scheduled refusing its sockets")
			}
			continue
		}
		select {
		case <-m.refuse:
			m.refuseConnections()
		case <-time.After(5 * time.Second):
			t.Fatal("refusing was never scheduled to fire")
		}
		if refused != 1 {
			t.Fatalf("RefuseConnections called %d times", refused)
		}
	}
}
