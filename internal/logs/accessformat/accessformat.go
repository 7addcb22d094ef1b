// Package accessformat compiles a Gunicorn access-log format ("%(h)s %(l)s ...", Python
// %-formatting with named atoms) into a list of atoms. It is shared by the config
// validation (--check-config) and the access logger, which formats the atoms.
//
// It only parses: it never formats a log line, reads the environment or does I/O.
package accessformat

import (
	"fmt"
	"strings"
)

// Kind says what an Atom prints.
type Kind uint8

// The atoms of Gunicorn's access log format, named by what they print.
const (
	Literal        Kind = iota // text copied as is (Atom.Text)
	RemoteIP                   // h: the client's IP address
	Ident                      // l: always "-"
	User                       // u: the basic-auth user name
	Time                       // t: the request's start, [02/Jan/2006:15:04:05 -0700]
	RequestLine                // r: "METHOD URI PROTO"
	Method                     // m: the request method
	Path                       // U: the URL path, percent-decoded
	Query                      // q: the query string
	Proto                      // H: the request protocol
	Status                     // s: the response status code
	BytesZero                  // B: response body bytes, 0 when empty
	BytesDash                  // b: response body bytes, "-" when empty
	Referer                    // f: the Referer header
	UserAgent                  // a: the User-Agent header
	Seconds                    // T: request time in whole seconds
	Millis                     // M: request time in whole milliseconds
	Micros                     // D: request time in whole microseconds
	DecimalSeconds             // L: request time in seconds with six decimals
	PID                        // p: "<pid>" of the logging process
	RequestHeader              // {Name}i: a request header (Atom.Text)
	ResponseHeader             // {Name}o: a response header (Atom.Text)
	Environ                    // {NAME}e: an environment variable (Atom.Text)
)

// Atom is one piece of a compiled format: a literal or a value to print.
type Atom struct {
	Kind Kind
	// Text is the literal text of a Literal, or the header or variable name of a
	// RequestHeader, ResponseHeader or Environ atom, as written in the format.
	Text string
}

var letters = map[string]Kind{
	"h": RemoteIP, "l": Ident, "u": User, "t": Time, "r": RequestLine,
	"m": Method, "U": Path, "q": Query, "H": Proto, "s": Status,
	"B": BytesZero, "b": BytesDash, "f": Referer, "a": UserAgent,
	"T": Seconds, "M": Millis, "D": Micros, "L": DecimalSeconds, "p": PID,
}

// numeric lists the atoms that are always integers and so may be written %(x)d.
func numeric(k Kind) bool {
	switch k {
	case Status, BytesZero, Seconds, Millis, Micros:
		return true
	}
	return false
}

// Parse compiles format. "%%" is a literal percent sign; "%(NAME)s" is an atom, and
// integer atoms (s B T M D) may also be written "%(NAME)d" or "%(NAME)i" as Python
// allows. Anything else after a "%" and any unknown atom is an error that names it.
func Parse(format string) ([]Atom, error) {
	var atoms []Atom
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			atoms = append(atoms, Atom{Kind: Literal, Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			j := strings.IndexByte(format[i:], '%')
			if j < 0 {
				j = len(format) - i
			}
			lit.WriteString(format[i : i+j])
			i += j
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		if i+1 >= len(format) || format[i+1] != '(' {
			return nil, fmt.Errorf("access log format: %q at offset %d must start %%(name)s or be %%%%", format[i:min(i+2, len(format))], i)
		}
		end := strings.IndexByte(format[i+2:], ')')
		if end < 0 {
			return nil, fmt.Errorf("access log format: unclosed %q at offset %d", format[i:], i)
		}
		name := format[i+2 : i+2+end]
		convAt := i + 2 + end + 1
		if convAt >= len(format) {
			return nil, fmt.Errorf("access log format: %%(%s) at offset %d lacks a conversion such as s", name, i)
		}
		atom, err := atomFor(name)
		if err != nil {
			return nil, err
		}
		switch conv := format[convAt]; conv {
		case 's':
		case 'd', 'i':
			if !numeric(atom.Kind) {
				return nil, fmt.Errorf("access log format: %%(%s)%c: atom %s is not a number; use %%(%s)s", name, conv, name, name)
			}
		default:
			return nil, fmt.Errorf("access log format: %%(%s)%c: unsupported conversion %q; use s", name, conv, conv)
		}
		flush()
		atoms = append(atoms, atom)
		i = convAt + 1
	}
	flush()
	return atoms, nil
}

func atomFor(name string) (Atom, error) {
	if k, ok := letters[name]; ok {
		return Atom{Kind: k}, nil
	}
	if len(name) >= 3 && name[0] == '{' {
		close := strings.LastIndexByte(name, '}')
		if close == len(name)-2 && close > 1 {
			inner := name[1:close]
			switch name[len(name)-1] {
			case 'i':
				return Atom{Kind: RequestHeader, Text: inner}, nil
			case 'o':
				return Atom{Kind: ResponseHeader, Text: inner}, nil
			case 'e':
				return Atom{Kind: Environ, Text: inner}, nil
			}
		}
	}
	return Atom{}, fmt.Errorf("access log format: unknown atom %%(%s)s", name)
}
