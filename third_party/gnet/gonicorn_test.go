// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests of gonicorn's patch (PATCHES.md): adopted listeners, accepting on the
// loops, pausing and stopping accepting, paused reads, direct writes, close
// without epoll_ctl(DEL).

type gnEchoHandler struct {
	BuiltinEventEngine
	opened  atomic.Int32
	ctxSeen atomic.Value
	onOpen  func(c Conn)
	onData  func(c Conn) Action
}

func (h *gnEchoHandler) OnOpen(c Conn) ([]byte, Action) {
	h.opened.Add(1)
	if v := c.Context(); v != nil {
		h.ctxSeen.Store(v)
	}
	if h.onOpen != nil {
		h.onOpen(c)
	}
	return nil, None
}

func (h *gnEchoHandler) OnTraffic(c Conn) Action {
	if h.onData != nil {
		return h.onData(c)
	}
	b, _ := c.Next(-1)
	_, _ = c.Write(b)
	return None
}

func gnStartClient(t *testing.T, h EventHandler, loops int) *Client {
	t.Helper()
	cli, err := NewClient(h, WithMulticore(true), WithNumEventLoop(loops))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Stop() })
	return cli
}

// gnListenFD returns a listening socket's descriptor (a duplicate the test owns).
func gnListenFD(t *testing.T, network, addr string) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	rc, _ := ln.(syscall.Conn).SyscallConn()
	fd := -1
	_ = rc.Control(func(s uintptr) { fd, _ = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	t.Cleanup(func() { _ = unix.Close(fd) })
	return ln, fd
}

func gnEchoOnce(t *testing.T, network, addr, msg string) {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := nc.Write([]byte(msg + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || got != msg+"\n" {
		t.Fatalf("echo %q: got %q, %v", msg, got, err)
	}
}

func gnWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAdoptListenerAcceptsOnLoops(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"unix", sock}} {
		t.Run(tc.network, func(t *testing.T) {
			h := &gnEchoHandler{}
			cli := gnStartClient(t, h, 2)
			ln, fd := gnListenFD(t, tc.network, tc.addr)
			if ul, ok := ln.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
			_ = ln.Close() // the adopted duplicate keeps the socket listening
			if err := cli.AdoptListener(fd, "listener-ctx"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				gnEchoOnce(t, tc.network, ln.Addr().String(), "hello")
			}
			if h.opened.Load() != 20 {
				t.Fatalf("opened %d connections, want 20", h.opened.Load())
			}
			if v := h.ctxSeen.Load(); v != "listener-ctx" {
				t.Fatalf("OnOpen saw context %v, want the listener's", v)
			}
		})
	}
}

func TestAdoptListenerRejectsNonListening(t *testing.T) {
	cli := gnStartClient(t, &gnEchoHandler{}, 1)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	if err := cli.AdoptListener(fds[0], nil); err == nil {
		t.Fatal("adopting a connected socket succeeded")
	}
	f, _ := os.CreateTemp(t.TempDir(), "x")
	defer f.Close()
	if err := cli.AdoptListener(int(f.Fd()), nil); err == nil {
		t.Fatal("adopting a file succeeded")
	}
}

func TestPauseAndResumeAccepting(t *testing.T) {
	h := &gnEchoHandler{}
	cli := gnStartClient(t, h, 2)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	gnEchoOnce(t, "tcp", ln.Addr().String(), "a")
	cli.PauseAccepting()
	cli.PauseAccepting()
	// A paused loop leaves connections in the backlog; the other process
	// sharing the socket (here: the test's own net.Listener) gets them.
	time.Sleep(20 * time.Millisecond) // let the loops take the request
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(3 * time.Second))
	if other, err := ln.Accept(); err != nil {
		t.Fatalf("connection was not left in the backlog: %v", err)
	} else {
		other.Close()
	}
	if h.opened.Load() != 1 {
		t.Fatalf("a paused client accepted: opened %d", h.opened.Load())
	}
	cli.ResumeAccepting()
	gnEchoOnce(t, "tcp", ln.Addr().String(), "b")
}

// PauseAccepting holds from the moment it returns: a loop that has not yet run
// the request (queued behind a listener event) checks it before accepting.
func TestPauseAcceptingTakesEffectAtOnce(t *testing.T) {
	h := &gnEchoHandler{}
	cli := gnStartClient(t, h, 4)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		gnEchoOnce(t, "tcp", ln.Addr().String(), "a")
		opened := h.opened.Load()
		cli.PauseAccepting()
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		other, err := ln.Accept()
		if err != nil {
			t.Fatalf("round %d: connection was not left in the backlog: %v", i, err)
		}
		other.Close()
		nc.Close()
		if h.opened.Load() != opened {
			t.Fatalf("round %d: a loop accepted after PauseAccepting returned", i)
		}
		cli.ResumeAccepting()
	}
}

func TestStopAcceptingSweepsTheQueue(t *testing.T) {
	h := &gnEchoHandler{}
	cli := gnStartClient(t, h, 2)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	cli.PauseAccepting() // let connections queue
	time.Sleep(20 * time.Millisecond)
	var conns []net.Conn
	for i := 0; i < 8; i++ {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		conns = append(conns, nc)
	}
	cli.ResumeAccepting()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cli.StopAccepting(ctx, true); err != nil {
		t.Fatal(err)
	}
	gnWaitFor(t, "every queued connection accepted", func() bool { return h.opened.Load() == 8 })
	for _, nc := range conns {
		_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := nc.Write([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
		if got, err := bufio.NewReader(nc).ReadString('\n'); err != nil || got != "x\n" {
			t.Fatalf("queued connection not served: %q %v", got, err)
		}
	}
	// Stopped for good: a later connection stays queued for someone else.
	cli.ResumeAccepting()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	time.Sleep(30 * time.Millisecond)
	if h.opened.Load() != 8 {
		t.Fatalf("accepted after StopAccepting: opened %d", h.opened.Load())
	}
}

func TestPauseRead(t *testing.T) {
	var traffic atomic.Int32
	var gcv atomic.Value
	h := &gnEchoHandler{
		onOpen: func(c Conn) {
			gcv.Store(c)
			if err := c.(ConnControl).PauseRead(); err != nil {
				t.Error(err)
			}
		},
		onData: func(c Conn) Action {
			traffic.Add(1)
			b, _ := c.Next(-1)
			_, _ = c.Write(b)
			return None
		},
	}
	cli := gnStartClient(t, h, 1)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write([]byte("ping\n"))
	time.Sleep(50 * time.Millisecond)
	if traffic.Load() != 0 {
		t.Fatal("a paused connection was read")
	}
	gnWaitFor(t, "open", func() bool { return gcv.Load() != nil })
	c := gcv.Load().(Conn)
	done := make(chan error, 1)
	_ = c.EventLoop().Execute(context.Background(), RunnableFunc(func(context.Context) error {
		done <- c.(ConnControl).ResumeRead()
		return nil
	}))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
	if got, err := bufio.NewReader(nc).ReadString('\n'); err != nil || got != "ping\n" {
		t.Fatalf("resumed connection: %q %v", got, err)
	}
}

func TestPausedReadStillClosesOnHangup(t *testing.T) {
	var closed atomic.Int32
	h := &gnCloseCounter{closed: &closed}
	cli := gnStartClient(t, h, 1)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	_ = nc.(*net.TCPConn).SetLinger(0)
	nc.Close() // reset
	gnWaitFor(t, "the paused connection closed", func() bool { return closed.Load() == 1 })
}

type gnCloseCounter struct {
	BuiltinEventEngine
	closed *atomic.Int32
}

func (h *gnCloseCounter) OnOpen(c Conn) ([]byte, Action) {
	_ = c.(ConnControl).PauseRead()
	return nil, None
}

func (h *gnCloseCounter) OnClose(Conn, error) Action {
	h.closed.Add(1)
	return None
}

func TestTryWrite(t *testing.T) {
	opened := make(chan Conn, 1)
	h := &gnEchoHandler{onOpen: func(c Conn) { opened <- c }, onData: func(Conn) Action { return None }}
	cli := gnStartClient(t, h, 1)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := <-opened
	ctl := c.(ConnControl)
	if n, ok := ctl.TryWrite([]byte("direct\n")); !ok || n != 7 {
		t.Fatalf("TryWrite on an idle connection: %d %v", n, ok)
	}
	_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(nc)
	if got, _ := r.ReadString('\n'); got != "direct\n" {
		t.Fatalf("read %q", got)
	}
	// Fill the socket until the loop queues output; TryWrite must then refuse,
	// or it would overtake the queued bytes.
	big := make([]byte, 1<<20)
	for i := 0; i < 16; i++ {
		_ = c.AsyncWrite(big, nil)
	}
	gnWaitFor(t, "output queued", func() bool {
		q := make(chan int, 1)
		_ = c.EventLoop().Execute(context.Background(), RunnableFunc(func(context.Context) error {
			q <- c.OutboundBuffered()
			return nil
		}))
		return <-q > 0
	})
	if _, ok := ctl.TryWrite([]byte("x")); ok {
		t.Fatal("TryWrite went ahead of queued output")
	}
	closed := make(chan struct{})
	_ = c.CloseWithCallback(func(Conn, error) error { close(closed); return nil })
	<-closed
	if _, ok := ctl.TryWrite([]byte("x")); ok {
		t.Fatal("TryWrite on a closed connection")
	}
}

// TestTryWriteRacesLoopWrites writes from a goroutine while the loop writes
// the same connection: every message arrives whole.
func TestTryWriteRacesLoopWrites(t *testing.T) {
	opened := make(chan Conn, 1)
	h := &gnEchoHandler{onOpen: func(c Conn) { opened <- c }, onData: func(Conn) Action { return None }}
	cli := gnStartClient(t, h, 1)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := <-opened
	const n = 2000
	msg := []byte("0123456789abcdef\n")
	go func() {
		for i := 0; i < n; i++ {
			if w, ok := c.(ConnControl).TryWrite(msg); !ok || w < len(msg) {
				_ = c.AsyncWrite(msg[w:], nil) // the rest (or all), in order behind it
			}
			_ = c.AsyncWrite(msg, nil)
		}
	}()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(nc)
	for i := 0; i < 2*n; i++ {
		line, err := r.ReadString('\n')
		if err != nil || line != string(msg) {
			t.Fatalf("message %d: %q %v", i, line, err)
		}
	}
}

// TestCloseReusesDescriptor: without epoll_ctl(DEL) at close, a new socket
// that gets the same descriptor number is served normally.
func TestCloseReusesDescriptor(t *testing.T) {
	h := &gnEchoHandler{}
	cli := gnStartClient(t, h, 1)
	ln, fd := gnListenFD(t, "tcp", "127.0.0.1:0")
	if err := cli.AdoptListener(fd, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		gnEchoOnce(t, "tcp", ln.Addr().String(), "again")
	}
}
