package reqmem

import (
	"net/url"
	"reflect"
	"testing"
)

// check compares ParseTarget with url.ParseRequestURI on s.
func check(t *testing.T, s string) {
	t.Helper()
	want, wantErr := url.ParseRequestURI(s)
	u := url.URL{Fragment: "untouched"}
	err := ParseTarget(&u, s)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("ParseTarget(%q) error %v, url's %v", s, err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("ParseTarget(%q) error %q, url's %q", s, err, wantErr)
		}
		if u.Fragment != "untouched" {
			t.Fatalf("ParseTarget(%q) changed the URL on error", s)
		}
		return
	}
	if !reflect.DeepEqual(&u, want) {
		t.Fatalf("ParseTarget(%q) = %#v, url.ParseRequestURI %#v", s, u, *want)
	}
}

func TestParseTargetIsParseRequestURI(t *testing.T) {
	for _, s := range []string{
		"/", "/a/b.c", "/api/items?page=2", "/x?", "/x??", "/x?a?b", "/?", "?", "",
		"*", "/a%20b", "/a b", "/a%zz", "/a%2Fb?x=%zz", "/ü", "/a#frag", "/a?b#c",
		"http://host/p?q", "//host/p", "///p", "HTTP://Host:80/p", "host:80", "a",
		"/a\x00", "/a?\x7f", "/a\tb", "/~user/$&+,:;=@", "/!'()*", "/a?q=ü&x=%20",
		"/[::1]", "/a?b c", "/%", "/a;b", "mailto:x",
	} {
		check(t, s)
	}
	// Every byte, in the path and in the query.
	for c := 0; c < 256; c++ {
		check(t, "/a"+string(rune(c))+"b")
		check(t, "/a"+string([]byte{byte(c)})+"b")
		check(t, "/a?"+string([]byte{byte(c)}))
	}
}

func TestParseTargetAllocatesNothingForAPlainTarget(t *testing.T) {
	var u url.URL
	for _, s := range []string{"/", "/api/items?page=2&sort=name", "/x?"} {
		if n := testing.AllocsPerRun(100, func() {
			if err := ParseTarget(&u, s); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("ParseTarget(%q) allocated %v times, want 0", s, n)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/x?", "/a%20b", "http://h/p", "*", "/a b?c\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}

func TestHeaderValues(t *testing.T) {
	var m Memory
	if v := m.HeaderValues(3); len(v) != 3 || cap(v) != 3 || &v[0] != &m.Values[0] {
		t.Fatalf("HeaderValues(3): want the Memory's first 3 slots, got len %d cap %d", len(v), cap(v))
	}
	if v := m.HeaderValues(Values + 1); len(v) != Values+1 || &v[0] == &m.Values[0] {
		t.Fatalf("HeaderValues(%d): want a slice of its own", Values+1)
	}
}
