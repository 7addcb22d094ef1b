package logs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

func decodeLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestErrorLogToFile(t *testing.T) {
	cfg := config.Default()
	cfg.ErrorLogFile = filepath.Join(t.TempDir(), "error.log")
	cfg.LogLevel = "debug"
	log, f, err := ErrorLog(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug().Msg("d")
	log.Info().Msg("booting")
	log.Warn().Msg("w")
	log.Error().Msg("e")
	Critical(&log).Msg("WORKER TIMEOUT (pid:1)")
	f.Close()
	lines := decodeLines(t, readFile(t, cfg.ErrorLogFile))
	wantLevels := []string{"debug", "info", "warning", "error", "critical"}
	if len(lines) != len(wantLevels) {
		t.Fatalf("%d lines, want %d", len(lines), len(wantLevels))
	}
	for i, m := range lines {
		if m["level"] != wantLevels[i] {
			t.Errorf("line %d level %v, want %s", i, m["level"], wantLevels[i])
		}
		if m["pid"] != float64(os.Getpid()) {
			t.Errorf("line %d pid %v", i, m["pid"])
		}
		if _, ok := m["time"]; !ok {
			t.Errorf("line %d has no time", i)
		}
	}
	if lines[4]["message"] != "WORKER TIMEOUT (pid:1)" {
		t.Errorf("critical message %v", lines[4]["message"])
	}
	// Reaching here proves Critical did not exit the process.
}

func TestLogLevelFilters(t *testing.T) {
	tests := []struct {
		level string
		want  []string
	}{
		{"debug", []string{"debug", "info", "warning", "error", "critical"}},
		{"info", []string{"info", "warning", "error", "critical"}},
		{"warning", []string{"warning", "error", "critical"}},
		{"error", []string{"error", "critical"}},
		{"critical", []string{"critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			lvl, err := Level(tt.level)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			log := NewErrorLogger(&b, lvl)
			log.Debug().Msg("")
			log.Info().Msg("")
			log.Warn().Msg("")
			log.Error().Msg("")
			Critical(&log).Msg("")
			var got []string
			for _, m := range decodeLines(t, b.String()) {
				got = append(got, m["level"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("level %s wrote %v, want %v", tt.level, got, tt.want)
			}
		})
	}
}

func TestLevelNames(t *testing.T) {
	for name, want := range map[string]zerolog.Level{"warn": zerolog.WarnLevel, "critical": zerolog.FatalLevel} {
		if got, err := Level(name); err != nil || got != want {
			t.Errorf("Level(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := Level("fatal"); err == nil {
		t.Error(`Level("fatal") accepted`)
	}
	cfg := config.Default()
	cfg.LogLevel = "loud"
	if _, _, err := ErrorLog(&cfg); err == nil {
		t.Error("ErrorLog accepted an unknown level")
	}
}

func TestErrorLogToStderrByDefault(t *testing.T) {
	cfg := config.Default()
	_, f, err := ErrorLog(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != "-" {
		t.Errorf("default error log path %q", f.Path())
	}
	if err := f.Reopen(); err != nil {
		t.Errorf("Reopen of stderr: %v", err)
	}
}

func TestErrorLogBadFile(t *testing.T) {
	cfg := config.Default()
	cfg.ErrorLogFile = filepath.Join(t.TempDir(), "missing", "e.log")
	if _, _, err := ErrorLog(&cfg); err == nil {
		t.Error("ErrorLog opened a file in a missing directory")
	}
}

func TestLevelRenameLeavesOtherText(t *testing.T) {
	var b bytes.Buffer
	log := NewErrorLogger(&b, zerolog.DebugLevel)
	log.Warn().Str("note", `"level":"warn"`).Msg("x")
	m := decodeLines(t, b.String())[0]
	if m["level"] != "warning" || m["note"] != `"level":"warn"` {
		t.Errorf("got %v", m)
	}
}
