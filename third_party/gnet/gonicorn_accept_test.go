// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// acceptWait is accept4 on a non-blocking listener, retried until a
// connection is queued (bounded).
func acceptWait(t *testing.T, fd int, network string) (int, net.Addr) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var rsa unix.RawSockaddrAny
		nfd, err := accept4(fd, network, &rsa)
		if err == nil {
			return nfd, new(peerMem).set(network, &rsa)
		}
		if err != unix.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("accept4: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// accept4 and peerMem.set report the peer as net would (a 16-byte IP, IPv4 in
// its mapped form), with no allocation: the address lives in the memory given.
func TestAdoptedAccept4PeerAddress(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
	} {
		t.Run(tc.network, func(t *testing.T) {
			if tc.network == "tcp6" {
				if ln, err := net.Listen("tcp6", tc.addr); err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					_ = ln.Close()
				}
			}
			ln, fd := gnListenFD(t, tc.network, tc.addr)
			const conns = 11
			var dialed []net.Conn
			for i := 0; i < conns; i++ {
				nc, err := net.DialTimeout(tc.network, ln.Addr().String(), 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				dialed = append(dialed, nc)
			}
			nfd, addr := acceptWait(t, fd, "tcp")
			_ = unix.Close(nfd)
			ta, ok := addr.(*net.TCPAddr)
			if !ok || len(ta.IP) != net.IPv6len {
				t.Fatalf("peer %#v: want a *net.TCPAddr with a 16-byte IP", addr)
			}
			if got, want := ta.String(), dialed[0].LocalAddr().String(); got != want {
				t.Fatalf("peer %s, want %s", got, want)
			}
			var mem peerMem
			if n := testing.AllocsPerRun(conns-2, func() {
				var rsa unix.RawSockaddrAny
				nfd, err := accept4(fd, "tcp", &rsa)
				for err == unix.EAGAIN {
					runtime.Gosched()
					nfd, err = accept4(fd, "tcp", &rsa)
				}
				if err != nil {
					t.Fatal(err)
				}
				_ = unix.Close(nfd)
				if a := mem.set("tcp", &rsa); a.(*net.TCPAddr).Port == 0 {
					t.Fatal("no peer port")
				}
			}); n != 0 {
				t.Fatalf("accept4 and peerMem.set allocated %v times per connection, want 0", n)
			}
		})
	}
}

// peerRecorder records, per connection, the peer address OnOpen saw, whether
// it lives in the conn (peerMem), and the error OnClose got.
type peerRecorder struct {
	BuiltinEventEngine
	mu     sync.Mutex
	addrs  []string
	inConn []bool
	errs   []error
}

func (h *peerRecorder) OnOpen(c Conn) ([]byte, Action) {
	gc := c.(*conn)
	a := c.RemoteAddr()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrs = append(h.addrs, a.Network()+" "+a.String())
	h.inConn = append(h.inConn, a == net.Addr(&gc.peer.tcp) || a == net.Addr(&gc.peer.unix))
	return nil, None
}

func (h *peerRecorder) OnTraffic(c Conn) Action {
	_, _ = c.Discard(-1)
	return None
}

func (h *peerRecorder) OnClose(_ Conn, err error) Action {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	return None
}

// A connection accepted from an adopted listener carries its peer's address in
// its own memory, as net reports it, and a peer's hang-up closes it with the
// read EOF error gnet always gave (one shared value now).
func TestAdoptedPeerAddressAndHangUp(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"unix", sock}} {
		t.Run(tc.network, func(t *testing.T) {
			h := &peerRecorder{}
			cli := gnStartClient(t, h, 1)
			ln, fd := gnListenFD(t, tc.network, tc.addr)
			if ul, ok := ln.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
			_ = ln.Close()
			if err := cli.AdoptListener(fd, nil); err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := 0; i < 3; i++ {
				nc, err := net.DialTimeout(tc.network, ln.Addr().String(), 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if tc.network == "tcp" {
					want = append(want, "tcp "+nc.LocalAddr().String())
				} else {
					want = append(want, "unix ")
				}
				_, _ = nc.Write([]byte("x"))
				nc.Close()
				gnWaitFor(t, "the connection closed", func() bool {
					h.mu.Lock()
					defer h.mu.Unlock()
					return len(h.errs) == len(want)
				})
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			for i := range want {
				if h.addrs[i] != want[i] || !h.inConn[i] {
					t.Errorf("connection %d: peer %q (in its conn: %v), want %q in its conn", i, h.addrs[i], h.inConn[i], want[i])
				}
				var se *os.SyscallError
				if err := h.errs[i]; !errors.Is(err, io.EOF) || !errors.As(err, &se) || se.Syscall != "read" {
					t.Errorf("connection %d closed with %v, want read's EOF", i, err)
				}
			}
		})
	}
}

// A stream conn is one allocation: the default reactor finds it by its
// descriptor, so no poll callback (a method value) is made for it.
func TestStreamConnIsOneAllocation(t *testing.T) {
	el := &eventloop{engine: &engine{opts: &Options{WriteBufferCap: 64 << 10}}}
	if n := testing.AllocsPerRun(100, func() {
		c := newStreamConn("tcp", 3, el, nil, nil, nil)
		if c.fd != 3 {
			t.Fatal("wrong descriptor")
		}
	}); n != 1 {
		t.Fatalf("newStreamConn allocated %v times, want 1", n)
	}
}
