package gonicorn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/engine"
	"github.com/gonicorn/gonicorn/internal/engineconf"
	"github.com/gonicorn/gonicorn/internal/gcpace"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/internal/readiness"
	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/supervisor"
)

// isWorkerProcess reports whether this process was started by a master as a worker.
func isWorkerProcess() bool { return supervisor.IsWorker(os.Environ()) }

// serveExitBound caps the wait for the engine to wind down after it was stopped
// (its Serve closes listeners and event loops; handlers ignoring their context are
// not waited for beyond this).
const serveExitBound = 5 * time.Second

// runWorker is the life of a worker process, returning its exit code: it serves the
// listeners it inherited with the configuration its master passed, reports to the
// master through the heartbeat pipe, and answers the worker signals (TERM graceful
// stop within --graceful-timeout, INT/QUIT stop now, ABRT log the stuck handlers and
// every stack then exit 1, USR1 reopen logs, USR2 the master's shutdown delay
// began: readiness answers 503). It exits with
// supervisor.ExitBootFailed when it cannot start serving, so that the master does
// not respawn it in a loop.
func runWorker(h http.Handler) int {
	w, err := supervisor.LoadWorker(os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, "gonicorn worker: "+err.Error())
		return supervisor.ExitBootFailed
	}
	cfg := w.Config
	log, errFile, err := logs.ErrorLog(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gonicorn worker: error log: "+err.Error())
		return supervisor.ExitBootFailed
	}
	defer errFile.Close()
	log = log.With().Int("worker", w.ID).Logger()
	bootFailed := func(what string, err error) int {
		logs.Critical(&log).Err(err).Msg("worker failed to boot: " + what)
		return supervisor.ExitBootFailed
	}

	// Signals first: a TERM that arrives while booting must not kill the process
	// by default action, and master-only signals sent to the process group must not
	// stop it. Those are caught and dropped rather than set to SIG_IGN, which exec
	// would hand down to any process a handler starts.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, append(supervisor.WorkerSignals, supervisor.WorkerIgnoredSignals...)...)
	defer signal.Stop(sigs)

	lns, err := listen.FromFiles(w.Listeners, w.ListenerDesc)
	if err != nil {
		return bootFailed("inherited listeners", err)
	}
	var access *logs.AccessLog
	var accessFile *logs.ReopenFile
	if cfg.AccessLogFile != "" {
		if accessFile, err = logs.OpenFile(cfg.AccessLogFile, os.Stdout); err != nil {
			return bootFailed("access log", err)
		}
		defer accessFile.Close()
		if access, err = logs.NewAccessLog(accessFile, cfg.AccessLogFormat); err != nil {
			return bootFailed("--access-logformat", err)
		}
	}
	if gc := gcpace.Start(uint64(cfg.GCMinHeap)); gc != nil {
		defer gc.Stop()
		log.Debug().Int64("gc_min_heap", cfg.GCMinHeap).Int("gc_percent", gc.Percent()).
			Msg("garbage collector: the heap goal is at least --gc-min-heap")
	}
	var counters *stats.Counters
	if cfg.Counting() {
		counters = stats.NewCounters()
	}
	var ready readiness.State
	opts := engineconf.Options(&cfg, log, access)
	opts.Stats = counters
	srv, err := engine.New(readiness.Handler(cfg.ReadinessPath, &ready, h), opts)
	if err != nil {
		_ = listen.Close(lns)
		return bootFailed("engine", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(engineconf.Listeners(lns)) }()
	select {
	case <-srv.Serving():
	case err := <-served:
		return bootFailed("serving", fmt.Errorf("engine stopped before it served: %v", err))
	}
	if err := w.Heartbeat.Ready(); err != nil {
		log.Error().Err(err).Msg("cannot report ready; stopping")
		_ = srv.Close()
		waitServe(served, log)
		return 1
	}
	ready.SetReady()
	log.Info().Int("master", w.MasterPID).Msg("worker serving")

	if counters != nil {
		w.Heartbeat.SetStats(func(dst []byte) []byte {
			s := counters.Snapshot(srv.InFlight())
			return s.AppendEncoded(dst)
		})
	}
	hbCtx, stopBeats := context.WithCancel(context.Background())
	defer stopBeats()
	beats := make(chan error, 1)
	go func() {
		beats <- w.Heartbeat.Run(hbCtx, supervisor.HeartbeatInterval(cfg.Timeout), w.MasterPID, srv.Healthy, srv.Served)
	}()
	// lastReport runs once the engine has stopped: the beats end, then one last
	// report tells the master everything this worker served, so a reload or a
	// recycle loses no count.
	lastReport := func(code int) int {
		stopBeats()
		select {
		case <-beats:
		case <-time.After(serveExitBound):
			return code
		}
		if err := w.Heartbeat.Report(srv.Served()); err != nil {
			log.Debug().Err(err).Msg("last report to the master")
		}
		return code
	}

	for {
		select {
		case err := <-served:
			log.Error().Err(err).Msg("the engine stopped by itself; exiting")
			return 1
		case err := <-beats:
			// The master is gone (or stopped reading): nobody would replace or
			// stop this worker, so finish what is in flight and leave.
			log.Warn().Err(err).Msg("lost the master; stopping gracefully")
			return gracefulStop(srv, served, cfg.GracefulTimeout, log)
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM:
				log.Info().Dur("graceful_timeout", cfg.GracefulTimeout).Msg("worker: graceful stop")
				return lastReport(gracefulStop(srv, served, cfg.GracefulTimeout, log))
			case syscall.SIGINT, syscall.SIGQUIT:
				log.Info().Str("signal", sig.String()).Msg("worker: fast stop")
				_ = srv.Close()
				waitServe(served, log)
				return lastReport(0)
			case syscall.SIGABRT:
				logAbort(srv, log)
				return 1
			case supervisor.DrainSignal:
				ready.SetDraining()
				log.Info().Str("readiness_path", cfg.ReadinessPath).
					Msg("worker: the master's shutdown delay began; serving on, readiness answers 503")
			case syscall.SIGUSR1:
				if err := errFile.Reopen(); err != nil {
					log.Error().Err(err).Msg("reopening the error log")
				}
				if accessFile != nil {
					if err := accessFile.Reopen(); err != nil {
						log.Error().Err(err).Msg("reopening the access log")
					}
				}
				log.Info().Msg("worker: log files reopened")
			default:
				log.Debug().Str("signal", sig.String()).Msg("worker: ignoring a master's signal")
			}
		}
	}
}

// gracefulStop drains the engine within timeout and returns the exit code.
func gracefulStop(srv *engine.Server, served <-chan error, timeout time.Duration, log zerolog.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn().Err(err).Msg("graceful stop cut short")
	}
	waitServe(served, log)
	return 0
}

func waitServe(served <-chan error, log zerolog.Logger) {
	select {
	case err := <-served:
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Debug().Err(err).Msg("engine stopped")
		}
	case <-time.After(serveExitBound):
		log.Warn().Dur("bound", serveExitBound).Msg("engine did not wind down in time; exiting anyway")
	}
}

// logAbort answers SIGABRT, which the master sends after --timeout of silence: it
// says which requests were stuck and for how long, then dumps every goroutine's
// stack, all at critical level, so that the operator sees why the worker died.
func logAbort(srv *engine.Server, log zerolog.Logger) {
	stuck := srv.Stuck()
	for _, s := range stuck {
		logs.Critical(&log).Str("request", s.What).Dur("overdue", s.Overdue.Round(time.Millisecond)).
			Msg("stuck handler")
	}
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	logs.Critical(&log).Int("stuck", len(stuck)).Str("stacks", string(buf)).
		Msgf("WORKER ABORTED (pid:%d): %d stuck handlers; goroutine stacks follow", os.Getpid(), len(stuck))
}
