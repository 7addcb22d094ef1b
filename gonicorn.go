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
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/control"
)

// Config is defined in config_gen.go, written from internal/config.Config by the
// go:generate line below (after a field is added there, run `go generate` here; a
// test fails until then). The two types have the same fields: code inside this
// module passes config.Config and converts at the public API, Config(c) and
// config.Config(c).
//go:generate go run ./internal/config/gendoc

// DefaultConfig returns the settings used when nothing is said.
func DefaultConfig() Config { return Config(config.Default()) }

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
	if len(args) > 0 && args[0] == "ctl" {
		return control.Main(args[1:], environ, stdout, stderr)
	}
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
		if err := checkStartup(&cfg); err != nil {
			fmt.Fprintln(stderr, oneLine(err))
			return 1
		}
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
func Run(cfg Config, h http.Handler) error { return run(config.Config(cfg), h, nil) }
