package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/config"
)

// Observer is told, on the master's main loop, what the workers report and when
// they exit. It must not block.
type Observer interface {
	// WorkerReport is the payload of a MessageStats record of worker id.
	WorkerReport(id int, stats string)
	// WorkerExited says worker id is gone; restart is why it was replaced (one of
	// RestartReasons), or "" when it was not (a stop, TTOU, WINCH).
	WorkerExited(id int, restart string)
}

// WorkerStatus is the master's view of one worker.
type WorkerStatus struct {
	ID         int       `json:"id"`
	PID        int       `json:"pid"`
	Generation int       `json:"generation"`
	StartedAt  time.Time `json:"started_at"`
	Ready      bool      `json:"ready"`
	LastBeat   time.Time `json:"last_beat"`
	Served     uint64    `json:"served"`
	// State is "running", "replacing" (serving until its successor does),
	// "retiring", "aborting" or "killed".
	State string `json:"state"`
}

// Status is the master's view of its herd.
type Status struct {
	PID        int            `json:"pid"`
	StartedAt  time.Time      `json:"started_at"`
	Target     int            `json:"target"`
	Generation int            `json:"generation"`
	Stopping   bool           `json:"stopping"`
	Workers    []WorkerStatus `json:"workers"`
}

// Alive counts the workers that run and serve (members or not).
func (s *Status) Alive() int {
	n := 0
	for _, w := range s.Workers {
		if w.Ready && (w.State == "running" || w.State == "replacing") {
			n++
		}
	}
	return n
}

func stateName(w *worker) string {
	switch w.state {
	case stateRunning:
		if w.replace {
			return "replacing"
		}
		return "running"
	case stateRetiring:
		return "retiring"
	case stateAborting:
		return "aborting"
	}
	return "killed"
}

// refreshStatus publishes the herd's state for Status; the main loop calls it
// after every change.
func (m *Master) refreshStatus() {
	st := Status{PID: m.pid, StartedAt: m.startedAt, Target: m.herd.target, Generation: m.herd.gen, Stopping: m.herd.stopping}
	for _, w := range m.herd.byAge(func(*worker) bool { return true }) {
		st.Workers = append(st.Workers, WorkerStatus{
			ID: w.id, PID: w.proc.Pid(), Generation: w.gen, StartedAt: w.startedAt, Ready: w.ready,
			LastBeat: w.lastBeat, Served: w.served, State: stateName(w),
		})
	}
	m.statusMu.Lock()
	m.status = st
	m.statusCfg = m.herd.cfg
	m.statusMu.Unlock()
}

// Config returns the configuration of the current generation of workers (it
// changes on HUP). Safe from any goroutine.
func (m *Master) Config() config.Config {
	m.statusMu.Lock()
	defer m.statusMu.Unlock()
	return m.statusCfg
}

// Status returns the herd as the main loop last left it. Safe from any goroutine.
func (m *Master) Status() Status {
	m.statusMu.Lock()
	defer m.statusMu.Unlock()
	st := m.status
	st.Workers = slices.Clone(st.Workers)
	return st
}

// Command is something the control socket asks the master to do.
type Command struct {
	// Op is "add" or "remove" (N workers), "kill" (worker PID, TERM: it drains and
	// is replaced), "reload" (as HUP), "reopen" (as USR1), "shutdown" (TERM, or
	// QUIT when not Graceful).
	Op       string
	N        int
	PID      int
	Graceful bool
}

// ErrStopped is returned by Do when the master no longer runs.
var ErrStopped = errors.New("master is stopping or stopped")

// Do runs c on the master's main loop and returns its outcome, or ctx's error.
func (m *Master) Do(ctx context.Context, c Command) error {
	done := make(chan error, 1)
	select {
	case m.events <- event{kind: eventControl, cmd: c, reply: done}:
	case <-m.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("control %s: %w", c.Op, ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-m.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("control %s: %w", c.Op, ctx.Err())
	}
}

// onCommand carries out c on the main loop.
func (m *Master) onCommand(c Command, now time.Time) error {
	if m.herd.stopping {
		return ErrStopped
	}
	switch c.Op {
	case "add", "remove":
		if c.N < 1 {
			return fmt.Errorf("%s: count %d must be at least 1", c.Op, c.N)
		}
		delta := c.N
		if c.Op == "remove" {
			if m.herd.target-c.N < 1 {
				return fmt.Errorf("remove %d: the master keeps at least one worker (%d now)", c.N, m.herd.target)
			}
			delta = -c.N
		}
		m.herd.resize(delta)
		m.log.Info().Int("workers", m.herd.target).Str("op", c.Op).Msg("control: worker count changed")
	case "kill":
		for _, w := range m.herd.workers {
			if w.proc.Pid() != c.PID {
				continue
			}
			if w.state != stateRunning {
				return fmt.Errorf("kill %d: worker is already stopping", c.PID)
			}
			m.log.Info().Int("worker_pid", c.PID).Msg("control: stopping worker; it is replaced")
			w.reason = RestartControl
			m.herd.retire(w, now, syscall.SIGTERM, m.herd.cfg.GracefulTimeout)
			return nil
		}
		return fmt.Errorf("kill %d: no such worker", c.PID)
	case "reload":
		m.onSignal(syscall.SIGHUP, now)
	case "reopen":
		m.onSignal(syscall.SIGUSR1, now)
	case "shutdown":
		if c.Graceful {
			m.onSignal(syscall.SIGTERM, now)
		} else {
			m.onSignal(syscall.SIGQUIT, now)
		}
	default:
		return fmt.Errorf("unknown command %q", c.Op)
	}
	return nil
}
