package engine

import (
	"slices"
	"testing"
)

func TestConnSet(t *testing.T) {
	var s connSet
	cs := []*conn{{}, {}, {}, {}}
	members := func() []*conn {
		var out []*conn
		s.each(func(c *conn) bool { out = append(out, c); return true })
		return out
	}
	for _, c := range cs {
		s.add(c)
	}
	s.add(cs[0]) // twice is once
	steps := []struct {
		name   string
		remove *conn
		want   []*conn
	}{
		{"all, newest first", nil, []*conn{cs[3], cs[2], cs[1], cs[0]}},
		{"remove the middle", cs[1], []*conn{cs[3], cs[2], cs[0]}},
		{"remove the head", cs[3], []*conn{cs[2], cs[0]}},
		{"remove the tail", cs[0], []*conn{cs[2]}},
		{"remove again: no change", cs[0], []*conn{cs[2]}},
		{"remove the last", cs[2], nil},
	}
	for _, st := range steps {
		if st.remove != nil {
			s.remove(st.remove)
		}
		if got := members(); !slices.Equal(got, st.want) {
			t.Fatalf("%s: got %d members %v, want %v", st.name, len(got), got, st.want)
		}
	}
	s.add(cs[1])
	s.add(cs[2])
	n := 0
	s.each(func(*conn) bool { n++; return false })
	if n != 1 {
		t.Fatalf("each went on after visit returned false: %d visits", n)
	}
}
