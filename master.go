package gonicorn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/supervisor"
)

// exitError carries the process exit code a failure calls for (the master stops
// with supervisor.ExitBootFailed when its workers cannot boot, as Gunicorn does).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the process exit code for the error Run returned: 0 for nil.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

// run dispatches: a process started by a master as a worker serves and exits
// (never returning); any other process becomes the master, always, even for one
// worker, as with Gunicorn. reload re-reads the configuration on HUP; nil keeps cfg.
func run(cfg config.Config, h http.Handler, reload func() (config.Config, error)) error {
	if isWorkerProcess() {
		os.Exit(runWorker(h))
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return runMaster(&cfg, reload)
}

// runMaster is the master process: it binds every listener once (or inherits them
// from the old master after a USR2 upgrade), then keeps cfg.Workers workers, each a
// re-execution of this binary, serving them. reload re-reads the configuration on
// HUP; nil keeps cfg. It returns when the master is stopped by a signal.
func runMaster(cfg *config.Config, reload func() (config.Config, error)) error {
	startDir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("gonicorn: working directory: %w", err)
	}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("gonicorn: --env %s: %w", kv, err)
		}
	}
	if cfg.Chdir != "" {
		if err := os.Chdir(cfg.Chdir); err != nil {
			return fmt.Errorf("gonicorn: --chdir: %w", err)
		}
	}
	log, errFile, err := logs.ErrorLog(cfg)
	if err != nil {
		return fmt.Errorf("gonicorn: error log: %w", err)
	}
	defer errFile.Close()
	if err := giveLogsToWorkers(cfg); err != nil {
		return fmt.Errorf("gonicorn: %w", err)
	}

	var lns []*listen.Listener
	inherited, desc, oldMaster, upgraded, err := supervisor.InheritedListeners(os.Environ())
	switch {
	case err != nil:
		return fmt.Errorf("gonicorn: listeners from the old master: %w", err)
	case upgraded:
		if lns, err = listen.FromFiles(inherited, desc); err != nil {
			return fmt.Errorf("gonicorn: listeners from the old master: %w", err)
		}
		log.Info().Int("old_master", oldMaster).Msg("started by USR2: serving the old master's listeners")
	default:
		if lns, err = listen.Bind(cfg, log); err != nil {
			return fmt.Errorf("gonicorn: %w", err)
		}
	}
	files, err := listen.Files(lns)
	if err != nil {
		_ = listen.Close(lns)
		return fmt.Errorf("gonicorn: %w", err)
	}
	// The master never accepts: keep its copies out of Go's poller, which would
	// otherwise wake for every connection the workers take.
	if err := listen.Detach(lns); err != nil {
		_ = listen.Close(lns)
		return fmt.Errorf("gonicorn: %w", err)
	}
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
	}
	defer closeFiles()
	for _, l := range lns {
		log.Info().Str("listen", l.Spec).Str("protocol", l.Protocol).Msg("listening")
	}
	ops, err := startOps(cfg, lns, files, upgraded, log)
	if err != nil {
		_ = listen.Close(lns)
		return fmt.Errorf("gonicorn: %w", err)
	}
	defer ops.close()
	removeInherited := false
	m, err := supervisor.New(supervisor.Options{
		Config:       *cfg,
		Reload:       reload,
		Listeners:    files,
		ListenerDesc: listen.Encode(lns),
		CloseListeners: func(removeFiles bool) error {
			switch {
			case !removeFiles:
				// A successor (USR2) or the old master still serves the sockets.
				return listen.Close(lns)
			case upgraded:
				// A promoted master owns socket files it did not create: they
				// go once the workers have closed them too (after Run).
				removeInherited = true
				return listen.Close(lns)
			}
			return listen.CloseAndRemove(lns)
		},
		RefuseConnections: func() error { return listen.Refuse(ownFiles(lns, files)) },
		ReopenLogs:        errFile.Reopen,
		UpgradedFrom:      oldMaster,
		Log:               log,
		Dir:               startDir,
		Observer:          ops.observer(),
	})
	if err != nil {
		_ = listen.Close(lns)
		return fmt.Errorf("gonicorn: %w", err)
	}
	if err := ops.attach(m, upgraded); err != nil {
		_ = listen.Close(lns)
		return fmt.Errorf("gonicorn: %w", err)
	}
	code, err := m.Run()
	if removeInherited {
		closeFiles() // the duplicates passed to workers hold the sockets open too
		removeDeadSockets(lns, log)
	}
	switch {
	case code != 0 && err != nil:
		return &exitError{code: code, err: fmt.Errorf("gonicorn: %w", err)}
	case err != nil:
		return fmt.Errorf("gonicorn: %w", err)
	case code != 0:
		return &exitError{code: code, err: fmt.Errorf("gonicorn: master exited with code %d", code)}
	}
	return nil
}

// ownFiles returns the files of the listeners this server bound (itself, or the
// master it was upgraded from): a socket handed in by systemd or as fd://N belongs
// to whoever passed it, which will hand it to the next server, so it must never be
// shut.
func ownFiles(lns []*listen.Listener, files []*os.File) []*os.File {
	var own []*os.File
	for i, l := range lns {
		if network, _, _, err := listen.ParseSpec(l.Spec, l.Protocol); err == nil && network != "fd" && i < len(files) {
			own = append(own, files[i])
		}
	}
	return own
}

// reloadFrom re-reads the configuration the way Main first read it, for HUP:
// config.Parse on the original arguments and environment, from the directory the
// process started in, so that a relative -c path still names the same file after
// --chdir.
func reloadFrom(args, environ []string) func() (config.Config, error) {
	startDir, dirErr := os.Getwd()
	return func() (config.Config, error) {
		if dirErr != nil {
			return config.Config{}, fmt.Errorf("reload: %w", dirErr)
		}
		here, err := os.Getwd()
		if err != nil {
			return config.Config{}, fmt.Errorf("reload: %w", err)
		}
		if here != startDir {
			if err := os.Chdir(startDir); err != nil {
				return config.Config{}, fmt.Errorf("reload: %w", err)
			}
			defer os.Chdir(here)
		}
		return config.Parse(args, environ)
	}
}

// removeDeadSockets removes the unix socket files of lns that nothing answers on any
// more. A master promoted by a USR2 upgrade inherited its sockets, so it cannot know
// their files by inode as listen.CloseAndRemove does; once it and its workers have
// closed them, a socket that refuses connections is its own, dead one, while a path
// where something answers belongs to someone else now and is left alone.
func removeDeadSockets(lns []*listen.Listener, log zerolog.Logger) {
	for _, l := range lns {
		network, path, _, err := listen.ParseSpec(l.Spec, l.Protocol)
		if err != nil || network != "unix" {
			continue
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn().Err(err).Str("socket", path).Msg("removing the socket file")
		}
	}
}

// giveLogsToWorkers creates the log files the workers write and hands them to the
// workers' user and group (-u/-g), as Gunicorn does, so that a worker that is not
// root can open and, on USR1, reopen them. Nothing is done when the workers keep
// the master's identity.
func giveLogsToWorkers(cfg *config.Config) error {
	uid, gid, set, err := supervisor.WorkerIDs(cfg.User, cfg.Group)
	if err != nil || !set {
		return err
	}
	for _, path := range []string{cfg.ErrorLogFile, cfg.AccessLogFile} {
		if path == "" || path == "-" {
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("log file for the workers: %w", err)
		}
		err = f.Chown(uid, gid)
		f.Close()
		if err != nil {
			return fmt.Errorf("log file for the workers: %w", err)
		}
	}
	return nil
}
