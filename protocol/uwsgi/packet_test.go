package uwsgi

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValidPackets(t *testing.T) {
	tests := []struct {
		name      string
		buf       []byte
		lim       *Limits
		wantN     int
		wantMod2  byte
		wantPairs []string
	}{
		{"no variables", frame(0, 0, nil), nil, 4, 0, nil},
		{"one variable", packet("REQUEST_METHOD", "GET"), nil, 4 + 2 + 14 + 2 + 3, 0, []string{"REQUEST_METHOD", "GET"}},
		{"empty value", packet("CONTENT_TYPE", ""), nil, 4 + 2 + 12 + 2, 0, []string{"CONTENT_TYPE", ""}},
		{"empty value last after others", packet("A", "1", "B", ""), nil, 4 + 3 + 3 + 3 + 2, 0, []string{"A", "1", "B", ""}},
		{"repeated keys kept in order", packet("HTTP_X", "1", "HTTP_X", "2"), nil, 4 + 2*(2+6+2+1), 0, []string{"HTTP_X", "1", "HTTP_X", "2"}},
		{"modifier2 is reported", frame(0, 7, encodeVars("K", "V")), nil, 4 + 6, 7, []string{"K", "V"}},
		{"body after the packet is not consumed", append(packet("K", "V"), "body"...), nil, 4 + 6, 0, []string{"K", "V"}},
		{"exactly at the variable limit", packet("A", "", "B", ""), &Limits{MaxVars: 2}, 4 + 2*5, 0, []string{"A", "", "B", ""}},
		{"binary bytes in a value", packet("K", "\x00\xff\r\n"), nil, 4 + 3 + 6, 0, []string{"K", "\x00\xff\r\n"}},
		{"largest datasize", packet("K", strings.Repeat("v", 0xffff-5)), nil, MaxPacketSize, 0, []string{"K", strings.Repeat("v", 0xffff-5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			n, err := Parse(tt.buf, tt.lim, &p)
			if err != nil || n != tt.wantN {
				t.Fatalf("Parse = (%d, %v), want (%d, nil)", n, err, tt.wantN)
			}
			if p.Modifier1 != 0 || p.Modifier2 != tt.wantMod2 {
				t.Errorf("modifiers = %d, %d, want 0, %d", p.Modifier1, p.Modifier2, tt.wantMod2)
			}
			if got := pairs(&p); !equalStrings(got, tt.wantPairs) {
				t.Errorf("vars = %q, want %q", got, tt.wantPairs)
			}
		})
	}
}

func TestParseRejectsBadPackets(t *testing.T) {
	tests := []struct {
		name string
		buf  []byte
		lim  *Limits
		want *Error
	}{
		{"modifier1 is not 0", frame(5, 0, encodeVars("K", "V")), nil, errModifier1},
		{"modifier1 known from the first byte alone", []byte{1}, nil, errModifier1},
		{"one byte left after the last variable", frame(0, 0, append(encodeVars("K", "V"), 0)), nil, errTrailingByte},
		{"key length runs past datasize", frame(0, 0, []byte{10, 0, 'K', 'E', 'Y'}), nil, errKeySize},
		{"key fills datasize with no value length", frame(0, 0, []byte{3, 0, 'K', 'E', 'Y'}), nil, errKeySize},
		{"key leaves one byte of value length", frame(0, 0, []byte{3, 0, 'K', 'E', 'Y', 1}), nil, errKeySize},
		{"value length runs past datasize", frame(0, 0, []byte{1, 0, 'K', 5, 0, 'v'}), nil, errValueSize},
		{"value length runs past datasize into the body", append(frame(0, 0, []byte{1, 0, 'K', 5, 0, 'v'}), "body"...), nil, errValueSize},
		{"empty key", frame(0, 0, []byte{0, 0, 1, 0, 'v'}), nil, errEmptyKey},
		{"empty key after a good variable", frame(0, 0, append(encodeVars("K", "V"), 0, 0, 0, 0)), nil, errEmptyKey},
		{"more variables than the limit", packet("A", "", "B", "", "C", ""), &Limits{MaxVars: 2}, errTooManyVars},
		{"more variables than the default limit", packet(manyVars(DefaultMaxVars + 1)...), nil, errTooManyVars},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			n, err := Parse(tt.buf, tt.lim, &p)
			var pe *Error
			if n != 0 || !errors.As(err, &pe) || pe != tt.want {
				t.Fatalf("Parse = (%d, %v), want (0, %v)", n, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "uwsgi: ") || pe.Reason == "" {
				t.Errorf("error text %q lacks the protocol prefix or a reason", err.Error())
			}
		})
	}
}

func TestParseDefaultLimitAcceptsDefaultMaxVars(t *testing.T) {
	for _, lim := range []*Limits{nil, {}, {MaxVars: -1}} {
		var p Packet
		if n, err := Parse(packet(manyVars(DefaultMaxVars)...), lim, &p); n == 0 || err != nil {
			t.Fatalf("limits %+v: Parse = (%d, %v), want a complete packet", lim, n, err)
		}
		if len(p.Vars) != DefaultMaxVars {
			t.Fatalf("got %d vars, want %d", len(p.Vars), DefaultMaxVars)
		}
	}
}

// TestParseSplitAtEveryByte feeds every prefix of a packet, as reads from a socket
// would: each shorter prefix needs more bytes, and the whole parses the same as ever.
func TestParseSplitAtEveryByte(t *testing.T) {
	bufs := map[string][]byte{
		"nginx GET":        nginxGET("HTTP_USER_AGENT", "test", "HTTP_X_A", "1", "HTTP_X_A", "2"),
		"no variables":     frame(0, 0, nil),
		"real nginx POST":  readTestdata(t, "nginx_post.bin"),
		"bad trailing":     frame(0, 0, append(encodeVars("K", "V"), 0)),
		"bad value length": frame(0, 0, []byte{1, 0, 'K', 5, 0, 'v'}),
	}
	for name, buf := range bufs {
		t.Run(name, func(t *testing.T) {
			var whole Packet
			wantN, wantErr := Parse(buf, nil, &whole)
			end := wantN
			if wantErr != nil || end == 0 {
				end = len(buf)
			}
			for i := 0; i < end; i++ {
				var p Packet
				if n, err := Parse(buf[:i], nil, &p); n != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: Parse = (%d, %v), want (0, nil)", i, n, err)
				}
			}
			for i := end; i <= len(buf); i++ {
				var p Packet
				n, err := Parse(buf[:i], nil, &p)
				if n != wantN || err != wantErr {
					t.Fatalf("prefix of %d bytes: Parse = (%d, %v), want (%d, %v)", i, n, err, wantN, wantErr)
				}
				if err == nil && !equalStrings(pairs(&p), pairs(&whole)) {
					t.Fatalf("prefix of %d bytes: vars %q, want %q", i, pairs(&p), pairs(&whole))
				}
			}
		})
	}
}

func TestParseSeveralPacketsInOneBuffer(t *testing.T) {
	first := packet("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "5")
	second := packet("REQUEST_METHOD", "GET")
	third := frame(0, 3, nil)
	buf := append(append(append(append([]byte{}, first...), "hello"...), second...), third...)

	var p Packet
	n, err := Parse(buf, nil, &p)
	if err != nil || n != len(first) {
		t.Fatalf("first: Parse = (%d, %v), want (%d, nil)", n, err, len(first))
	}
	if got := string(buf[n : n+5]); got != "hello" {
		t.Fatalf("body after the first packet = %q", got)
	}
	buf = buf[n+5:]
	if n, err = Parse(buf, nil, &p); err != nil || n != len(second) || !equalStrings(pairs(&p), []string{"REQUEST_METHOD", "GET"}) {
		t.Fatalf("second: Parse = (%d, %v) vars %q", n, err, pairs(&p))
	}
	buf = buf[n:]
	if n, err = Parse(buf, nil, &p); err != nil || n != len(third) || len(p.Vars) != 0 || p.Modifier2 != 3 {
		t.Fatalf("third: Parse = (%d, %v) vars %q modifier2 %d", n, err, pairs(&p), p.Modifier2)
	}
}

func TestParseReusesVarsWithoutAllocating(t *testing.T) {
	buf := readTestdata(t, "nginx_get.bin")
	var p Packet
	if _, err := Parse(buf, nil, &p); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse(buf, nil, &p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse allocated %v times per packet with a warm Packet, want 0", allocs)
	}
	bad := frame(0, 0, []byte{1, 0, 'K', 5, 0, 'v'})
	if allocs := testing.AllocsPerRun(100, func() { _, _ = Parse(bad, nil, &p) }); allocs != 0 {
		t.Fatalf("a rejected packet allocated %v times, want 0", allocs)
	}
}

func TestParseGrowsAFreshPacketOnce(t *testing.T) {
	for _, name := range []string{"nginx_get.bin", "nginx_post.bin"} {
		buf := readTestdata(t, name)
		var want Packet
		if _, err := Parse(buf, nil, &want); err != nil {
			t.Fatal(err)
		}
		p := new(Packet)
		allocs := testing.AllocsPerRun(100, func() {
			*p = Packet{}
			if _, err := Parse(buf, nil, p); err != nil {
				t.Fatal(err)
			}
			if len(p.Vars) != cap(p.Vars) {
				t.Fatalf("%s: %d vars in a slice of capacity %d, want it exact", name, len(p.Vars), cap(p.Vars))
			}
		})
		if allocs > 1 {
			t.Fatalf("%s: Parse into a fresh Packet allocated %v times, want at most 1", name, allocs)
		}
	}
	// A capacity limit far below the packet's variables still refuses it, having
	// grown no further than the limit.
	buf := packet("A", "1", "B", "2", "C", "3", "D", "4")
	var p Packet
	if _, err := Parse(buf, &Limits{MaxVars: 2}, &p); err != errTooManyVars {
		t.Fatalf("Parse with MaxVars 2 = %v, want errTooManyVars", err)
	}
	if cap(p.Vars) > 2 {
		t.Fatalf("vars grew to %d under a limit of 2", cap(p.Vars))
	}
}

func TestParseVarsCannotOverwriteEachOther(t *testing.T) {
	buf := packet("A", "1", "B", "2")
	var p Packet
	if _, err := Parse(buf, nil, &p); err != nil {
		t.Fatal(err)
	}
	_ = append(p.Vars[0].Key, 'X')
	_ = append(p.Vars[0].Value, 'X')
	if got := pairs(&p); !equalStrings(got, []string{"A", "1", "B", "2"}) {
		t.Fatalf("appending to one var changed the others: %q", got)
	}
}

func TestPacketLookupReturnsTheLastValue(t *testing.T) {
	var p Packet
	if _, err := Parse(packet("K", "first", "OTHER", "x", "K", "last"), nil, &p); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Lookup("K"); !ok || string(v) != "last" {
		t.Errorf("Lookup(K) = %q, %v, want last", v, ok)
	}
	if v, ok := p.Lookup("MISSING"); ok || v != nil {
		t.Errorf("Lookup(MISSING) = %q, %v, want nil, false", v, ok)
	}
}

func TestPacketScheme(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"nothing said", nil, "http"},
		{"REQUEST_SCHEME http", []string{"REQUEST_SCHEME", "http"}, "http"},
		{"REQUEST_SCHEME https", []string{"REQUEST_SCHEME", "https"}, "https"},
		{"REQUEST_SCHEME in capitals", []string{"REQUEST_SCHEME", "HTTPS"}, "https"},
		{"HTTPS on", []string{"HTTPS", "on"}, "https"},
		{"HTTPS ON", []string{"HTTPS", "ON"}, "https"},
		{"HTTPS 1", []string{"HTTPS", "1"}, "https"},
		{"HTTPS off", []string{"HTTPS", "off"}, "http"},
		{"HTTPS empty", []string{"HTTPS", ""}, "http"},
		{"HTTPS on with scheme http", []string{"REQUEST_SCHEME", "http", "HTTPS", "on"}, "https"},
		{"last HTTPS wins", []string{"HTTPS", "on", "HTTPS", "off"}, "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if _, err := Parse(packet(tt.kv...), nil, &p); err != nil {
				t.Fatal(err)
			}
			if got := p.Scheme(); got != tt.want {
				t.Fatalf("Scheme() = %q, want %q", got, tt.want)
			}
		})
	}
}

func pairs(p *Packet) []string {
	var out []string
	for _, v := range p.Vars {
		out = append(out, string(v.Key), string(v.Value))
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func manyVars(n int) []string {
	kv := make([]string, 0, 2*n)
	for i := 0; i < n; i++ {
		kv = append(kv, fmt.Sprintf("V%d", i), "")
	}
	return kv
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("testdata: %v", err)
	}
	return b
}
