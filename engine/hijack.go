package engine

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
)

// Hijacking takes the socket out of gnet: the loop waits until every queued byte
// has left, duplicates the descriptor, hands the duplicate and any bytes already
// read to the handler as a plain net.Conn (with deadlines, as gorilla/websocket
// needs), and closes its own descriptor. The socket stays open through the
// duplicate; gnet's close neither shuts it down nor sends anything.

type hijackResult struct {
	fd       int
	buffered []byte
	err      error
}

var (
	errHijackAfterWrite = errors.New("gonicorn: Hijack after the response started")
	errHijackPipelined  = errors.New("gonicorn: Hijack of a request pipelined with others")
)

// Hijack implements http.Hijacker.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return nil, nil, err
	}
	if w.ex.next != nil || w.ex.chained {
		// Requests pipelined around this one were already read from the socket.
		w.mu.Unlock()
		return nil, nil, errHijackPipelined
	}
	if !w.c.dialect.hijackable() {
		w.mu.Unlock()
		return nil, nil, http.ErrNotSupported
	}
	if w.headSent {
		w.mu.Unlock()
		return nil, nil, errHijackAfterWrite
	}
	w.hijacked = true
	// The connection is the handler's now, for as long as it likes (a WebSocket):
	// it leaves --timeout and the pool's accounting, so no "exceeded" error is
	// logged and the heartbeat never counts it stuck.
	detachHandler(w.req.Context())
	ex := w.ex
	ex.hijack = make(chan hijackResult, 1)
	w.mu.Unlock()

	if err := ex.c.gc.Wake(onHijackWake); err != nil {
		return nil, nil, fmt.Errorf("gonicorn: hijack: %w", err)
	}
	res := <-ex.hijack
	if res.err != nil {
		return nil, nil, fmt.Errorf("gonicorn: hijack: %w", res.err)
	}
	f := os.NewFile(uintptr(res.fd), "hijacked")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("gonicorn: hijack: %w", err)
	}
	hc := &hijackedConn{Conn: nc, pre: res.buffered}
	return hc, bufio.NewReadWriter(bufio.NewReader(hc), bufio.NewWriter(hc)), nil
}

// completeHijack duplicates the socket for the handler and lets gnet close its copy.
func (c *conn) completeHijack() {
	ex := c.cur
	if ex == nil || ex.hijack == nil {
		return
	}
	var res hijackResult
	if n := c.gc.InboundBuffered(); n > 0 {
		b, _ := c.gc.Peek(n)
		res.buffered = append([]byte(nil), b...)
		_, _ = c.gc.Discard(n)
	}
	if p := c.body.pipe; p != nil {
		p.fail(errConnClosed)
		c.body.pipe = nil
	}
	fd, err := c.gc.Dup() // gnet's Dup: close then also takes the socket out of epoll
	if err != nil {
		res.err = err
		ex.hijack <- res
		_ = c.gc.Close()
		return
	}
	res.fd = fd
	c.cur = nil
	ex.hijack <- res
	_ = c.gc.Close()
}

// hijackedConn is the handler's connection after Hijack; bytes read by the event
// loop before the hijack come first.
type hijackedConn struct {
	net.Conn
	pre []byte
}

func (h *hijackedConn) Read(p []byte) (int, error) {
	if len(h.pre) > 0 {
		n := copy(p, h.pre)
		h.pre = h.pre[n:]
		return n, nil
	}
	return h.Conn.Read(p)
}
