package engine

import "sync"

// connSet holds every open connection, for the goroutines that visit them all:
// the clock (deadlines, held responses, eviction at the cap) and a graceful stop.
// The loops add and remove a connection as it opens and closes; the links live in
// the conn itself, so neither allocates (a sync.Map allocated a node per
// connection: one more allocation per nginx uwsgi_pass request).
type connSet struct {
	mu   sync.Mutex
	head *conn
}

// connLinks are a conn's place in its server's connSet.
type connLinks struct {
	prev, next *conn
	in         bool
}

func (s *connSet) add(c *conn) {
	s.mu.Lock()
	if !c.links.in {
		c.links = connLinks{next: s.head, in: true}
		if s.head != nil {
			s.head.links.prev = c
		}
		s.head = c
	}
	s.mu.Unlock()
}

func (s *connSet) remove(c *conn) {
	s.mu.Lock()
	if c.links.in {
		if c.links.prev != nil {
			c.links.prev.links.next = c.links.next
		} else {
			s.head = c.links.next
		}
		if c.links.next != nil {
			c.links.next.links.prev = c.links.prev
		}
		c.links = connLinks{}
	}
	s.mu.Unlock()
}

// each calls visit for every connection until it returns false. The set is
// locked meanwhile: visit must not open or close connections, and should be
// quick (an atomic load, a Wake); loops opening or closing a connection wait.
func (s *connSet) each(visit func(c *conn) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := s.head; c != nil; c = c.links.next {
		if !visit(c) {
			return
		}
	}
}
