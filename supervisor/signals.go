package supervisor

import (
	"os"
	"os/signal"
	"syscall"
)

// masterSignals are the signals a master answers, with Gunicorn's meanings:
//
//	HUP    reload: re-read the configuration, start new workers from the binary on
//	       disk, then gracefully stop the old ones
//	TERM   graceful stop within --graceful-timeout, then kill; with --shutdown-delay,
//	       the workers first keep serving that long with the readiness path
//	       answering 503 (a second TERM ends the delay at once)
//	INT    fast stop
//	QUIT   fast stop
//	TTIN   one more worker
//	TTOU   one worker less, never below one
//	USR1   reopen log files, in the master and every worker
//	USR2   start a new master from the binary on disk, inheriting the listeners
//	WINCH  stop the workers, keep the master (honoured while a USR2 upgrade runs;
//	       otherwise ignored, because terminals send it when they are resized)
var masterSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT,
	syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}

// signalQueueSize bounds the signals queued while the master is busy; the os/signal
// handler only queues, the main loop acts.
const signalQueueSize = 32

// notifyMasterSignals queues the master's signals on a new channel.
func notifyMasterSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, signalQueueSize)
	signal.Notify(ch, masterSignals...)
	return ch, func() { signal.Stop(ch) }
}

// WorkerSignals are the signals a worker answers. It must also catch and drop
// WorkerIgnoredSignals, which would otherwise stop or kill it when an operator
// signals the whole process group (catching, unlike SIG_IGN, is not inherited by
// processes the worker's handlers start).
//
//	TERM   graceful stop within --graceful-timeout
//	INT    stop now
//	QUIT   stop now
//	ABRT   log the stuck handlers and every goroutine's stack, exit 1
//	USR1   reopen log files
//	USR2   (DrainSignal) the master's shutdown delay began: keep serving, answer
//	       the readiness path with 503
var WorkerSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGUSR1, DrainSignal,
}

// DrainSignal tells a worker that its master's --shutdown-delay began: the worker
// keeps serving and answers the readiness path with 503 until it is stopped.
const DrainSignal = syscall.SIGUSR2

// WorkerIgnoredSignals are master-only signals a worker catches and drops.
var WorkerIgnoredSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGWINCH,
}
