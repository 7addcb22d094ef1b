package config

import (
	"errors"
	"strings"
)

// splitShell splits s into words like a POSIX shell (and Python's shlex.split, which
// Gunicorn uses for GUNICORN_CMD_ARGS): blanks separate words, '…' keeps everything
// literally, "…" keeps everything but lets \ escape " and \, and outside quotes \
// escapes any character. Nothing is expanded.
func splitShell(s string) ([]string, error) {
	var (
		words   []string
		word    strings.Builder
		inWord  bool
		escaped bool
		quote   byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			word.WriteByte(c)
			escaped = false
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				word.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
				i++
				word.WriteByte(s[i])
			default:
				word.WriteByte(c)
			}
		case c == '\\':
			escaped, inWord = true, true
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	switch {
	case quote != 0:
		return nil, errors.New("unterminated " + string(quote) + " quote")
	case escaped:
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
