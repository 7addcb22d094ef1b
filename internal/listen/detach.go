package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A listening socket registered in a process's Go poller wakes that process's
// poller thread for every connection that arrives (the registration is
// edge-triggered on the shared socket), even when the process never accepts
// from it. The master only holds its listeners for the workers: registered,
// they cost it a wake-up per connection, as much CPU per request on nginx
// uwsgi_pass as the worker's whole parse. Detach and Files keep the master's
// copies out of the poller.

// errDetached is what a detached listener's Accept returns.
var errDetached = errors.New("listener detached: the workers accept on it")

// Detach replaces each listener's net.Listener with the bare socket, outside
// Go's poller: Accept fails, Close closes the socket, Addr and SyscallConn keep
// working (Files, metrics). A unix socket's file stays (CloseAndRemove removes it).
func Detach(ls []*Listener) error {
	for _, l := range ls {
		if _, done := l.Listener.(*detached); done {
			continue
		}
		fd, err := DupFD(l.Listener)
		if err != nil {
			return fmt.Errorf("listener %s: %w", l.Spec, err)
		}
		addr := l.Addr()
		if ul, ok := l.Listener.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		_ = l.Listener.Close()
		l.Listener = &detached{fd: fd, addr: addr}
	}
	return nil
}

// detached is a listening socket held, not accepted from.
type detached struct {
	fd   int
	addr net.Addr
	once sync.Once
}

func (d *detached) Accept() (net.Conn, error) { return nil, errDetached }
func (d *detached) Addr() net.Addr            { return d.addr }

func (d *detached) Close() error {
	err := net.ErrClosed
	d.once.Do(func() { err = os.NewSyscallError("close", unix.Close(d.fd)) })
	return err
}

// SyscallConn gives the socket's descriptor to Control (as net listeners do).
func (d *detached) SyscallConn() (syscall.RawConn, error) { return rawFD(d.fd), nil }

// rawFD is a syscall.RawConn over a descriptor no poller knows.
type rawFD int

func (r rawFD) Control(f func(fd uintptr)) error  { f(uintptr(r)); return nil }
func (r rawFD) Read(func(fd uintptr) bool) error  { return errDetached }
func (r rawFD) Write(func(fd uintptr) bool) error { return errDetached }

// unpolledFile wraps fd (a non-blocking socket) in an *os.File that is not in
// Go's poller. os.NewFile registers every non-blocking descriptor, and the
// socket's non-blocking flag is shared with the workers, so the File is made
// over a blocking placeholder descriptor and the socket is then duplicated onto
// that descriptor's number. fd itself is consumed.
func unpolledFile(fd int, name string) (*os.File, error) {
	ph, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open", err)
	}
	f := os.NewFile(uintptr(ph), name)
	if err := unix.Dup3(fd, ph, unix.O_CLOEXEC); err != nil {
		f.Close()
		return nil, os.NewSyscallError("dup3", err)
	}
	_ = unix.Close(fd)
	return f, nil
}
