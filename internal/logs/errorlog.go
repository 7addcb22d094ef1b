package logs

import (
	"bytes"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/internal/config"
)

// Level maps Gunicorn's --log-level names to zerolog levels: debug, info,
// warning (or warn), error, and critical, which is zerolog's FatalLevel — written
// with Critical, never with Fatal, which would exit.
func Level(name string) (zerolog.Level, error) {
	switch name {
	case "debug":
		return zerolog.DebugLevel, nil
	case "info":
		return zerolog.InfoLevel, nil
	case "warning", "warn":
		return zerolog.WarnLevel, nil
	case "error":
		return zerolog.ErrorLevel, nil
	case "critical":
		return zerolog.FatalLevel, nil
	}
	return zerolog.NoLevel, fmt.Errorf("unknown log level %q: use debug, info, warning, error or critical", name)
}

// ErrorLog builds the error logger for cfg: JSON lines with level, time, pid and
// message, written to cfg.ErrorLogFile ("-" = stderr, else appended to the file),
// filtered at cfg.LogLevel. Levels are written with Gunicorn's names ("warning",
// "critical"). The returned file is what SIGUSR1 reopens; close it at exit.
func ErrorLog(cfg *config.Config) (zerolog.Logger, *ReopenFile, error) {
	level, err := Level(cfg.LogLevel)
	if err != nil {
		return zerolog.Nop(), nil, err
	}
	f, err := OpenFile(cfg.ErrorLogFile, os.Stderr)
	if err != nil {
		return zerolog.Nop(), nil, err
	}
	return NewErrorLogger(f, level), f, nil
}

// NewErrorLogger is the error logger over any writer, as ErrorLog builds it.
func NewErrorLogger(w interface{ Write([]byte) (int, error) }, level zerolog.Level) zerolog.Logger {
	return zerolog.New(gunicornLevels{w}).Level(level).With().Timestamp().Int("pid", os.Getpid()).Logger()
}

// Critical starts an event at Gunicorn's critical level (zerolog's fatal level,
// without the exit that Logger.Fatal performs), written as "level":"critical".
func Critical(l *zerolog.Logger) *zerolog.Event {
	return l.WithLevel(zerolog.FatalLevel)
}

// gunicornLevels renames zerolog's "warn" and "fatal" to Gunicorn's "warning" and
// "critical" in the level field, which zerolog writes first in every event.
type gunicornLevels struct {
	w interface{ Write([]byte) (int, error) }
}

var (
	warnPrefix     = []byte(`{"level":"warn"`)
	fatalPrefix    = []byte(`{"level":"fatal"`)
	warningPrefix  = []byte(`{"level":"warning"`)
	criticalPrefix = []byte(`{"level":"critical"`)
	renamePool     bytebufferpool.Pool
)

func (g gunicornLevels) Write(p []byte) (int, error) { return g.w.Write(p) }

func (g gunicornLevels) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	var from, to []byte
	switch level {
	case zerolog.WarnLevel:
		from, to = warnPrefix, warningPrefix
	case zerolog.FatalLevel:
		from, to = fatalPrefix, criticalPrefix
	default:
		return g.w.Write(p)
	}
	if !bytes.HasPrefix(p, from) {
		return g.w.Write(p)
	}
	b := renamePool.Get()
	defer renamePool.Put(b)
	b.B = append(append(b.B, to...), p[len(from):]...)
	if _, err := g.w.Write(b.B); err != nil {
		return 0, err
	}
	return len(p), nil
}
