package accessformat

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		format string
		want   []Atom
	}{
		{"empty format", "", nil},
		{"plain text is one literal", "hello", []Atom{{Literal, "hello"}}},
		{"every letter atom", "%(h)s%(l)s%(u)s%(t)s%(r)s%(m)s%(U)s%(q)s%(H)s%(s)s%(B)s%(b)s%(f)s%(a)s%(T)s%(M)s%(D)s%(L)s%(p)s",
			[]Atom{{RemoteIP, ""}, {Ident, ""}, {User, ""}, {Time, ""}, {RequestLine, ""}, {Method, ""}, {Path, ""},
				{Query, ""}, {Proto, ""}, {Status, ""}, {BytesZero, ""}, {BytesDash, ""}, {Referer, ""}, {UserAgent, ""},
				{Seconds, ""}, {Millis, ""}, {Micros, ""}, {DecimalSeconds, ""}, {PID, ""}}},
		{"request header keeps its spelling", "%({X-Forwarded-For}i)s", []Atom{{RequestHeader, "X-Forwarded-For"}}},
		{"response header", "%({content-type}o)s", []Atom{{ResponseHeader, "content-type"}}},
		{"environment variable", "%({HOME}e)s", []Atom{{Environ, "HOME"}}},
		{"double percent is a literal percent", "100%% %(s)s", []Atom{{Literal, "100% "}, {Status, ""}}},
		{"literals around atoms", `"%(r)s" done`, []Atom{{Literal, `"`}, {RequestLine, ""}, {Literal, `" done`}}},
		{"integer conversion on a numeric atom", "%(s)d %(D)i", []Atom{{Status, ""}, {Literal, " "}, {Micros, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.format)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.format, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.format, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, format, mention string
	}{
		{"unknown letter atom", "%(z)s", "unknown atom %(z)s"},
		{"unknown braced suffix", "%({X}x)s", "unknown atom"},
		{"empty braces", "%({}i)s", "unknown atom"},
		{"lone percent at end", "abc%", "offset 3"},
		{"percent without mapping key", "%s", "must start"},
		{"unclosed key", "%(h", "unclosed"},
		{"missing conversion", "%(h)", "lacks a conversion"},
		{"unsupported conversion", "%(h)x", "unsupported conversion"},
		{"integer conversion of a string atom", "%(h)d", "not a number"},
		{"width flags are not supported", "%(h)-10s", "unsupported conversion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.format)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", tt.format)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Parse(%q) error %q does not mention %q", tt.format, err, tt.mention)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`)
	f.Add("%({X-Real-IP}i)s %%")
	f.Add("%(")
	f.Fuzz(func(t *testing.T, format string) {
		atoms, err := Parse(format)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, a := range atoms {
			if a.Kind == Literal {
				b.WriteString(a.Text)
			}
		}
		// Literal text can only come from the format (with %% halved).
		if b.Len() > len(format) {
			t.Fatalf("literals longer than the format: %q", b.String())
		}
	})
}
