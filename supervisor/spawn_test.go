package supervisor

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// A listening socket's O_NONBLOCK flag lives in the open file description that the
// master shares with every worker: starting a child must not switch it to blocking
// mode, or every worker's accept blocks in the kernel and a graceful stop hangs.
func TestStartProcessKeepsInheritedListenerNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := rawFD(f)
	if err != nil {
		t.Fatal(err)
	}
	nonblocking := func() bool {
		flags, err := fcntlGetFlags(fd)
		if err != nil {
			t.Fatal(err)
		}
		return flags&syscall.O_NONBLOCK != 0
	}
	if !nonblocking() {
		t.Fatal("listener starts in blocking mode")
	}
	p, err := startProcess("/bin/sh", []string{"-c", "exit 0"}, nil, "", []*os.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("child: %v %v", st, err)
	}
	if !nonblocking() {
		t.Fatal("starting a child switched the shared listener to blocking mode")
	}
}

func fcntlGetFlags(fd uintptr) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
