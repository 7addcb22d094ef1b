package supervisor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// tickInterval is how often the main loop wakes with nothing to do, to check
// timeouts, deadlines and back-off (Gunicorn: at least once a second).
const tickInterval = 200 * time.Millisecond

// Options configure a Master.
type Options struct {
	// Config is the configuration of the first generation of workers.
	Config config.Config
	// Reload re-reads the configuration on HUP (config.Parse on the original
	// arguments and environment). Nil: HUP restarts the workers with Config.
	Reload func() (config.Config, error)
	// Listeners are the bound listening sockets every worker inherits, in the order
	// ListenerDesc describes them.
	Listeners []*os.File
	// ListenerDesc describes Listeners (internal/listen.Encode).
	ListenerDesc string
	// CloseListeners closes the master's listeners when it stops; removeFiles is
	// false while another master serves the unix sockets (a new one started by
	// USR2, or the old one while this master is not yet promoted).
	CloseListeners func(removeFiles bool) error
	// RefuseConnections makes the listening sockets refuse new connections in every
	// process that shares them (shutdown(2) of a listening socket), so that a
	// client of a server that is going away is refused at once instead of waiting
	// in a backlog nobody accepts from until it is reset. The master calls it
	// listenerRefuseGrace after a stop began, when no other master serves the
	// sockets: the stopping workers have taken what was queued by then.
	RefuseConnections func() error
	// ReopenLogs reopens the master's log files on USR1.
	ReopenLogs func() error
	// UpgradedFrom is the old master's pid when this master was started by USR2
	// (see InheritedListeners); 0 otherwise.
	UpgradedFrom int
	// Log is the error log.
	Log zerolog.Logger
	// Executable is the binary workers and new masters run. Default: this process's
	// binary, by its path on disk, so a rebuilt binary goes live on HUP.
	Executable string
	// Args are the arguments after argv[0] for workers and new masters. Default
	// os.Args[1:].
	Args []string
	// Environ is the environment children start from. Default os.Environ().
	Environ []string
	// Dir is the directory a new master starts in. Default: the current directory.
	Dir string
	// Observer, when set, is told of every stats report and worker exit.
	Observer Observer
}

type eventKind int

const (
	eventMessage    eventKind = iota // a heartbeat record from a worker
	eventExit                        // a worker exited
	eventMasterExit                  // a new master started by USR2 exited
	eventControl                     // a command from the control socket
)

// event is what child-watching goroutines tell the main loop.
type event struct {
	kind   eventKind
	id     int // worker id
	pid    int // new master pid
	msg    Message
	status exitStatus
	cmd    Command
	reply  chan error
}

// Master supervises the workers; see the package documentation.
type Master struct {
	opts    Options
	log     zerolog.Logger
	exe     string
	args    []string
	environ []string
	dir     string
	pid     int

	launcher *execLauncher
	herd     *herd
	events   chan event
	done     chan struct{}

	notifier *Notifier
	pidfile  *PidFile
	child    *os.Process // new master started by USR2
	parent   int         // old master, until this master is promoted

	sigchld chan os.Signal   // SIGCHLD, when this master reaps orphans (reaper.go)
	refuse  <-chan time.Time // fires when a stopping master's sockets refuse connections

	announcedReady bool      // READY=1 sent for the current generation
	closed         bool      // listeners closed
	delayEnds      time.Time // a TERM's --shutdown-delay runs until then; zero: none

	startedAt time.Time
	statusMu  sync.Mutex
	status    Status        // published by refreshStatus
	statusCfg config.Config // the current generation's, published with status
}

// New prepares a master; Run starts it.
func New(o Options) (*Master, error) {
	if len(o.Listeners) == 0 {
		return nil, errors.New("supervisor: no listeners")
	}
	m := &Master{
		opts:     o,
		log:      o.Log,
		exe:      o.Executable,
		args:     o.Args,
		environ:  o.Environ,
		dir:      o.Dir,
		pid:      os.Getpid(),
		events:   make(chan event, 256),
		sigchld:  make(chan os.Signal, 1),
		done:     make(chan struct{}),
		parent:   o.UpgradedFrom,
		notifier: NewNotifier(o.Environ),
	}
	var err error
	if m.exe == "" {
		if m.exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("supervisor: locate the binary: %w", err)
		}
	}
	if m.args == nil {
		m.args = os.Args[1:]
	}
	if m.environ == nil {
		m.environ = os.Environ()
		m.notifier = NewNotifier(m.environ)
	}
	if m.dir == "" {
		if m.dir, err = os.Getwd(); err != nil {
			return nil, fmt.Errorf("supervisor: working directory: %w", err)
		}
	}
	cred, err := workerCredential(o.Config.User, o.Config.Group)
	if err != nil {
		return nil, fmt.Errorf("supervisor: worker identity: %w", err)
	}
	m.launcher = &execLauncher{
		exe: m.exe, args: m.args, environ: m.environ,
		listeners: o.Listeners, desc: o.ListenerDesc, cred: cred,
		log: m.log, post: m.post,
	}
	m.herd = newHerd(m.log, m.launcher, o.Config, m.pid, func(n int) int { return rand.IntN(n + 1) })
	if o.Observer != nil {
		m.herd.gone = o.Observer.WorkerExited
	}
	m.startedAt = time.Now()
	m.refreshStatus()
	return m, nil
}

// post hands an event to the main loop, or drops it once the loop is gone.
func (m *Master) post(ev event) {
	select {
	case m.events <- ev:
	case <-m.done:
	}
}

// Run supervises until the master stops, and returns the process exit code: 0 after
// a stop by signal, ExitBootFailed when workers could not boot.
func (m *Master) Run() (int, error) {
	defer close(m.done)
	sigs, stopSignals := notifyMasterSignals()
	defer stopSignals()
	reap := reapsOrphans()
	if reap {
		signal.Notify(m.sigchld, syscall.SIGCHLD)
		defer signal.Stop(m.sigchld)
		m.log.Info().Msg("running as PID 1: orphaned processes are reaped")
	}

	if path := m.opts.Config.PidFile; path != "" {
		// A master started by USR2 takes PIDFILE at once: the old master moved
		// its own to PIDFILE.oldbin before starting it (upgrade.go).
		pf, err := createPidFileAfter(path, m.pid, m.parent)
		if err != nil {
			m.closeListeners()
			return 1, err
		}
		m.pidfile = pf
		defer func() {
			if err := m.pidfile.Remove(); err != nil {
				m.log.Warn().Err(err).Msg("pidfile")
			}
		}()
	}
	m.log.Info().Int("workers", m.herd.target).Int("listeners", len(m.opts.Listeners)).
		Str("binary", m.exe).Msg("master started")

	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	for {
		now := time.Now()
		m.checkPromotion()
		m.endDelay(now)
		m.herd.maintain(now)
		m.announce()
		m.refreshStatus()
		if m.herd.stopped(now) {
			break
		}
		select {
		case s := <-sigs:
			if sig, ok := s.(syscall.Signal); ok {
				m.onSignal(sig, time.Now())
			}
		case ev := <-m.events:
			m.onEvent(ev, time.Now())
		case <-m.refuse:
			m.refuseConnections()
		case <-m.sigchld:
			m.reapOrphans()
		case <-tick.C:
			if reap {
				m.reapOrphans()
			}
		}
	}
	if left := m.herd.pids(false); len(left) > 0 {
		m.log.Error().Ints("pids", left).Msg("workers not reaped after SIGKILL; exiting anyway")
	}
	m.closeListeners()
	if m.herd.halted {
		return ExitBootFailed, errors.New("worker failed to boot")
	}
	m.log.Info().Msg("master stopped")
	return 0, nil
}

// reapOrphans reaps exited children that are neither workers nor a new master.
func (m *Master) reapOrphans() {
	ours := map[int]bool{}
	for _, w := range m.herd.workers {
		ours[w.proc.Pid()] = true
	}
	if m.child != nil {
		ours[m.child.Pid] = true
	}
	if pids := reapOrphans(func(pid int) bool { return ours[pid] }); len(pids) > 0 {
		m.log.Debug().Ints("pids", pids).Msg("reaped orphaned processes")
	}
}

// endDelay begins the graceful stop once a TERM's --shutdown-delay has passed.
func (m *Master) endDelay(now time.Time) {
	if m.delayEnds.IsZero() || now.Before(m.delayEnds) {
		return
	}
	m.log.Info().Msg("shutdown delay over: graceful stop")
	m.delayEnds = time.Time{}
	m.stop(true, now)
}

// onSignal turns a queued signal into a decision.
func (m *Master) onSignal(sig syscall.Signal, now time.Time) {
	if m.herd.stopping && sig != syscall.SIGINT && sig != syscall.SIGQUIT {
		m.log.Info().Str("signal", sig.String()).Msg("ignored while stopping")
		return
	}
	if m.herd.delaying {
		switch sig {
		case syscall.SIGTERM:
			m.log.Info().Msg("second TERM: shutdown delay cut short, graceful stop")
			m.delayEnds = time.Time{}
			m.stop(true, now)
			return
		case syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1:
		default:
			m.log.Info().Str("signal", sig.String()).Msg("ignored during the shutdown delay")
			return
		}
	}
	switch sig {
	case syscall.SIGHUP:
		m.reload()
	case syscall.SIGTERM:
		if d := m.herd.cfg.ShutdownDelay; d > 0 {
			m.log.Info().Dur("shutdown_delay", d).
				Msg("TERM: serving on with the readiness path answering 503, then a graceful stop")
			m.delayEnds = now.Add(d)
			m.herd.beginDelay()
			m.notify("STOPPING=1")
			return
		}
		m.log.Info().Msg("TERM: graceful stop")
		m.stop(true, now)
	case syscall.SIGINT, syscall.SIGQUIT:
		m.log.Info().Str("signal", sig.String()).Msg("fast stop")
		m.stop(false, now)
	case syscall.SIGTTIN:
		m.herd.resize(+1)
		m.log.Info().Int("workers", m.herd.target).Msg("TTIN: one more worker")
	case syscall.SIGTTOU:
		m.herd.resize(-1)
		m.log.Info().Int("workers", m.herd.target).Msg("TTOU: one worker less")
	case syscall.SIGUSR1:
		// Logged after the reopen, so that the line lands in the new file.
		if m.opts.ReopenLogs != nil {
			if err := m.opts.ReopenLogs(); err != nil {
				m.log.Error().Err(err).Msg("reopen log files")
			}
		}
		m.log.Info().Msg("USR1: log files reopened; telling the workers")
		m.herd.signalAll(syscall.SIGUSR1)
	case syscall.SIGUSR2:
		m.onUpgradeSignal()
	case syscall.SIGWINCH:
		m.onWinch()
	}
}

func (m *Master) onEvent(ev event, now time.Time) {
	switch ev.kind {
	case eventMessage:
		m.herd.onMessage(ev.id, ev.msg, now)
		// A report that trails its worker's exit is dropped: the exit already
		// folded the worker's last counters into the total.
		if ev.msg.Kind == MessageStats && m.opts.Observer != nil && m.herd.workers[ev.id] != nil {
			m.opts.Observer.WorkerReport(ev.id, ev.msg.Stats)
		}
	case eventControl:
		err := m.onCommand(ev.cmd, now)
		m.refreshStatus()
		ev.reply <- err
	case eventExit:
		if m.herd.onExit(ev.id, ev.status, now) {
			m.stop(false, now)
		}
	case eventMasterExit:
		m.onNewMasterExit(ev)
	}
}

// reload answers HUP: re-read the configuration and start a new generation.
func (m *Master) reload() {
	cfg := m.herd.cfg
	if m.opts.Reload != nil {
		next, err := m.opts.Reload()
		if err != nil {
			m.log.Error().Err(err).Msg("HUP ignored: the configuration does not load; the workers keep the current one")
			return
		}
		cfg = next
	}
	cred, err := workerCredential(cfg.User, cfg.Group)
	if err != nil {
		m.log.Error().Err(err).Msg("HUP ignored: worker identity")
		return
	}
	if !slices.Equal(cfg.Bind, m.herd.cfg.Bind) {
		m.log.Warn().Strs("bind", m.herd.cfg.Bind).
			Msg("HUP keeps the bound listeners; a change of --bind needs a restart")
		cfg.Bind = m.herd.cfg.Bind
	}
	if cfg.MetricsBind != m.herd.cfg.MetricsBind || cfg.StatsdHost != m.herd.cfg.StatsdHost ||
		cfg.StatsdPrefix != m.herd.cfg.StatsdPrefix || cfg.ControlSocket != m.herd.cfg.ControlSocket {
		m.log.Warn().Msg("HUP keeps --metrics-bind, --statsd-host, --statsd-prefix and --control-socket; changing them needs a restart")
		cfg.MetricsBind, cfg.StatsdHost = m.herd.cfg.MetricsBind, m.herd.cfg.StatsdHost
		cfg.StatsdPrefix, cfg.ControlSocket = m.herd.cfg.StatsdPrefix, m.herd.cfg.ControlSocket
	}
	m.log.Info().Int("workers", max(cfg.Workers, 1)).Msg("HUP: reloading; new workers start from the binary on disk")
	m.launcher.cred = cred
	m.herd.reload(cfg)
	m.announcedReady = false
	m.notify("RELOADING=1")
}

// stop begins a graceful or fast stop; listeners close at once so that no new
// connection queues where nobody will accept it.
func (m *Master) stop(graceful bool, now time.Time) {
	m.herd.stop(graceful, now)
	m.notify("STOPPING=1")
	m.closeListeners()
	if m.child == nil && m.parent == 0 && m.opts.RefuseConnections != nil && m.refuse == nil {
		m.refuse = time.After(listenerRefuseGrace)
	}
}

// listenerRefuseGrace is how long a stop lets the workers take the connections
// already queued on the listening sockets before the sockets refuse new ones.
const listenerRefuseGrace = 100 * time.Millisecond

// refuseConnections answers the end of listenerRefuseGrace.
func (m *Master) refuseConnections() {
	if err := m.opts.RefuseConnections(); err != nil {
		m.log.Warn().Err(err).Msg("refusing new connections")
	}
}

func (m *Master) closeListeners() {
	if m.closed || m.opts.CloseListeners == nil {
		return
	}
	m.closed = true
	m.checkPromotion() // the old master may have left since the last turn of the loop
	// Socket files stay while another master serves them: a new one started by
	// USR2, or the old one while this master is not yet promoted.
	if err := m.opts.CloseListeners(m.child == nil && m.parent == 0); err != nil {
		m.log.Warn().Err(err).Msg("close listeners")
	}
}

// announce tells systemd READY=1 once the herd first settles, and again after each
// reload has finished.
func (m *Master) announce() {
	if m.announcedReady || !m.herd.settled() {
		return
	}
	m.announcedReady = true
	m.log.Info().Ints("pids", m.herd.pids(true)).Msg("workers ready")
	state := fmt.Sprintf("READY=1\nSTATUS=serving with %d workers", m.herd.target)
	if m.opts.UpgradedFrom != 0 {
		state = fmt.Sprintf("MAINPID=%d\n%s", m.pid, state)
	}
	m.notify(state)
}

func (m *Master) notify(state string) {
	if err := m.notifier.Notify(state); err != nil {
		m.log.Warn().Err(err).Msg("sd_notify")
	}
}
