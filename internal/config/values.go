package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The parsers below turn one setting's text (as typed on the command line, or as a
// config-file literal rendered to text) into a Go value. Their errors are the reason
// part of "gonicorn: --flag: invalid value "x": REASON".

// parseInt reads a decimal integer in [lo, hi]; reason describes the range.
func parseInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errors.New(rangeReason(lo, hi))
	}
	return n, nil
}

// rangeReason says which integers a setting accepts, in the words a user expects.
func rangeReason(lo, hi int64) string {
	switch {
	case lo == 1 && hi == math.MaxInt:
		return "must be a positive integer"
	case lo == 0 && hi == math.MaxInt:
		return "must be a non-negative integer"
	default:
		return fmt.Sprintf("must be an integer from %d to %d", lo, hi)
	}
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = float64(math.MaxInt64) / float64(time.Second)

const durationReason = `must be seconds ("30", "0.5") or a duration with a unit ("500ms", "1m")`

// parseDuration reads Gunicorn's seconds ("30", "0.5") or a Go duration ("500ms").
// Negative values are refused.
func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, errors.New(durationReason)
	}
	if isDecimal(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f > maxSeconds {
			return 0, errors.New(durationReason)
		}
		return time.Duration(math.Round(f * float64(time.Second))), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New(durationReason)
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// isDecimal reports whether v is digits with at most one '.', and at least one digit.
func isDecimal(v string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// formatDuration prints d as seconds, the form Gunicorn users write: 30s → "30",
// 500ms → "0.5". parseDuration reads it back exactly.
func formatDuration(d time.Duration) string {
	sec, frac := int64(d/time.Second), int64(d%time.Second)
	if frac == 0 {
		return strconv.FormatInt(sec, 10)
	}
	s := strings.TrimRight(fmt.Sprintf("%d.%09d", sec, frac), "0")
	return s
}

const bytesReason = `must be a number of bytes, optionally with a unit ("1048576", "512M", "1G")`

// parseBytes reads a byte count with an optional binary unit: K, M, G or T, optionally
// followed by B or iB, in any case ("512M", "1g", "64KiB", "1.5G").
func parseBytes(v string) (int64, error) {
	num := strings.TrimSpace(v)
	mult := int64(1)
	upper := strings.ToUpper(num)
	for _, suffix := range []string{"IB", "B"} {
		if strings.HasSuffix(upper, suffix) && len(upper) > len(suffix) {
			upper = upper[:len(upper)-len(suffix)]
			break
		}
	}
	if upper != "" {
		switch upper[len(upper)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			upper = upper[:len(upper)-1]
		}
	}
	if !isDecimal(upper) {
		return 0, errors.New(bytesReason)
	}
	if !strings.Contains(upper, ".") {
		n, err := strconv.ParseInt(upper, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, errors.New(bytesReason)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(upper, 64)
	if err != nil {
		return 0, errors.New(bytesReason)
	}
	total := math.Round(f * float64(mult))
	if total >= math.MaxInt64 {
		return 0, errors.New(bytesReason)
	}
	return int64(total), nil
}

const umaskReason = `must be an octal mode from 0 to 0o777 ("0o22", "022") or its decimal value`

// parseUmask reads a umask the way Gunicorn does: "0o22" and "022" are octal,
// "0x12" is hexadecimal, anything else is decimal.
func parseUmask(v string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	base := 10
	switch {
	case strings.HasPrefix(s, "0o"):
		s, base = s[2:], 8
	case strings.HasPrefix(s, "0x"):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil || n < 0 || n > 0o777 {
		return 0, errors.New(umaskReason)
	}
	return int(n), nil
}

// parseBool reads the words a user may write for a boolean.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on", "y", "t":
		return true, nil
	case "false", "0", "no", "off", "n", "f":
		return false, nil
	}
	return false, errors.New("must be true or false")
}

// splitComma splits a comma-separated list, trimming blanks and dropping empty items.
func splitComma(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
