package config

import (
	"fmt"
	"strings"
)

// assignment is one value given to one setting by one source.
type assignment struct {
	s *setting
	// values holds one value for a flag; a config-file list holds its items.
	values []string
	// whole says the values replace the setting's list (a config-file assignment)
	// rather than add to what this source gave before (a repeated flag).
	whole bool
	// as is how the source named the setting ("--workers", "-w", "workers"), and
	// where says where it was ("" for the command line, "GONICORN_CMD_ARGS",
	// "FILE:LINE"); both only make errors point at the right place.
	as, where string
	// shown is the value as written, for errors: a Python literal in a file.
	shown string
}

// scanned is what one argument list asked for.
type scanned struct {
	assignments []assignment
	help        bool
	version     bool
}

// scanArgs reads Gunicorn-style arguments: --flag value, --flag=value, -f value,
// -fvalue, -f=value, bare boolean flags (or --flag=false), and "--" ending the flags.
// gonicorn takes no positional arguments: the application is compiled in.
func scanArgs(args []string, where string) (scanned, error) {
	var out scanned
	fail := func(format string, a ...any) (scanned, error) {
		return scanned{}, fmt.Errorf("gonicorn: %s%s", prefix(where), fmt.Sprintf(format, a...))
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		var (
			s        *setting
			as       string
			value    string
			hasValue bool
		)
		switch {
		case arg == "--":
			if i+1 < len(args) {
				return fail("unexpected argument %q: gonicorn takes no positional arguments", args[i+1])
			}
			return out, nil
		case strings.HasPrefix(arg, "--"):
			name, v, ok := strings.Cut(arg[2:], "=")
			as, value, hasValue = "--"+name, v, ok
			if s = lookupFlag(name); s == nil || name == "" {
				return fail("unknown flag %s", as)
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			as = arg[:2]
			if s = byShort[arg[1]]; s == nil {
				return fail("unknown flag %s", as)
			}
			if rest := arg[2:]; rest != "" {
				if s.action || s.kind == vBool {
					return fail("unknown flag %s", arg)
				}
				value, hasValue = strings.TrimPrefix(rest, "="), true
			}
		default:
			return fail("unexpected argument %q: gonicorn takes no positional arguments", arg)
		}
		switch {
		case s.action:
			if hasValue {
				return fail("%s takes no value", as)
			}
			out.help = out.help || s.flag == helpFlag
			out.version = out.version || s.flag == versionFlag
			continue
		case s.kind == vBool:
			if !hasValue {
				value = "true"
			}
		case !hasValue:
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") && len(args[i+1]) > 2 {
				return fail("%s: missing value", as)
			}
			i++
			value = args[i]
		}
		out.assignments = append(out.assignments, assignment{
			s: s, values: []string{value}, as: as, where: where, shown: value,
		})
	}
	return out, nil
}

// prefix turns a source name into the start of an error message.
func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

// apply gives cfg the assignments of one source, in order. A list setting's first
// value in a source replaces what earlier sources gave; further flags add to it.
func apply(cfg *Config, as []assignment) error {
	started := map[*setting]bool{}
	for _, a := range as {
		if a.s.reset != nil && (a.whole || !started[a.s]) {
			a.s.reset(cfg)
			started[a.s] = true
		}
		for _, v := range a.values {
			if err := a.s.set(cfg, v); err != nil {
				return fmt.Errorf("gonicorn: %s%s: invalid value %s: %w", prefix(a.where), a.as, quoteShown(a), err)
			}
		}
	}
	return nil
}

// quoteShown quotes a command-line value; a config-file literal is shown as written.
func quoteShown(a assignment) string {
	if a.whole {
		return a.shown
	}
	return fmt.Sprintf("%q", a.shown)
}
