package supervisor

import (
	"fmt"
	"os"
)

// A binary upgrade, as Gunicorn does it: USR2 moves this master's pidfile to
// PIDFILE.oldbin and starts a new master from the binary on disk, which inherits
// the listeners (fds from 3, described in its environment), writes PIDFILE at once
// and starts its own workers beside the old ones. The operator then sends WINCH to
// the old master (its workers stop gracefully) and TERM (it exits, removing
// PIDFILE.oldbin but not the unix socket files the new master still serves). Should
// the new master die first, PIDFILE.oldbin moves back to PIDFILE.

// oldPidSuffix is appended to the pidfile of a master that started a new one.
const oldPidSuffix = ".oldbin"

// startNewMaster execs the binary on disk as a new master inheriting the listeners.
// Its exit is posted as an eventMasterExit.
func (m *Master) startNewMaster() (*os.Process, error) {
	env := upgradeEnviron(m.environ, m.pid, m.opts.ListenerDesc, len(m.opts.Listeners))
	p, err := startProcess(m.exe, m.args, env, m.dir, m.opts.Listeners, nil)
	if err != nil {
		return nil, fmt.Errorf("start new master %s: %w", m.exe, err)
	}
	go func() {
		st, _ := p.Wait()
		m.post(event{kind: eventMasterExit, pid: p.Pid, status: exitStatusOf(st)})
	}()
	return p, nil
}

// onUpgradeSignal answers USR2.
func (m *Master) onUpgradeSignal() {
	switch {
	case m.child != nil:
		m.log.Warn().Int("new_master", m.child.Pid).Msg("USR2 ignored: a new master already runs")
		return
	case m.parent != 0:
		m.log.Warn().Int("old_master", m.parent).Msg("USR2 ignored: this master is an upgrade the old master has not yet left to")
		return
	case m.herd.stopping:
		return
	}
	m.movePidFile(m.opts.Config.PidFile + oldPidSuffix)
	p, err := m.startNewMaster()
	if err != nil {
		m.log.Error().Err(err).Msg("USR2: cannot start a new master")
		m.movePidFile(m.opts.Config.PidFile)
		return
	}
	m.child = p
	m.log.Info().Int("new_master", p.Pid).Str("binary", m.exe).
		Msg("USR2: new master started; send WINCH to stop this master's workers, then TERM")
}

// onWinch answers WINCH: stop the workers, keep the master.
func (m *Master) onWinch() {
	if m.child == nil {
		m.log.Info().Msg("WINCH ignored: no upgrade in progress")
		return
	}
	m.log.Info().Msg("WINCH: stopping the workers gracefully; the new master serves")
	m.herd.stopWorkers()
}

// onNewMasterExit forgets a new master that died; if this master had stopped its
// workers for it, they are started again.
func (m *Master) onNewMasterExit(ev event) {
	if m.child == nil || ev.pid != m.child.Pid {
		return
	}
	m.child = nil
	m.log.Warn().Int("new_master", ev.pid).Str("status", ev.status.String()).Msg("the new master exited")
	if !m.herd.stopping {
		m.movePidFile(m.opts.Config.PidFile)
	}
	if !m.herd.stopping && m.herd.target == 0 {
		m.log.Warn().Msg("restarting this master's workers")
		m.herd.restoreTarget()
	}
}

// movePidFile moves this master's pidfile to path, if it has one.
func (m *Master) movePidFile(path string) {
	if m.pidfile == nil || m.pidfile.Path() == path {
		return
	}
	if err := m.pidfile.Rename(path); err != nil {
		m.log.Error().Err(err).Msg("pidfile")
	}
}

// checkPromotion notices that the old master is gone (this master was re-parented)
// and tells systemd which pid is the service's main process now.
func (m *Master) checkPromotion() {
	if m.parent == 0 || os.Getppid() == m.parent {
		return
	}
	m.log.Info().Int("old_master", m.parent).Msg("the old master is gone; this master is promoted")
	m.parent = 0
	if err := m.notifier.Notify(fmt.Sprintf("MAINPID=%d", m.pid)); err != nil {
		m.log.Warn().Err(err).Msg("sd_notify")
	}
}
