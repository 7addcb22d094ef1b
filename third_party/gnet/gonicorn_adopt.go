// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// adoptedListener is a listening socket given to Client.AdoptListener. Every
// event loop holds its own *listener for it, pointing here.
type adoptedListener struct {
	ctx     any  // initial Context of every accepted connection
	armed   bool // registered in this loop's poller (per loop: see listenerFor)
	backoff bool // accepting is suspended after a resource error (per loop)
	closed  bool // removed from this loop for good
}

// acceptPause is an event loop's accepting state for adopted listeners.
type acceptPause struct {
	paused  bool // PauseAccepting is in effect
	stopped bool // StopAccepting ran: never accept again
}

func (el *eventloop) acceptState() *acceptPause { return &el.accepting }

// AdoptListener makes every event loop of cli accept connections from fd, a
// bound and listening TCP or unix stream socket that stays the caller's: gnet
// never closes it, so other processes sharing it keep their queue. Each loop
// registers fd in its own poller (EPOLLEXCLUSIVE: one waiting loop is woken per
// connection) and accepts non-blocking on its own goroutine: no goroutine or
// thread hand-off per connection. Every connection accepted starts with ctx as
// its Context; OnOpen may replace it. The socket is made non-blocking. Call it
// after Start; it returns once every loop has registered the socket.
func (cli *Client) AdoptListener(fd int, ctx any) error {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	network := ""
	switch sa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		network = "tcp"
	case *unix.SockaddrUnix:
		network = "unix"
	default:
		return fmt.Errorf("gnet: adopting fd %d: not a TCP or unix socket", fd)
	}
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return fmt.Errorf("gnet: adopting fd %d: not a stream socket", fd)
	}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
		return fmt.Errorf("gnet: adopting fd %d: socket does not listen", fd)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	addr := socket.SockaddrToTCPOrUnixAddr(sa)
	return cli.eng.onEveryLoop(func(el *eventloop) error {
		if _, dup := el.listeners[fd]; dup {
			return fmt.Errorf("gnet: fd %d is adopted already", fd)
		}
		ln := &listener{fd: fd, addr: addr, network: network, adopted: &adoptedListener{ctx: ctx}}
		ln.packPollAttachment(el.accept)
		el.listeners[fd] = ln
		return el.armListeners()
	})
}

// PauseAccepting stops every loop accepting from adopted listeners until
// ResumeAccepting: new connections wait in the shared backlog, for this
// process later or for another process now. It does not wait for the loops.
func (cli *Client) PauseAccepting() { cli.eng.setAccepting(false) }

// ResumeAccepting undoes PauseAccepting (not StopAccepting). It does not wait.
func (cli *Client) ResumeAccepting() { cli.eng.setAccepting(true) }

// setAccepting records what was asked for last; each loop reads it when the
// request reaches it, so that requests racing from several goroutines end with
// every loop in the state asked for last.
func (eng *engine) setAccepting(on bool) {
	want := &eng.acceptPaused
	want.Store(!on)
	eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		_ = el.poller.Trigger(queue.HighPriority, func(any) error {
			el.acceptState().paused = want.Load()
			return el.armListeners()
		}, nil)
		return true
	})
}

// StopAccepting ends accepting on every loop for good. With sweep, each loop
// first accepts every connection already queued on the listeners, so that none
// waits for a wake-up that went to this process. It returns when every loop has
// deregistered the listeners (or ctx ends); the sockets stay open.
func (cli *Client) StopAccepting(ctx context.Context, sweep bool) error {
	done := make(chan error, 1)
	go func() {
		done <- cli.eng.onEveryLoop(func(el *eventloop) error {
			st := el.acceptState()
			if sweep && !st.stopped {
				for _, ln := range el.listeners {
					if ln.adopted == nil || !ln.adopted.armed {
						continue
					}
					for ln.adopted.armed && el.acceptOne(ln) {
					}
				}
			}
			st.stopped = true
			return el.armListeners()
		})
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// onEveryLoop runs fn on every event loop and waits for all.
func (eng *engine) onEveryLoop(fn func(el *eventloop) error) error {
	if eng.isShutdown() {
		return errors.New("gnet: engine is shut down")
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	eng.eventLoops.iterate(func(_ int, el *eventloop) bool {
		wg.Add(1)
		err := el.poller.Trigger(queue.HighPriority, func(any) error {
			defer wg.Done()
			if err := fn(el); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		}, nil)
		if err != nil {
			wg.Done()
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		return true
	})
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-eng.concurrency.ctx.Done():
		return errors.New("gnet: engine stopped")
	}
	return errors.Join(errs...)
}

// armListeners registers or deregisters the loop's adopted listeners to match
// its accepting state. It runs on the loop.
func (el *eventloop) armListeners() error {
	st := el.acceptState()
	var errs []error
	for fd, ln := range el.listeners {
		a := ln.adopted
		if a == nil {
			continue
		}
		want := !st.paused && !st.stopped && !a.backoff && !a.closed
		switch {
		case want && !a.armed:
			if err := el.poller.AddReadExclusive(ln.pollAttachment); err != nil {
				errs = append(errs, err)
				continue
			}
			a.armed = true
		case !want && a.armed:
			a.armed = false
			if err := el.poller.Delete(fd); err != nil {
				errs = append(errs, err)
			}
		}
		if a.closed && !a.armed {
			delete(el.listeners, fd)
		}
	}
	return errors.Join(errs...)
}

// acceptAdopted accepts one connection from an adopted listener that polled
// readable. A level-triggered listener with more queued polls readable again.
func (el *eventloop) acceptAdopted(ln *listener) error {
	if paused := el.engine.acceptPaused.Load(); paused != el.acceptState().paused {
		// A Pause/ResumeAccepting this loop has not run yet (its request waits
		// in the loop's queue behind this event): apply it first, so that no
		// connection is accepted after PauseAccepting returned.
		el.acceptState().paused = paused
		if err := el.armListeners(); err != nil || paused {
			return nil
		}
	}
	el.acceptOne(ln)
	return nil
}

// acceptBackoff is how long a loop stops accepting from a listener after
// running out of descriptors or memory.
const acceptBackoff = 100 * time.Millisecond

// acceptOne accepts and registers one queued connection; false when none was
// taken (the queue is empty or accepting failed).
func (el *eventloop) acceptOne(ln *listener) bool {
	a := ln.adopted
	var rsa unix.RawSockaddrAny
	nfd, err := accept4(ln.fd, ln.network, &rsa)
	switch err {
	case nil:
	case unix.EAGAIN, unix.EINTR:
		return false
	case unix.ECONNABORTED, unix.ECONNRESET, unix.EPROTO:
		return true // that one left the queue before accept(2) took it; others may follow
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		// Out of descriptors or memory: leave the queue to other processes for a
		// moment and keep serving the open connections.
		el.getLogger().Errorf("accept on fd=%d in event-loop(%d): %v; pausing %v", ln.fd, el.idx, err, acceptBackoff)
		a.backoff = true
		_ = el.armListeners()
		time.AfterFunc(acceptBackoff, func() {
			_ = el.poller.Trigger(queue.LowPriority, func(any) error {
				a.backoff = false
				return el.armListeners()
			}, nil)
		})
		return false
	default:
		el.getLogger().Errorf("accept on fd=%d in event-loop(%d): %v; no longer accepting on it", ln.fd, el.idx, err)
		a.closed = true
		_ = el.armListeners()
		return false
	}
	c := newStreamConn(ln.network, nfd, el, nil, ln.addr, nil)
	c.remoteAddr = c.peer.set(ln.network, &rsa) // in the conn: no allocation of its own
	c.ctx = a.ctx
	// Read what came with the connection before registering it: a client
	// that sent its request at once (nginx does) may be answered and closed
	// within this call, and then the socket never enters the poller.
	c.unpolled = true
	el.connections.addConn(c, el.idx)
	if err := el.open(c); err != nil || !c.opened {
		return true
	}
	if !c.readPaused {
		if err := el.read(c); err != nil || !c.opened {
			return true
		}
	}
	if err := c.pollIn(); err != nil {
		el.getLogger().Errorf("registering an accepted connection in event-loop(%d): %v", el.idx, err)
		_ = el.close(c, err)
	}
	return true
}

// accept4 accepts one connection, non-blocking and close-on-exec, with its
// peer's address in rsa (peerMem.set reads it). x/sys's Accept4 asks the
// kernel for SO_PROTOCOL on every IPv4 connection (to tell L2TP apart): one
// system call per connection saved.
func accept4(fd int, network string, rsa *unix.RawSockaddrAny) (int, error) {
	if network == "unix" {
		// A unix peer's address is unnamed or unused: not asking for it spares
		// the kernel copying it (unix_getname) on every connection.
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
	n := uint32(unix.SizeofSockaddrAny)
	r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(rsa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// peerMem is room for a connection's peer address inside its conn: accepting
// needs no allocation for it (net.IPv4 and a *net.TCPAddr took two). A conn is
// never reused, so the address stays valid for as long as anyone holds it.
type peerMem struct {
	tcp  net.TCPAddr
	ip   [net.IPv6len]byte
	unix net.UnixAddr
}

// set returns the peer address accept4 left in rsa on a network's listener,
// as net reports it (a 16-byte IP, IPv4 in its mapped form), built in m.
func (m *peerMem) set(network string, rsa *unix.RawSockaddrAny) net.Addr {
	if network == "unix" {
		m.unix = net.UnixAddr{Net: "unix"}
		return &m.unix
	}
	switch rsa.Addr.Family {
	case unix.AF_INET:
		pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&pp.Port))
		copy(m.ip[:], v4InV6Prefix)
		copy(m.ip[12:], pp.Addr[:])
		m.tcp = net.TCPAddr{IP: m.ip[:], Port: int(p[0])<<8 | int(p[1])}
		return &m.tcp
	case unix.AF_INET6:
		pp := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&pp.Port))
		copy(m.ip[:], pp.Addr[:])
		m.tcp = net.TCPAddr{IP: m.ip[:], Port: int(p[0])<<8 | int(p[1])}
		if pp.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(pp.Scope_id)); err == nil {
				m.tcp.Zone = ifi.Name
			}
		}
		return &m.tcp
	}
	m.tcp = net.TCPAddr{}
	return &m.tcp
}

var v4InV6Prefix = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}
