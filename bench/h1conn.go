package bench

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// maxResponseBuffer bounds how much of one response the generator holds: a body
// larger than this fails the run.
const maxResponseBuffer = 64 << 20

type h1State uint8

const (
	h1Closed     h1State = iota
	h1Connecting         // non-blocking connect under way
	h1Open               // connected; requests go out when pending is 0
	h1AwaitEOF           // Connection: close response complete; the server must close
)

// h1Conn is one HTTP/1.1 (or uWSGI) connection slot. Persistent workloads keep it
// open and send a request (or a pipelined batch) as soon as the previous answers
// are in; ConnPerRequest and UWSGI open a new connection for every request.
type h1Conn struct {
	slot  int
	fd    int
	state h1State

	out  []byte // the request bytes of the current round
	wpos int    // how much of out is written

	buf        []byte
	rpos, rend int

	pending  int   // responses awaited
	sentAt   int64 // when the current round started (the connect, for per-request connections)
	eofAt    int64 // when an awaited close began
	eofBody  bool  // the response being read ends at the server's close
	noBody   bool  // requests are HEAD
	closeReq bool  // the server said it will close after this response
}

func newH1Conn(l *loop, slot int) *h1Conn {
	return &h1Conn{slot: slot, fd: -1, buf: make([]byte, 16<<10), noBody: l.spec.Method == "HEAD"}
}

func (c *h1Conn) ready() bool { return c.state == h1Open }

func (c *h1Conn) inflight() (int, int64) {
	switch {
	case c.state == h1AwaitEOF:
		return 1, c.eofAt
	case c.pending > 0:
		return c.pending, c.sentAt
	}
	return 0, 0
}

// open connects the slot. A per-request connection takes its request from the
// loop's budget first and stays closed when there is none.
func (c *h1Conn) open(l *loop) error {
	now := nanotime()
	if !l.persistent() {
		if l.take(1) == 0 {
			return nil
		}
		c.pending, c.sentAt, c.out, c.wpos = 1, now, l.req, 0
	}
	fd, err := startConnect(l.sa, l.family)
	if err != nil {
		return err
	}
	if err := l.ep.add(fd, c.slot); err != nil {
		unix.Close(fd)
		return err
	}
	c.fd, c.state, c.rpos, c.rend = fd, h1Connecting, 0, 0
	c.eofBody, c.closeReq = false, false
	l.connects++
	return nil
}

func (c *h1Conn) close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	c.fd, c.state = -1, h1Closed
}

// kick starts the next round on an idle persistent connection.
func (c *h1Conn) kick(l *loop, now int64) error {
	if c.state != h1Open || c.pending > 0 {
		return nil
	}
	n := l.take(l.spec.Depth)
	if n == 0 {
		return nil
	}
	c.out, c.wpos = l.batch[:n*len(l.req)], 0
	c.pending, c.sentAt = n, now
	return c.flush()
}

// flush writes what is left of out; the socket's next writable edge resumes it.
func (c *h1Conn) flush() error {
	for c.wpos < len(c.out) {
		n, err := unix.Write(c.fd, c.out[c.wpos:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("write: %w", err)
		}
		c.wpos += n
	}
	return nil
}

func (c *h1Conn) handle(l *loop, ev uint32, now int64) error {
	if c.fd < 0 {
		return nil
	}
	if c.state == h1Connecting {
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return nil
		}
		if err := connectResult(c.fd); err != nil {
			return err
		}
		c.state = h1Open
		if l.persistent() {
			return c.kick(l, now)
		}
		// The request of a per-request connection was taken at open.
		if err := c.flush(); err != nil {
			return err
		}
	}
	if ev&unix.EPOLLOUT != 0 && c.wpos < len(c.out) {
		if err := c.flush(); err != nil {
			return err
		}
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		return c.readable(l, now, ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0)
	}
	return nil
}

// readable reads until the socket is drained: a read shorter than the space offered
// means the receive queue is empty, and the edge-triggered epoll will report more;
// once the peer has hung up (hup) no edge will follow, so it reads on to the end.
func (c *h1Conn) readable(l *loop, now int64, hup bool) error {
	for c.fd >= 0 {
		if c.rend == len(c.buf) {
			switch {
			case c.rpos > 0:
				c.rend = copy(c.buf, c.buf[c.rpos:c.rend])
				c.rpos = 0
			case len(c.buf) < maxResponseBuffer:
				c.buf = append(c.buf[:cap(c.buf)], make([]byte, len(c.buf))...)
			default:
				return fmt.Errorf("response larger than %d bytes", maxResponseBuffer)
			}
		}
		space := len(c.buf) - c.rend
		n, err := unix.Read(c.fd, c.buf[c.rend:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("read (%d responses outstanding): %w", c.pending, err)
		case n == 0:
			return c.eof(l, now)
		}
		c.rend += n
		l.bytesIn += int64(n)
		if err := c.parse(l, now); err != nil {
			return err
		}
		if n < space && !hup {
			return nil
		}
	}
	return nil
}

// parse consumes every complete response in the buffer.
func (c *h1Conn) parse(l *loop, now int64) error {
	if c.state == h1AwaitEOF {
		return fmt.Errorf("%d bytes after a Connection: close response", c.rend-c.rpos)
	}
	for c.pending > 0 && c.rpos < c.rend && !c.eofBody {
		r, err := scanResponse(c.buf[c.rpos:c.rend], c.noBody)
		if errors.Is(err, errIncomplete) {
			break
		}
		if err != nil {
			return fmt.Errorf("bad response: %w", err)
		}
		if r.interim {
			c.rpos += r.total
			continue
		}
		if r.untilEOF {
			c.eofBody = true // the body ends where the connection does
			break
		}
		if err := l.checkResponse(r.status, c.buf[c.rpos+r.headLen:c.rpos+r.total], r.chunked); err != nil {
			return err
		}
		c.rpos += r.total
		c.pending--
		c.closeReq = c.closeReq || r.close
		l.complete(c.sentAt, now)
	}
	if c.pending > 0 || c.eofBody {
		return nil
	}
	if c.rpos < c.rend {
		return fmt.Errorf("%d unexpected bytes after the last response", c.rend-c.rpos)
	}
	c.rpos, c.rend = 0, 0
	switch {
	case l.spec.Workload == UWSGI:
		// nginx closes an uwsgi connection once the response is complete.
		c.close()
		return c.open(l)
	case l.spec.Workload == ConnPerRequest:
		c.state, c.eofAt = h1AwaitEOF, now
		return nil
	case c.closeReq:
		c.close()
		l.reconnects++
		return c.open(l)
	}
	l.deferKick(c)
	return nil
}

// eof handles the server closing the connection.
func (c *h1Conn) eof(l *loop, now int64) error {
	if c.eofBody {
		r, err := scanResponse(c.buf[c.rpos:c.rend], c.noBody)
		if err != nil {
			return fmt.Errorf("bad response: %w", err)
		}
		if err := l.checkResponse(r.status, c.buf[c.rpos+r.headLen:c.rend], false); err != nil {
			return err
		}
		c.pending--
		l.complete(c.sentAt, now)
		c.rpos, c.rend, c.eofBody = 0, 0, false
		if c.pending > 0 {
			return fmt.Errorf("server closed the connection with %d pipelined responses outstanding", c.pending)
		}
	} else if c.state != h1AwaitEOF && c.pending > 0 {
		return fmt.Errorf("server closed the connection with %d responses outstanding", c.pending)
	}
	persistentIdle := c.state == h1Open
	c.close()
	if l.persistent() {
		if persistentIdle {
			l.reconnects++
		}
		return c.open(l)
	}
	return c.open(l)
}
