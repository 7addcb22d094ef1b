package listen

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestDetachKeepsTheSocketOutOfGosPoller(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "d.sock")
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"unix", sock}} {
		t.Run(tc.network, func(t *testing.T) {
			nl, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			if ul, ok := nl.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
			ls := []*Listener{{Listener: nl, Protocol: "http", Spec: tc.addr}}
			addr := nl.Addr().String()
			if err := Detach(ls); err != nil {
				t.Fatal(err)
			}
			defer Close(ls)
			if _, err := ls[0].Accept(); !errors.Is(err, errDetached) {
				t.Fatalf("Accept on a detached listener: %v", err)
			}
			if ls[0].Addr().String() != addr {
				t.Fatalf("Addr %q, want %q", ls[0].Addr(), addr)
			}
			files, err := Files(ls)
			if err != nil {
				t.Fatal(err)
			}
			defer files[0].Close()
			// Not pollable: Go's poller does not know the file.
			if err := files[0].SetDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
				t.Fatalf("SetDeadline on the passed file: %v, want os.ErrNoDeadline (not in the poller)", err)
			}
			// The socket still listens and stays non-blocking for the workers.
			fd := int(files[0].Fd())
			if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on == 0 {
				t.Fatalf("passed file is not the listening socket: %v", err)
			}
			fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if fl&unix.O_NONBLOCK == 0 {
				t.Fatal("the shared socket became blocking")
			}
			c, err := net.Dial(tc.network, addr)
			if err != nil {
				t.Fatalf("dialing the detached listener: %v", err)
			}
			c.Close()
			nfd, _, err := unix.Accept(fd)
			if err != nil {
				t.Fatalf("the queued connection: %v", err)
			}
			unix.Close(nfd)
		})
	}
}
