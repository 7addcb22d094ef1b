// Package gonicorn is a production application server for Go, in the spirit of
// Gunicorn and uWSGI: gnet event loops own every socket and parse HTTP/1.1, uWSGI
// and h2c; complete requests run any net/http Handler on a bounded goroutine pool
// under a per-request deadline.
//
//	func main() {
//		gonicorn.Main(myHandler) // gunicorn-style flags, GONICORN_CMD_ARGS, -c FILE
//	}
package gonicorn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/engine"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logs"
)

// Config is the complete set of settings; start from DefaultConfig. Every field's
// doc comment names its flag and default.
type Config = config.Config

// DefaultConfig returns the settings used when nothing is said.
func DefaultConfig() Config { return config.Default() }

// Version is gonicorn's version.
const Version = config.Version

// Main parses the command line (Gunicorn's flags), GONICORN_CMD_ARGS, the
// environment and an optional -c config file, then serves h until stopped by a
// signal. It exits the process: 0 after a clean stop, 1 on a configuration or
// startup error, with a one-line reason on stderr.
func Main(h http.Handler) {
	if isWorkerProcess() {
		os.Exit(runWorker(h))
	}
	os.Exit(mainWith(os.Args[1:], os.Environ(), os.Stdout, os.Stderr, h))
}

func mainWith(args, environ []string, stdout, stderr io.Writer, h http.Handler) int {
	cfg, err := config.Parse(args, environ)
	switch {
	case errors.Is(err, config.ErrHelp):
		config.Usage(stdout)
		return 0
	case errors.Is(err, config.ErrVersion):
		fmt.Fprintln(stdout, "gonicorn "+config.Version)
		return 0
	case err != nil:
		fmt.Fprintln(stderr, oneLine(err))
		return 1
	}
	if cfg.PrintConfig {
		if err := cfg.Print(stdout); err != nil {
			fmt.Fprintln(stderr, oneLine(err))
			return 1
		}
		return 0
	}
	if cfg.CheckConfig {
		return 0
	}
	if err := run(cfg, h, reloadFrom(args, environ)); err != nil {
		fmt.Fprintln(stderr, oneLine(err))
		return exitCode(err)
	}
	return 0
}

func oneLine(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) < 9 || s[:9] != "gonicorn:" {
		s = "gonicorn: " + s
	}
	return s
}

// Run serves h with cfg until the process is told to stop (SIGTERM: graceful,
// SIGINT/SIGQUIT: fast). It returns after the stop, or the error that prevented
// serving.
func Run(cfg Config, h http.Handler) error { return run(cfg, h, nil) }

// runSingle serves in this one process: it binds, serves and handles signals.
func runSingle(cfg *Config, h http.Handler) error {
	log, errFile, err := logs.ErrorLog(cfg)
	if err != nil {
		return fmt.Errorf("gonicorn: error log: %w", err)
	}
	defer errFile.Close()
	lns, err := listen.Bind(cfg, log)
	if err != nil {
		return fmt.Errorf("gonicorn: %w", err)
	}
	defer listen.CloseAndRemove(lns)
	return serveListeners(cfg, h, lns, log, errFile, nil)
}

// serveListeners runs an engine over lns until a stop signal, reopening the logs
// on SIGUSR1. onStart, when set, is called once the engine serves.
func serveListeners(cfg *Config, h http.Handler, lns []*listen.Listener, log zerolog.Logger, errFile *logs.ReopenFile, onStart func(*engine.Server)) error {
	var access *logs.AccessLog
	var accessFile *logs.ReopenFile
	if cfg.AccessLogFile != "" {
		f, err := logs.OpenFile(cfg.AccessLogFile, os.Stdout)
		if err != nil {
			return fmt.Errorf("gonicorn: access log: %w", err)
		}
		defer f.Close()
		accessFile = f
		if access, err = logs.NewAccessLog(f, cfg.AccessLogFormat); err != nil {
			return fmt.Errorf("gonicorn: --access-logformat: %w", err)
		}
	}
	srv, err := engine.New(cfg, h, engine.Options{Log: log, Access: access})
	if err != nil {
		return fmt.Errorf("gonicorn: %w", err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1)
	defer signal.Stop(sigs)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lns) }()
	for _, l := range lns {
		log.Info().Str("listen", l.Spec).Str("protocol", l.Protocol).Int("pid", os.Getpid()).Msg("listening")
	}
	if onStart != nil {
		onStart(srv)
	}
	for {
		select {
		case err := <-served:
			return err
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				log.Info().Msg("reopening log files")
				if err := errFile.Reopen(); err != nil {
					log.Error().Err(err).Msg("reopening the error log")
				}
				if accessFile != nil {
					if err := accessFile.Reopen(); err != nil {
						log.Error().Err(err).Msg("reopening the access log")
					}
				}
			case syscall.SIGTERM:
				log.Info().Dur("graceful_timeout", cfg.GracefulTimeout).Msg("graceful stop")
				ctx, cancel := context.WithTimeout(context.Background(), cfg.GracefulTimeout)
				if err := srv.Shutdown(ctx); err != nil {
					log.Warn().Err(err).Msg("graceful stop cut short")
				}
				cancel()
				return <-served
			default:
				log.Info().Str("signal", sig.String()).Msg("fast stop")
				_ = srv.Close()
				return <-served
			}
		}
	}
}
