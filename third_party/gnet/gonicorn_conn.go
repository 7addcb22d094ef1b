// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
)

// ConnControl is what gonicorn's patch adds to a stream Conn. Assert a Conn to it.
type ConnControl interface {
	// TryWrite writes p to the socket from any goroutine, when nothing is queued
	// for the connection and its event loop is not writing it. It returns how
	// many bytes the socket took (fewer than len(p) when the socket buffer is
	// full, 0 on a socket error, which the loop then meets on its own write);
	// ok is false when it did not try: the connection is closed, output is
	// queued, or the loop is writing. It never waits.
	TryWrite(p []byte) (n int, ok bool)
	// PauseRead stops the event loop reading the socket until ResumeRead. Bytes
	// already buffered stay readable; a hang-up or error still closes the
	// connection. Both run on the connection's event loop only.
	PauseRead() error
	// ResumeRead starts reading again after PauseRead.
	ResumeRead() error
	// WriteBeforeClose is Write for the last output of a connection the caller
	// closes (or shuts for writing) right after, on its event loop: over TCP the
	// kernel keeps the last partial segment (MSG_MORE) and the close sends it
	// with the FIN, one segment fewer for both ends. What the socket does not
	// take is queued as with Write, and sent before the close completes.
	WriteBeforeClose(p []byte) (int, error)
}

var _ ConnControl = (*conn)(nil)

// errReadEOF is the error a connection closes with when its peer hung up: the
// same read(2) EOF error gnet made per connection, made once (errors.Is(err,
// io.EOF) holds; nothing writes to it).
var errReadEOF error = os.NewSyscallError("read", io.EOF)

// Owners of a connection's output (gonicornConn.out).
const (
	outFree   int32 = iota // nobody writes
	outDirect              // a TryWrite is in its write(2)
	outLoop                // the event loop writes or changes the outbound buffer
	outClosed              // the socket is closed or closing: nobody writes again
)

// gonicornConn is the state the patch adds to conn.
type gonicornConn struct {
	out        atomic.Int32 // outFree, outDirect, outLoop or outClosed
	outDepth   int          // nesting of holdOut on the loop
	readPaused bool         // PauseRead is in effect (loop only)
	dupped     bool         // Dup was called: the epoll registration outlives close
	unpolled   bool         // accepted, not yet in the poller (acceptOne reads first)
	sendMore   bool         // in WriteBeforeClose: write with MSG_MORE (loop only)
	peer       peerMem      // the peer's address of an accepted connection (acceptOne)
}

// holdOut gives the event loop the connection's output, waiting out a direct
// write in flight (one write(2) call). It is false once the connection closed.
func (c *conn) holdOut() bool {
	if c.outDepth > 0 {
		c.outDepth++
		return true
	}
	for {
		if c.out.CompareAndSwap(outFree, outLoop) {
			c.outDepth = 1
			return true
		}
		if c.out.Load() == outClosed {
			return false
		}
		runtime.Gosched()
	}
}

func (c *conn) releaseOut() {
	if c.outDepth--; c.outDepth == 0 {
		c.out.CompareAndSwap(outLoop, outFree)
	}
}

// closeOut marks the output closed for good, after any direct write in flight.
func (c *conn) closeOut() {
	if c.outDepth > 0 {
		c.out.Store(outClosed)
		return
	}
	for {
		v := c.out.Load()
		if v == outClosed || v == outFree && c.out.CompareAndSwap(outFree, outClosed) {
			return
		}
		runtime.Gosched()
	}
}

// TryWrite implements ConnControl.
func (c *conn) TryWrite(p []byte) (int, bool) {
	if !c.out.CompareAndSwap(outFree, outDirect) {
		return 0, false
	}
	if !c.outboundBuffer.IsEmpty() {
		c.out.Store(outFree)
		return 0, false
	}
	n, err := netpoll.RawWrite(c.fd, p)
	c.out.Store(outFree)
	if err != nil || n < 0 {
		n = 0
	}
	return n, true
}

// WriteBeforeClose implements ConnControl.
func (c *conn) WriteBeforeClose(p []byte) (int, error) {
	if _, tcp := c.localAddr.(*net.TCPAddr); !tcp || c.isDatagram {
		return c.Write(p)
	}
	c.sendMore = true
	n, err := c.write(p)
	c.sendMore = false
	return n, err
}

// rawWrite is the loop's write(2) of data, a send with MSG_MORE in WriteBeforeClose.
func (c *conn) rawWrite(data []byte) (int, error) {
	if c.sendMore {
		return netpoll.RawSendMore(c.fd, data)
	}
	return netpoll.RawWrite(c.fd, data)
}

// PauseRead implements ConnControl.
func (c *conn) PauseRead() error {
	if c.readPaused || !c.opened {
		return nil
	}
	c.readPaused = true
	return c.rearm()
}

// ResumeRead implements ConnControl.
func (c *conn) ResumeRead() error {
	if !c.readPaused || !c.opened {
		return nil
	}
	c.readPaused = false
	return c.rearm()
}

// rearm sets the socket's interest from the paused flag and the outbound buffer.
func (c *conn) rearm() error {
	if c.unpolled {
		return nil // registered with the interest of the moment (pollIn)
	}
	if c.loop.engine.opts.EdgeTriggeredIO {
		return nil // edge-triggered sockets keep read and write interest
	}
	var ev uint32
	if !c.readPaused {
		ev = netpoll.ReadEvents
	}
	if !c.outboundBuffer.IsEmpty() {
		ev |= netpoll.WriteEvents
	}
	return c.loop.poller.ModEvents(&c.pollAttachment, ev)
}

// modReadWrite replaces poller.ModReadWrite where output was queued.
func (c *conn) modReadWrite(isET bool) error {
	if c.unpolled {
		return nil
	}
	if c.readPaused && !isET {
		return c.loop.poller.ModEvents(&c.pollAttachment, netpoll.WriteEvents)
	}
	return c.loop.poller.ModReadWrite(&c.pollAttachment, isET)
}

// modRead replaces poller.ModRead where the outbound buffer emptied (level-triggered).
func (c *conn) modRead() error {
	if c.unpolled {
		return nil
	}
	if c.readPaused {
		return c.loop.poller.ModEvents(&c.pollAttachment, 0)
	}
	return c.loop.poller.ModRead(&c.pollAttachment, false)
}

// pollIn registers an accepted connection in its loop's poller with the
// interest of the moment, once acceptOne has read what came with it. Level-
// triggered: what arrived in between is reported at once.
func (c *conn) pollIn() error {
	c.unpolled = false
	var ev uint32
	if !c.readPaused {
		ev = netpoll.ReadEvents
	}
	if !c.outboundBuffer.IsEmpty() {
		ev |= netpoll.WriteEvents
	}
	return c.loop.poller.AddEvents(&c.pollAttachment, ev)
}
