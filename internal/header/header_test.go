package header

import (
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

func TestCommonSpellings(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"canonical", "User-Agent", "User-Agent", true},
		{"lower case", "user-agent", "User-Agent", true},
		{"websocket capitals", "Sec-WebSocket-Key", "Sec-Websocket-Key", true},
		{"upper case is not interned", "USER-AGENT", "", false},
		{"unknown", "X-Custom", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Common([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Common(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// Every interned name must be what net/textproto would have made of it, in every
// spelling, so that interning never changes a request.
func TestTableAgreesWithTextproto(t *testing.T) {
	for _, k := range common {
		if c := textproto.CanonicalMIMEHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (want %q)", k, c)
		}
		lower := strings.ToLower(k)
		if got := CanonicalLower(lower); got != k {
			t.Errorf("CanonicalLower(%q) = %q", lower, got)
		}
		if got, ok := Lower(k); !ok || got != lower {
			t.Errorf("Lower(%q) = %q, %v", k, got, ok)
		}
		cgi := strings.ReplaceAll(strings.ToUpper(k), "-", "_")
		if got, ok := CommonCGI([]byte(cgi)); !ok || got != k {
			t.Errorf("CommonCGI(%q) = %q, %v", cgi, got, ok)
		}
	}
	if got := CanonicalLower("x-made-up"); got != "X-Made-Up" {
		t.Errorf("CanonicalLower of an unknown name = %q", got)
	}
}

func TestMethodSharesConstants(t *testing.T) {
	for _, m := range []string{"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"} {
		if got, ok := Method([]byte(m)); got != m || !ok {
			t.Errorf("Method(%q) = %q, %v", m, got, ok)
		}
	}
	if got, ok := Method([]byte("PROPFIND")); got != "" || ok {
		t.Errorf("Method(PROPFIND) = %q, %v; want \"\", false", got, ok)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Method([]byte("GET")) }); n != 0 {
		t.Errorf("Method(GET) allocates %v times", n)
	}
}

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"one", "a", []string{"a"}},
		{"spaces and tabs trimmed", " a ,\tb\t", []string{"a", "b"}},
		{"empty elements dropped", ",a,,b,", []string{"a", "b"}},
		{"only commas", " , ,", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitList(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDeclaredTrailers(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want http.Header
	}{
		{"no Trailer field", nil, nil},
		{"names canonical, values nil", []string{"x-checksum, expires", "X-Other"},
			http.Header{"X-Checksum": nil, "Expires": nil, "X-Other": nil}},
		{"a field naming nothing", []string{" , "}, http.Header{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeclaredTrailers(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("DeclaredTrailers(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestByteClasses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		class uint8
		want  bool
	}{
		{"token", "X-Custom_1!#$%&'*+.^`|~", ClassToken, true},
		{"token refuses separators", "a b", ClassToken, false},
		{"token refuses a colon", "a:b", ClassToken, false},
		{"value takes tab and obs-text", "a\tb \x80\xff", ClassValue, true},
		{"value refuses CR", "a\rb", ClassValue, false},
		{"value refuses DEL", "a\x7f", ClassValue, false},
		{"host takes IPv6 literals and ports", "[::1]:80", ClassHost, true},
		{"host refuses a slash", "a/b", ClassHost, false},
		{"hex", "09afAF", ClassHex, true},
		{"hex refuses g", "g", ClassHex, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllOf(tc.in, tc.class); got != tc.want {
				t.Fatalf("AllOf(%q) = %v", tc.in, got)
			}
			if got := AllOf([]byte(tc.in), tc.class); got != tc.want {
				t.Fatalf("AllOf([]byte(%q)) = %v", tc.in, got)
			}
		})
	}
	if IsToken("") || IsToken([]byte{}) {
		t.Error("the empty string is a token")
	}
}
