package config

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Print writes the configuration for --print-config, Gunicorn style: one
// "name = value" line per setting, sorted by name, names padded so the '=' line up.
// Names are the config-file names (bind, workers, keepalive, accesslog, …) and values
// are Python literals, so the output is itself a valid config file for -c.
func (c *Config) Print(w io.Writer) error {
	type row struct{ name, value string }
	var rows []row
	width := 0
	for _, s := range settings {
		if s.action {
			continue
		}
		r := row{name: s.names[0], value: pyLiteral(s, c)}
		rows = append(rows, r)
		width = max(width, len(r.name))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		fmt.Fprintf(bw, "%-*s = %s\n", width, r.name, r.value)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("printing config: %w", err)
	}
	return nil
}

// pyLiteral writes a setting's value the way the config-file parser reads it.
func pyLiteral(s *setting, c *Config) string {
	switch s.kind {
	case vList:
		items := s.list(c)
		quoted := make([]string, len(items))
		for i, it := range items {
			quoted[i] = pyQuote(it)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	case vBool:
		if s.text(c) == "true" {
			return "True"
		}
		return "False"
	case vNumber:
		return s.text(c)
	case vOptString:
		if s.text(c) == "" {
			return "None"
		}
	}
	return pyQuote(s.text(c))
}

// pyQuote writes s as a single-quoted Python string literal, like Python's repr.
func pyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\'' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0xfffd:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Usage writes the -h/--help text: every flag, what it takes, and its default.
func Usage(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "usage: gonicorn [OPTIONS]\n       gonicorn ctl [-s SOCKET] [--json] COMMAND   (see gonicorn ctl --help)\n\n")
	fmt.Fprintf(bw, "gonicorn %s: a pre-fork application server for Go handlers, in Gunicorn's image.\n", Version)
	fmt.Fprintf(bw, "Settings come from, later winning: defaults, the environment (PORT, WEB_CONCURRENCY),\n")
	fmt.Fprintf(bw, "the -c FILE config file, %s (shell-quoted), then the command line.\n", CmdArgsEnv)
	fmt.Fprintf(bw, "Durations are seconds (30, 0.5) or carry a unit (500ms, 2m).\n")
	def := Default()
	section := ""
	for _, s := range settings {
		if s.section != section {
			section = s.section
			fmt.Fprintf(bw, "\n%s:\n", section)
		}
		left := "  "
		if s.short != 0 {
			left += "-" + string(s.short) + ", "
		} else {
			left += "    "
		}
		left += "--" + s.flag
		for _, a := range s.aliases {
			left += ", --" + a
		}
		if s.metavar != "" {
			left += " " + s.metavar
		} else if !s.action && s.kind != vBool {
			left += " VALUE"
		}
		help := s.help
		if d := usageDefault(s, &def); d != "" {
			help += " (default: " + d + ")"
		}
		const col, width = 40, 100
		lines := wrap(help, width-col)
		if len(left) >= col-1 {
			fmt.Fprintf(bw, "%s\n", left)
		} else {
			fmt.Fprintf(bw, "%-*s%s\n", col, left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(bw, "%*s%s\n", col, "", l)
		}
	}
}

// usageDefault is a setting's default as a user would type it.
func usageDefault(s *setting, def *Config) string {
	switch {
	case s.action:
		return ""
	case s.deflt != "":
		return s.deflt
	case s.kind == vBool:
		return "off"
	}
	return s.text(def)
}

// wrap breaks text into lines of at most width bytes at spaces; a longer word gets
// a line of its own.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}
