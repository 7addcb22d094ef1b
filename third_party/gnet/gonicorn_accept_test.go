// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"net"
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
		nfd, addr, err := accept4(fd, network)
		if err == nil {
			return nfd, addr
		}
		if err != unix.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("accept4: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// accept4 reports the peer as net would (a 16-byte IP, IPv4 in its mapped
// form), in one allocation.
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
			if n := testing.AllocsPerRun(conns-2, func() {
				nfd, _ := acceptWait(t, fd, "tcp")
				_ = unix.Close(nfd)
			}); n > 1 {
				t.Fatalf("accept4 allocated %v times per connection, want 1", n)
			}
		})
	}
}
