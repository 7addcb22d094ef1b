// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package gnet

import (
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// WriteBeforeClose sends the last output with the FIN over TCP (one segment
// fewer than a write and a close), and is a plain write on a unix socket.
func TestWriteBeforeClose(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	// segments returns what the client received: the response, and over TCP
	// the segments that carried the connection (handshake, acks, data, FIN).
	segments := func(t *testing.T, network, addr string, final bool) (string, uint32) {
		h := &gnEchoHandler{onData: func(c Conn) Action {
			if _, err := c.Next(-1); err != nil {
				return Close
			}
			resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			if final {
				_, _ = c.(ConnControl).WriteBeforeClose(resp)
			} else {
				_, _ = c.Write(resp)
			}
			return Close
		}}
		cli := gnStartClient(t, h, 1)
		ln, fd := gnListenFD(t, network, addr)
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		if err := cli.AdoptListener(fd, nil); err != nil {
			t.Fatal(err)
		}
		nc, err := net.DialTimeout(network, ln.Addr().String(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(nc) // to the FIN
		if err != nil {
			t.Fatal(err)
		}
		var segs uint32
		if tc, ok := nc.(*net.TCPConn); ok {
			rc, _ := tc.SyscallConn()
			_ = rc.Control(func(s uintptr) {
				if info, err := unix.GetsockoptTCPInfo(int(s), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
					segs = info.Segs_in
				}
			})
		}
		return string(got), segs
	}
	const want = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"unix", sock}} {
		t.Run(tc.network, func(t *testing.T) {
			plain, plainSegs := segments(t, tc.network, tc.addr, false)
			if tc.network == "unix" {
				_ = syscall.Unlink(sock)
			}
			final, finalSegs := segments(t, tc.network, tc.addr, true)
			if plain != want || final != want {
				t.Fatalf("responses %q (write) and %q (WriteBeforeClose), want %q", plain, final, want)
			}
			if tc.network == "tcp" && finalSegs != plainSegs-1 {
				t.Fatalf("client received %d segments after WriteBeforeClose, %d after Write: want one fewer (the FIN rides with the data)",
					finalSegs, plainSegs)
			}
		})
	}
}
