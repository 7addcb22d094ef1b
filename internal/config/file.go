package config

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A config file is Gunicorn's gunicorn.conf.py reduced to what real files mostly hold:
// `name = value` lines whose value is a Python literal — an int, a float, a string
// ('…', "…", triple-quoted, r-prefixed), True, False, None, or a list or tuple of
// those — with # comments and lines joined inside brackets. Anything else (imports,
// functions, expressions, unknown names) is an error naming the file and line: a
// setting that silently did nothing would be worse.

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokNewline
	tokName
	tokString
	tokNumber
	tokPunct // = [ ] ( ) ,
	tokOther // anything this subset does not know
)

type token struct {
	kind tokKind
	text string // the decoded value of a string, the source text otherwise
	raw  string // the source text
	line int
}

type lexer struct {
	src   string
	pos   int
	line  int
	depth int // bracket nesting: newlines inside brackets join lines, as in Python
	path  string
	atBOL bool
}

func (lx *lexer) errorf(line int, format string, a ...any) error {
	return fmt.Errorf("gonicorn: %s:%d: %s", lx.path, line, fmt.Sprintf(format, a...))
}

// next returns the next token, skipping blanks, comments and joined lines.
func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.pos++
			lx.line++
			if lx.depth == 0 {
				lx.atBOL = true
				return token{kind: tokNewline, line: lx.line - 1}, nil
			}
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			if lx.atBOL && lx.depth == 0 && !lx.blankRestOfLine() {
				return token{}, lx.errorf(lx.line, "unexpected indentation: only top-level `name = value` lines are supported")
			}
			lx.pos++
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '\\' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '\n':
			lx.pos += 2
			lx.line++
		default:
			lx.atBOL = false
			return lx.token()
		}
	}
	return token{kind: tokEOF, line: lx.line}, nil
}

// blankRestOfLine reports whether the current line holds only blanks or a comment.
func (lx *lexer) blankRestOfLine() bool {
	for i := lx.pos; i < len(lx.src); i++ {
		switch lx.src[i] {
		case ' ', '\t', '\r', '\f':
		case '\n', '#':
			return true
		default:
			return false
		}
	}
	return true
}

func (lx *lexer) token() (token, error) {
	start, c := lx.pos, lx.src[lx.pos]
	switch {
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		end := start
		for end < len(lx.src) && isNameByte(lx.src[end]) {
			end++
		}
		word := lx.src[start:end]
		if end < len(lx.src) && (lx.src[end] == '\'' || lx.src[end] == '"') && len(word) <= 2 {
			return lx.stringToken(word)
		}
		lx.pos = end
		return token{kind: tokName, text: word, raw: word, line: lx.line}, nil
	case c == '\'' || c == '"':
		return lx.stringToken("")
	case c >= '0' && c <= '9' || c == '.' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] >= '0' && lx.src[lx.pos+1] <= '9':
		end := start
		for end < len(lx.src) {
			b := lx.src[end]
			if isNameByte(b) || b == '.' || (b == '+' || b == '-') && (lx.src[end-1] == 'e' || lx.src[end-1] == 'E') && !strings.HasPrefix(strings.ToLower(lx.src[start:end]), "0x") {
				end++
				continue
			}
			break
		}
		lx.pos = end
		return token{kind: tokNumber, text: lx.src[start:end], raw: lx.src[start:end], line: lx.line}, nil
	case strings.IndexByte("=[](),-+", c) >= 0:
		lx.pos++
		if c == '=' && lx.pos < len(lx.src) && lx.src[lx.pos] == '=' {
			lx.pos++
			return token{kind: tokOther, raw: "==", line: lx.line}, nil
		}
		switch c {
		case '[', '(':
			lx.depth++
		case ']', ')':
			if lx.depth > 0 {
				lx.depth--
			}
		}
		return token{kind: tokPunct, text: string(c), raw: string(c), line: lx.line}, nil
	}
	r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
	lx.pos += size
	return token{kind: tokOther, raw: string(r), line: lx.line}, nil
}

func isNameByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// stringToken reads a Python string literal whose prefix (r, u; b and f refused)
// has been seen; lx.pos is at the prefix.
func (lx *lexer) stringToken(pfx string) (token, error) {
	line, start := lx.line, lx.pos
	raw := false
	for _, p := range strings.ToLower(pfx) {
		switch p {
		case 'r':
			raw = true
		case 'u':
		case 'b':
			return token{}, lx.errorf(line, "bytes literals are not supported; use a string")
		case 'f':
			return token{}, lx.errorf(line, "f-strings are not supported; use a plain string")
		default:
			return token{}, lx.errorf(line, "unsupported string prefix %q", pfx)
		}
	}
	lx.pos += len(pfx)
	q := lx.src[lx.pos]
	delim := string(q)
	if strings.HasPrefix(lx.src[lx.pos:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	lx.pos += len(delim)
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) {
			return token{}, lx.errorf(line, "unterminated string")
		}
		if strings.HasPrefix(lx.src[lx.pos:], delim) {
			lx.pos += len(delim)
			return token{kind: tokString, text: b.String(), raw: lx.src[start:lx.pos], line: line}, nil
		}
		c := lx.src[lx.pos]
		switch {
		case c == '\n' && len(delim) == 1:
			return token{}, lx.errorf(line, "unterminated string")
		case c == '\n':
			lx.line++
			b.WriteByte(c)
			lx.pos++
		case c == '\\' && raw:
			// In a raw string a backslash stays, and still keeps the next quote.
			b.WriteByte(c)
			lx.pos++
			if lx.pos < len(lx.src) {
				if lx.src[lx.pos] == '\n' {
					lx.line++
				}
				b.WriteByte(lx.src[lx.pos])
				lx.pos++
			}
		case c == '\\':
			if err := lx.escape(&b, line); err != nil {
				return token{}, err
			}
		default:
			b.WriteByte(c)
			lx.pos++
		}
	}
}

// escape decodes one backslash escape of a non-raw string at lx.pos.
func (lx *lexer) escape(b *strings.Builder, line int) error {
	lx.pos++ // the backslash
	if lx.pos >= len(lx.src) {
		return lx.errorf(line, "unterminated string")
	}
	c := lx.src[lx.pos]
	lx.pos++
	simple := map[byte]byte{'\\': '\\', '\'': '\'', '"': '"', 'n': '\n', 't': '\t', 'r': '\r',
		'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v'}
	if d, ok := simple[c]; ok {
		b.WriteByte(d)
		return nil
	}
	switch c {
	case '\n':
		lx.line++
		return nil
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if lx.pos+n > len(lx.src) {
			return lx.errorf(line, "truncated \\%c escape", c)
		}
		v, err := strconv.ParseUint(lx.src[lx.pos:lx.pos+n], 16, 32)
		if err != nil || v > utf8.MaxRune {
			return lx.errorf(line, "bad \\%c escape %q", c, lx.src[lx.pos:lx.pos+n])
		}
		lx.pos += n
		b.WriteRune(rune(v))
		return nil
	}
	if c >= '0' && c <= '7' {
		v := int(c - '0')
		for k := 0; k < 2 && lx.pos < len(lx.src) && lx.src[lx.pos] >= '0' && lx.src[lx.pos] <= '7'; k++ {
			v = v*8 + int(lx.src[lx.pos]-'0')
			lx.pos++
		}
		b.WriteRune(rune(v))
		return nil
	}
	// Python keeps unknown escapes as they are.
	b.WriteByte('\\')
	b.WriteByte(c)
	return nil
}

// pyValue is a parsed literal.
type pyValue struct {
	kind  pyKind
	text  string    // the value as a setting reads it: "30", "0.5", "true", "x"
	raw   string    // as written
	items []pyValue // a list or tuple
}

type pyKind uint8

const (
	pyStr pyKind = iota
	pyInt
	pyFloat
	pyBool
	pyNone
	pyList
)

// parseFile reads a config file into assignments, in file order.
func parseFile(path string, data []byte) ([]assignment, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("gonicorn: %s: not UTF-8 text", path)
	}
	lx := &lexer{src: string(data), line: 1, path: path, atBOL: true}
	var out []assignment
	for {
		tok, err := lx.next()
		if err != nil {
			return nil, err
		}
		switch tok.kind {
		case tokEOF:
			return out, nil
		case tokNewline:
			continue
		}
		line := tok.line
		unsupported := lx.errorf(line, "only `name = value` lines with literal values are supported")
		if tok.kind != tokName {
			return nil, unsupported
		}
		eq, err := lx.next()
		if err != nil {
			return nil, err
		}
		if eq.kind != tokPunct || eq.text != "=" {
			return nil, unsupported
		}
		val, err := parseValue(lx, line)
		if err != nil {
			return nil, err
		}
		end, err := lx.next()
		if err != nil {
			return nil, err
		}
		if end.kind != tokNewline && end.kind != tokEOF {
			return nil, lx.errorf(line, "%s: unsupported expression after %s: only literal values are supported", tok.text, val.raw)
		}
		a, skip, err := assign(tok.text, val, fmt.Sprintf("%s:%d", path, line))
		if err != nil {
			return nil, err
		}
		if !skip {
			out = append(out, a)
		}
		if end.kind == tokEOF {
			return out, nil
		}
	}
}

// parseValue reads one literal: a scalar, or a list or tuple of scalars.
func parseValue(lx *lexer, line int) (pyValue, error) {
	tok, err := lx.next()
	if err != nil {
		return pyValue{}, err
	}
	if tok.kind == tokPunct && (tok.text == "[" || tok.text == "(") {
		closer := map[string]string{"[": "]", "(": ")"}[tok.text]
		list := pyValue{kind: pyList}
		raw := []string{}
		sawComma := false
		for {
			t, err := lx.next()
			if err != nil {
				return pyValue{}, err
			}
			if t.kind == tokPunct && t.text == closer {
				break
			}
			if len(list.items) > 0 {
				if t.kind != tokPunct || t.text != "," {
					return pyValue{}, lx.errorf(t.line, "expected , or %s in a list", closer)
				}
				sawComma = true
				if t, err = lx.next(); err != nil {
					return pyValue{}, err
				}
				if t.kind == tokPunct && t.text == closer {
					break
				}
			}
			item, err := scalar(lx, t)
			if err != nil {
				return pyValue{}, err
			}
			list.items = append(list.items, item)
			raw = append(raw, item.raw)
		}
		if tok.text == "(" && len(list.items) == 1 && !sawComma {
			return list.items[0], nil // (x) is x, not a tuple
		}
		open, shut := "[", "]"
		if tok.text == "(" {
			open, shut = "(", ")"
		}
		list.raw = open + strings.Join(raw, ", ") + shut
		return list, nil
	}
	return scalar(lx, tok)
}

// scalar reads a literal that is not a list, starting at tok.
func scalar(lx *lexer, tok token) (pyValue, error) {
	sign := ""
	if tok.kind == tokPunct && (tok.text == "-" || tok.text == "+") {
		sign = tok.text
		t, err := lx.next()
		if err != nil {
			return pyValue{}, err
		}
		if t.kind != tokNumber {
			return pyValue{}, lx.errorf(t.line, "only literal values are supported")
		}
		tok = t
	}
	switch tok.kind {
	case tokString:
		return pyValue{kind: pyStr, text: tok.text, raw: tok.raw}, nil
	case tokNumber:
		v, err := pyNumber(tok.text)
		if err != nil {
			return pyValue{}, lx.errorf(tok.line, "%s", err)
		}
		if sign == "-" && v.text != "0" {
			v.text = "-" + v.text
		}
		v.raw = sign + tok.raw
		return v, nil
	case tokName:
		switch tok.text {
		case "True":
			return pyValue{kind: pyBool, text: "true", raw: "True"}, nil
		case "False":
			return pyValue{kind: pyBool, text: "false", raw: "False"}, nil
		case "None":
			return pyValue{kind: pyNone, raw: "None"}, nil
		}
		return pyValue{}, lx.errorf(tok.line, "%s: names and expressions are not supported, only literal values", tok.text)
	case tokNewline, tokEOF:
		return pyValue{}, lx.errorf(tok.line, "missing value")
	}
	return pyValue{}, lx.errorf(tok.line, "unsupported syntax %q: only literal values are supported", tok.raw)
}

// pyNumber reads a Python int (decimal, 0x, 0o, 0b, with _ separators) or float.
func pyNumber(s string) (pyValue, error) {
	clean := strings.ReplaceAll(s, "_", "")
	if strings.Contains(s, "__") || strings.HasSuffix(s, "_") {
		return pyValue{}, fmt.Errorf("bad number %q", s)
	}
	lower := strings.ToLower(clean)
	if len(lower) > 1 && lower[0] == '0' && lower[1] >= '0' && lower[1] <= '9' && strings.Trim(lower, "0") != "" &&
		!strings.ContainsAny(lower, ".e") {
		return pyValue{}, fmt.Errorf("bad number %q: Python does not allow leading zeros; write 0o%s for octal", s, strings.TrimLeft(lower, "0"))
	}
	if n, ok := new(big.Int).SetString(lower, 0); ok && !strings.ContainsAny(lower, ".") {
		return pyValue{kind: pyInt, text: n.String()}, nil
	}
	if _, err := strconv.ParseFloat(lower, 64); err == nil && !strings.HasPrefix(lower, "0x") {
		return pyValue{kind: pyFloat, text: lower}, nil
	}
	return pyValue{}, fmt.Errorf("bad number %q", s)
}

// assign turns `name = value` into an assignment of the setting called name.
// skip is true for `config`, which names the file itself and has no effect in it.
func assign(name string, v pyValue, where string) (a assignment, skip bool, err error) {
	fail := func(format string, args ...any) (assignment, bool, error) {
		return assignment{}, false, fmt.Errorf("gonicorn: %s: %s", where, fmt.Sprintf(format, args...))
	}
	s := byName[name]
	switch {
	case name == "config":
		return assignment{}, true, nil
	case s == nil:
		return fail("unknown setting %s", name)
	}
	a = assignment{s: s, as: name, where: where, whole: true, shown: v.raw}
	switch {
	case s.kind == vList && v.kind == pyList:
		for _, it := range v.items {
			if it.kind == pyNone || it.kind == pyBool {
				return fail("%s: invalid value %s: list items must be strings", name, v.raw)
			}
			a.values = append(a.values, it.text)
		}
	case s.kind == vList && v.kind == pyNone:
	case s.kind == vList:
		if v.kind == pyBool {
			return fail("%s: invalid value %s: must be a string or a list of strings", name, v.raw)
		}
		a.values = []string{v.text}
	case v.kind == pyList:
		return fail("%s: invalid value %s: must be a single value, not a list", name, v.raw)
	case v.kind == pyNone && s.kind == vOptString:
		a.values = []string{""}
	case v.kind == pyNone:
		return fail("%s: invalid value None: a value is needed", name)
	case v.kind == pyBool && s.kind != vBool:
		return fail("%s: invalid value %s: not a true/false setting", name, v.raw)
	default:
		a.values = []string{v.text}
	}
	return a, false, nil
}
