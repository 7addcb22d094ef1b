package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Version is gonicorn's version, printed by -v/--version as "gonicorn VERSION".
const Version = "0.1.0"

// ErrHelp is returned by Parse when -h/--help was given: print Usage and exit 0.
var ErrHelp = errors.New("gonicorn: help requested")

// ErrVersion is returned by Parse when -v/--version was given (and not -h):
// print "gonicorn " + Version and exit 0.
var ErrVersion = errors.New("gonicorn: version requested")

// CmdArgsEnv is the environment variable whose value is read as extra arguments,
// before the command line's (Gunicorn's GUNICORN_CMD_ARGS).
const CmdArgsEnv = "GONICORN_CMD_ARGS"

// Parse builds the effective Config, later wins: defaults → environment (PORT →
// bind 0.0.0.0:$PORT, WEB_CONCURRENCY → workers) → config file (-c/--config FILE,
// from the command line, else from GONICORN_CMD_ARGS; none is read unless named)
// → GONICORN_CMD_ARGS (split like a shell: quotes respected) → args (the command
// line, without argv[0]). Within one source a repeated list flag (-b, -e,
// --uwsgi-allow-from …) adds to the list; a later source replaces it.
//
// Parse normalizes as Gunicorn does (--limit-request-line 0 or above 8190 is 8190,
// --limit-request-fields 0 is 32768) and then calls Validate. It returns ErrHelp or
// ErrVersion when asked for help or the version, before reading any config file.
// Its only I/O is reading the config file.
func Parse(args []string, environ []string) (Config, error) {
	return parse(args, environ, os.ReadFile)
}

func parse(args, environ []string, readFile func(string) ([]byte, error)) (Config, error) {
	cfg := Default()
	env := envMap(environ)

	cli, err := scanArgs(args, "")
	if err != nil {
		return cfg, err
	}
	var fromEnv scanned
	if s := env[CmdArgsEnv]; strings.TrimSpace(s) != "" {
		words, err := splitShell(s)
		if err != nil {
			return cfg, fmt.Errorf("gonicorn: %s: %w", CmdArgsEnv, err)
		}
		if fromEnv, err = scanArgs(words, CmdArgsEnv); err != nil {
			return cfg, err
		}
	}
	switch {
	case cli.help || fromEnv.help:
		return cfg, ErrHelp
	case cli.version || fromEnv.version:
		return cfg, ErrVersion
	}

	if err := applyEnvironment(&cfg, env); err != nil {
		return cfg, err
	}
	path := configPath(cli)
	if path == "" {
		path = configPath(fromEnv)
	}
	if path != "" {
		data, err := readFile(path)
		if err != nil {
			return cfg, fmt.Errorf("gonicorn: reading config file: %w", err)
		}
		fromFile, err := parseFile(path, data)
		if err != nil {
			return cfg, err
		}
		if err := apply(&cfg, fromFile); err != nil {
			return cfg, err
		}
	}
	if err := apply(&cfg, fromEnv.assignments); err != nil {
		return cfg, err
	}
	if err := apply(&cfg, cli.assignments); err != nil {
		return cfg, err
	}
	cfg.ConfigFile = path
	normalize(&cfg)
	return cfg, cfg.Validate()
}

// envMap indexes KEY=VALUE pairs; a later duplicate wins, as in os.Getenv.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// applyEnvironment applies PORT and WEB_CONCURRENCY, as Gunicorn does.
func applyEnvironment(cfg *Config, env map[string]string) error {
	if port := strings.TrimSpace(env["PORT"]); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("gonicorn: PORT: invalid value %q: must be a port number from 0 to 65535", port)
		}
		cfg.Bind = []string{"0.0.0.0:" + strconv.Itoa(n)}
	}
	if wc := strings.TrimSpace(env["WEB_CONCURRENCY"]); wc != "" {
		n, err := parseInt(wc, 1, noLimit)
		if err != nil {
			return fmt.Errorf("gonicorn: WEB_CONCURRENCY: invalid value %q: %w", wc, err)
		}
		cfg.Workers = int(n)
	}
	return nil
}

// configPath is the last -c/--config of one source.
func configPath(s scanned) string {
	path := ""
	for _, a := range s.assignments {
		if a.s.flag == "config" {
			path = a.values[0]
		}
	}
	return path
}

// normalize applies Gunicorn's readings of out-of-range limits.
func normalize(cfg *Config) {
	if cfg.LimitRequestLine == 0 || cfg.LimitRequestLine > maxRequestLine {
		cfg.LimitRequestLine = maxRequestLine
	}
	if cfg.LimitRequestFields == 0 {
		cfg.LimitRequestFields = maxRequestFields
	}
}
