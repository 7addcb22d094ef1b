package supervisor

import (
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// Bounds of the herd's waits that no flag sets.
const (
	// AbortGrace is how long a worker aborted for a timeout has to log its stuck
	// handlers and exit before it is killed.
	AbortGrace = 2 * time.Second
	// bootBoundWithoutTimeout bounds a worker's boot when --timeout is 0 (disabled).
	bootBoundWithoutTimeout = 60 * time.Second
	// fastStopBound caps how long INT/QUIT waits before killing, whatever
	// --graceful-timeout says.
	fastStopBound = 5 * time.Second
	// killedReapBound is how long a stop waits for killed workers to be reaped.
	killedReapBound = 2 * time.Second
	// memoryCheckEvery throttles the reading of workers' RSS.
	memoryCheckEvery = time.Second
)

// workerState is where a worker is in its life, as the master drives it.
type workerState int

const (
	stateRunning  workerState = iota // booting or serving; counted in the herd
	stateRetiring                    // sent TERM or QUIT: draining until deadline
	stateAborting                    // timed out, sent ABRT: killed at deadline
	stateKilled                      // sent KILL: waiting to be reaped
)

// worker is the master's record of one worker process.
type worker struct {
	id          int
	gen         int // configuration generation it was started with
	proc        Process
	startedAt   time.Time
	ready       bool
	lastBeat    time.Time
	served      uint64
	maxRequests uint64 // 0 = unlimited; includes this worker's jitter
	// replace marks a worker that must give way to a successor (old generation,
	// max-requests, memory); it keeps serving until the herd can spare it.
	replace  bool
	reason   string // why it is replaced or stopped, for the restart count (see RestartReasons)
	state    workerState
	deadline time.Time // retiring/aborting/killed: when to escalate
	// toldDrain: the worker was sent DrainSignal (its readiness path answers 503).
	toldDrain bool
}

// herd holds the master's decisions: how many workers to run, when one is sick, when
// one must be recycled, in which order a reload swaps them. It does no I/O of its own:
// processes are started and signalled through sys, time is passed in.
type herd struct {
	log    zerolog.Logger
	sys    processes
	cfg    config.Config
	gen    int
	target int
	self   int // master pid, passed to workers

	workers map[int]*worker
	nextID  int

	jitter func(n int) int // uniform in [0, n]

	crashes    int
	lastCrash  time.Time
	spawnAfter time.Time

	lastMemCheck time.Time
	// delaying: a TERM's --shutdown-delay runs; every serving worker is told so.
	delaying bool
	stopping bool
	halted   bool // a worker failed to boot with nothing serving

	// gone, when set, is told of every worker that exited, with the reason of its
	// restart ("" when it was not replaced: a stop, TTOU, WINCH).
	gone func(id int, restart string)
}

// Restart reasons, as the restart count labels them.
const (
	RestartTimeout     = "timeout"      // silent for --timeout: aborted
	RestartCrash       = "crash"        // exited by itself, or killed by someone else
	RestartMaxRequests = "max-requests" // served --max-requests
	RestartMemory      = "memory"       // RSS above --max-worker-memory
	RestartReload      = "reload"       // replaced by a new generation (HUP)
	RestartControl     = "control"      // stopped through the control socket (worker kill)
)

// RestartReasons lists every restart reason.
var RestartReasons = []string{RestartTimeout, RestartCrash, RestartMaxRequests, RestartMemory, RestartReload, RestartControl}

func newHerd(log zerolog.Logger, sys processes, cfg config.Config, self int, jitter func(int) int) *herd {
	return &herd{
		log:     log,
		sys:     sys,
		cfg:     cfg,
		gen:     1,
		target:  max(cfg.Workers, 1),
		self:    self,
		workers: map[int]*worker{},
		nextID:  1,
		jitter:  jitter,
	}
}

// byAge returns the workers oldest first, filtered by keep.
func (h *herd) byAge(keep func(*worker) bool) []*worker {
	ws := make([]*worker, 0, len(h.workers))
	for _, w := range h.workers {
		if keep(w) {
			ws = append(ws, w)
		}
	}
	slices.SortFunc(ws, func(a, b *worker) int { return a.id - b.id })
	return ws
}

func isMember(w *worker) bool  { return w.state == stateRunning && !w.replace }
func isSurplus(w *worker) bool { return w.state == stateRunning && w.replace }

// readyAnywhere reports whether any running worker, of any generation, serves.
func (h *herd) readyAnywhere() bool {
	for _, w := range h.workers {
		if w.state == stateRunning && w.ready {
			return true
		}
	}
	return false
}

// settled reports whether the herd is exactly what it should be: target members, all
// serving, no surplus left. The master tells systemd READY=1 when it first is.
func (h *herd) settled() bool {
	if h.stopping {
		return false
	}
	members := 0
	for _, w := range h.workers {
		switch {
		case isSurplus(w):
			return false
		case isMember(w):
			if !w.ready {
				return false
			}
			members++
		}
	}
	return members == h.target
}

// pids lists the pids of the herd's members (membersOnly), or of every worker still
// tracked, oldest first.
func (h *herd) pids(membersOnly bool) []int {
	out := make([]int, 0, len(h.workers))
	for _, w := range h.byAge(func(w *worker) bool { return !membersOnly || isMember(w) }) {
		out = append(out, w.proc.Pid())
	}
	return out
}

// maintain makes every decision that time or state calls for: escalate timeouts,
// recycle, retire, spawn. The master calls it after every event and tick.
func (h *herd) maintain(now time.Time) {
	h.escalate(now)
	if h.stopping {
		return
	}
	h.checkMemory(now)
	h.retireExtraMembers(now)
	h.retireSurplus(now)
	h.spawnMissing(now)
	h.tellDrain()
}

// beginDelay starts a TERM's --shutdown-delay: the workers keep serving, and each
// serving one, including any started during the delay, is told with DrainSignal
// to answer its readiness path with 503.
func (h *herd) beginDelay() {
	h.delaying = true
	h.tellDrain()
}

// tellDrain sends DrainSignal to every serving worker not yet told. A worker is
// told only once it reported ready: it catches the signal from then on, whereas
// a booting process might still die of it.
func (h *herd) tellDrain() {
	if !h.delaying {
		return
	}
	for _, w := range h.byAge(func(w *worker) bool { return w.state == stateRunning && w.ready && !w.toldDrain }) {
		h.signal(w, DrainSignal)
		w.toldDrain = true
	}
}

// escalate aborts silent workers and kills those past their deadline.
func (h *herd) escalate(now time.Time) {
	for _, w := range h.byAge(func(*worker) bool { return true }) {
		switch w.state {
		case stateRunning:
			h.checkTimeout(w, now)
		case stateRetiring, stateAborting:
			if now.After(w.deadline) {
				h.log.Warn().Int("worker_pid", w.proc.Pid()).Msg("worker did not exit in time; killing it")
				h.signal(w, syscall.SIGKILL)
				w.state, w.deadline = stateKilled, now.Add(killedReapBound)
			}
		}
	}
}

// checkTimeout aborts a worker that has not reported for --timeout, or did not
// report ready within its boot bound.
func (h *herd) checkTimeout(w *worker, now time.Time) {
	var silent time.Duration
	switch {
	case !w.ready:
		bound := h.cfg.Timeout
		if bound <= 0 {
			bound = bootBoundWithoutTimeout
		}
		if silent = now.Sub(w.startedAt); silent <= bound {
			return
		}
	case h.cfg.Timeout > 0:
		if silent = now.Sub(w.lastBeat); silent <= h.cfg.Timeout {
			return
		}
	default:
		return
	}
	critical(h.log).Int("worker_pid", w.proc.Pid()).Bool("booted", w.ready).
		Dur("silent", silent.Round(time.Millisecond)).
		Msgf("WORKER TIMEOUT (pid:%d)", w.proc.Pid())
	h.signal(w, syscall.SIGABRT)
	w.state, w.deadline, w.reason = stateAborting, now.Add(AbortGrace), RestartTimeout
}

// checkMemory marks members whose RSS passed --max-worker-memory for replacement.
func (h *herd) checkMemory(now time.Time) {
	limit := h.cfg.MaxWorkerMemory
	if limit <= 0 || now.Sub(h.lastMemCheck) < memoryCheckEvery {
		return
	}
	h.lastMemCheck = now
	for _, w := range h.byAge(isMember) {
		if !w.ready {
			continue
		}
		rss, err := h.sys.rss(w.proc.Pid())
		if err != nil || rss <= limit {
			continue
		}
		h.log.Warn().Int("worker_pid", w.proc.Pid()).Int64("rss", rss).Int64("max_worker_memory", limit).
			Msg("worker memory exceeds --max-worker-memory; recycling it")
		w.replace, w.reason = true, RestartMemory
	}
}

// retireExtraMembers retires the oldest members beyond the target (TTOU, WINCH, a
// reload to fewer workers).
func (h *herd) retireExtraMembers(now time.Time) {
	members := h.byAge(isMember)
	for i := 0; i < len(members)-h.target; i++ {
		h.retire(members[i], now, syscall.SIGTERM, h.cfg.GracefulTimeout)
	}
}

// retireSurplus retires workers marked for replacement: those not serving at once,
// the serving ones oldest first, only as far as serving members stand in for them,
// so capacity never drops below the target during a reload or a recycle.
func (h *herd) retireSurplus(now time.Time) {
	readyMembers := 0
	for _, w := range h.workers {
		if isMember(w) && w.ready {
			readyMembers++
		}
	}
	var serving []*worker
	for _, w := range h.byAge(isSurplus) {
		if !w.ready {
			h.retire(w, now, syscall.SIGTERM, h.cfg.GracefulTimeout)
			continue
		}
		serving = append(serving, w)
	}
	for i, w := range serving {
		if readyMembers+len(serving)-i <= h.target {
			break
		}
		h.retire(w, now, syscall.SIGTERM, h.cfg.GracefulTimeout)
	}
}

// spawnMissing starts members until the target is met, unless crash back-off holds.
func (h *herd) spawnMissing(now time.Time) {
	for n := len(h.byAge(isMember)); n < h.target; n++ {
		if now.Before(h.spawnAfter) {
			return
		}
		if !h.spawn(now) {
			return
		}
	}
}

func (h *herd) spawn(now time.Time) bool {
	id := h.nextID
	h.nextID++
	spec := workerSpec{ID: id, MasterPID: h.self, Config: h.cfg}
	p, err := h.sys.launch(spec)
	if err != nil {
		h.log.Error().Err(err).Int("worker", id).Msg("cannot start worker")
		h.noteCrash(now)
		return false
	}
	w := &worker{id: id, gen: h.gen, proc: p, startedAt: now}
	if h.cfg.MaxRequests > 0 {
		j := 0
		if h.cfg.MaxRequestsJitter > 0 {
			j = h.jitter(h.cfg.MaxRequestsJitter)
		}
		w.maxRequests = uint64(h.cfg.MaxRequests) + uint64(j)
	}
	h.workers[id] = w
	h.log.Info().Int("worker_pid", p.Pid()).Int("worker", id).Int("generation", h.gen).Msg("booting worker")
	return true
}

// retire asks a worker to stop with sig and gives it grace before the kill.
func (h *herd) retire(w *worker, now time.Time, sig syscall.Signal, grace time.Duration) {
	h.log.Info().Int("worker_pid", w.proc.Pid()).Str("signal", sig.String()).Msg("stopping worker")
	h.signal(w, sig)
	w.state, w.deadline = stateRetiring, now.Add(grace)
}

func (h *herd) signal(w *worker, sig syscall.Signal) {
	if err := w.proc.Signal(sig); err != nil {
		h.log.Debug().Err(err).Msg("signal worker")
	}
}

// noteCrash records an unexpected exit or failed start and delays the next spawn:
// the first crash in a quiet period is replaced at once, later ones back off.
func (h *herd) noteCrash(now time.Time) {
	if now.Sub(h.lastCrash) > crashQuietPeriod {
		h.crashes = 0
	}
	h.crashes++
	h.lastCrash = now
	h.spawnAfter = now.Add(crashBackoff(h.crashes))
}

// Crash back-off: consecutive crashes (none quiet for crashQuietPeriod) wait
// crashBackoffBase·2^(n-2) before the next spawn, capped at crashBackoffCap.
const (
	crashQuietPeriod = 30 * time.Second
	crashBackoffBase = 100 * time.Millisecond
	crashBackoffCap  = 5 * time.Second
)

func crashBackoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	d := crashBackoffBase
	for i := 2; i < n && d < crashBackoffCap; i++ {
		d *= 2
	}
	return min(d, crashBackoffCap)
}

// onMessage applies a heartbeat record from worker id.
func (h *herd) onMessage(id int, m Message, now time.Time) {
	w := h.workers[id]
	if w == nil {
		return
	}
	w.lastBeat = now
	switch m.Kind {
	case MessageReady:
		if !w.ready {
			w.ready = true
			h.log.Info().Int("worker_pid", w.proc.Pid()).Dur("boot", now.Sub(w.startedAt).Round(time.Millisecond)).Msg("worker serving")
		}
	case MessageBeat, MessageStats:
		w.served = m.Served
		if w.state == stateRunning && !w.replace && w.maxRequests > 0 && w.served >= w.maxRequests {
			h.log.Info().Int("worker_pid", w.proc.Pid()).Uint64("served", w.served).Uint64("max_requests", w.maxRequests).
				Msg("worker reached --max-requests; recycling it")
			w.replace, w.reason = true, RestartMaxRequests
		}
	}
}

// onExit forgets a worker that exited. It reports true when the master must halt: a
// worker failed to boot and no worker serves.
func (h *herd) onExit(id int, st exitStatus, now time.Time) (halt bool) {
	w := h.workers[id]
	if w == nil {
		return false
	}
	delete(h.workers, id)
	pid := w.proc.Pid()
	if h.gone != nil {
		reason := w.reason
		if reason == "" && w.state == stateRunning && !h.stopping {
			reason = RestartCrash
		}
		h.gone(id, reason)
	}
	if w.state != stateRunning {
		h.log.Info().Int("worker_pid", pid).Str("status", st.String()).Msg("worker exited")
		return false
	}
	if h.stopping {
		return false
	}
	if !w.ready && st.code == ExitBootFailed {
		if !h.readyAnywhere() {
			critical(h.log).Int("worker_pid", pid).
				Msg("worker failed to boot and no worker is serving; stopping the master (see the worker's error above)")
			h.halted = true
			return true
		}
		h.log.Error().Int("worker_pid", pid).Msg("worker failed to boot; the serving workers stay, retrying with back-off")
	} else {
		h.log.Error().Int("worker_pid", pid).Str("status", st.String()).Bool("booted", w.ready).Msg("worker exited unexpectedly")
	}
	h.noteCrash(now)
	return false
}

// reload starts a new generation with cfg: every running worker is to be replaced,
// and is retired as new workers serve (see retireSurplus).
func (h *herd) reload(cfg config.Config) {
	h.cfg = cfg
	h.gen++
	h.target = max(cfg.Workers, 1)
	h.crashes, h.spawnAfter = 0, time.Time{}
	for _, w := range h.workers {
		if w.state == stateRunning {
			if !w.replace {
				w.reason = RestartReload
			}
			w.replace = true
		}
	}
}

// resize changes the target by delta (TTIN +1, TTOU -1), never below one.
func (h *herd) resize(delta int) {
	h.target = max(h.target+delta, 1)
}

// stopWorkers sets the target to zero without stopping the master (WINCH).
func (h *herd) stopWorkers() { h.target = 0 }

// restoreTarget brings the target back to the configured number of workers.
func (h *herd) restoreTarget() { h.target = max(h.cfg.Workers, 1) }

// stop retires every worker: graceful sends TERM and waits --graceful-timeout, fast
// sends QUIT and waits at most fastStopBound. A fast stop during a graceful one
// escalates it.
func (h *herd) stop(graceful bool, now time.Time) {
	h.stopping, h.target = true, 0
	sig, grace := syscall.SIGTERM, h.cfg.GracefulTimeout
	if !graceful {
		sig, grace = syscall.SIGQUIT, min(h.cfg.GracefulTimeout, fastStopBound)
	}
	for _, w := range h.byAge(func(w *worker) bool { return w.state == stateRunning || w.state == stateRetiring }) {
		if w.state == stateRetiring && graceful {
			continue
		}
		deadline := now.Add(grace)
		if w.state == stateRetiring && w.deadline.Before(deadline) {
			deadline = w.deadline
		}
		h.retire(w, now, sig, grace)
		w.deadline = deadline
	}
}

// stopped reports whether a stop has finished: every worker reaped, or only killed
// ones left past their reap bound (a process stuck in the kernel cannot hold the
// master forever).
func (h *herd) stopped(now time.Time) bool {
	if !h.stopping {
		return false
	}
	for _, w := range h.workers {
		if w.state != stateKilled || now.Before(w.deadline) {
			return false
		}
	}
	return true
}

// signalAll sends sig to every live worker (USR1).
func (h *herd) signalAll(sig syscall.Signal) {
	for _, w := range h.workers {
		if w.state != stateKilled {
			h.signal(w, sig)
		}
	}
}

// critical logs at the level Gunicorn calls critical: zerolog's fatal level without
// the exit (internal/logs writes it as "critical").
func critical(log zerolog.Logger) *zerolog.Event {
	return log.WithLevel(zerolog.FatalLevel)
}
