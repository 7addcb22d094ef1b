package gonicorn

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/supervisor"
)

// checkStartup is --check-config past the syntax: what startup would refuse
// because of the configuration, found without binding a socket or starting a
// process. Bind addresses resolve (listen.Check), -u/-g name a user and a group
// this master may switch to, --chdir is a directory, and the log and pid files'
// directories exist.
func checkStartup(cfg *config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Chdir != "" {
		if fi, err := os.Stat(cfg.Chdir); err != nil || !fi.IsDir() {
			return fmt.Errorf("gonicorn: --chdir %s: not a directory", cfg.Chdir)
		}
	}
	if err := listen.Check(cfg); err != nil {
		return fmt.Errorf("gonicorn: %w", err)
	}
	if _, _, _, err := supervisor.WorkerIDs(cfg.User, cfg.Group); err != nil {
		return fmt.Errorf("gonicorn: worker identity: %w", err)
	}
	for _, f := range []struct{ flag, path string }{
		{"--error-logfile", cfg.ErrorLogFile}, {"--access-logfile", cfg.AccessLogFile}, {"--pid", cfg.PidFile},
	} {
		if f.path == "" || f.path == "-" {
			continue
		}
		path := f.path
		if cfg.Chdir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Chdir, path)
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return fmt.Errorf("gonicorn: %s %s: its directory does not exist", f.flag, f.path)
		}
	}
	return nil
}
