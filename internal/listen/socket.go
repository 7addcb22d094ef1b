package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// tcpOptions are the options of a TCP listener gonicorn binds.
type tcpOptions struct {
	backlog     int
	reusePort   bool
	deferAccept time.Duration // TCP_DEFER_ACCEPT, rounded up to whole seconds; 0: off
}

// bindTCP listens on address with SO_REUSEADDR (and SO_REUSEPORT, TCP_DEFER_ACCEPT)
// set before bind.
func bindTCP(address string, o tcpOptions) (*Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil && o.reusePort {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
			if serr == nil && o.deferAccept > 0 {
				serr = setDeferAccept(int(fd), o.deferAccept)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	// Plain TCP, as Gunicorn, uWSGI and nginx listen: Go (1.24+) makes listeners
	// Multipath TCP by default, and every connection from a plain TCP client (nginx,
	// a load balancer) then goes through MPTCP's fallback: its request-socket and
	// accept hooks, per connection, for nothing.
	lc.SetMultipathTCP(false)
	nl, err := lc.Listen(context.Background(), "tcp", address)
	if err != nil {
		return nil, err
	}
	if err := setBacklog(nl, o.backlog); err != nil {
		nl.Close()
		return nil, err
	}
	return &Listener{Listener: nl}, nil
}

// setDeferAccept makes the kernel queue a connection for accept(2) only once data
// has arrived on it (or, for a client that stays silent, after about d): nginx's
// uwsgi_pass and every HTTP client speak first, so the worker that accepts finds
// the request already there and answers it in the same turn, with no read that
// meets EAGAIN and no epoll registration. The kernel counts the time in SYN-ACK
// retransmissions, so d is rounded up to whole seconds.
func setDeferAccept(fd int, d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, secs); err != nil {
		return fmt.Errorf("set TCP_DEFER_ACCEPT: %w", err)
	}
	return nil
}

// setBacklog calls listen(2) again with our backlog: Go listens with somaxconn, and
// Linux lets a listening socket's backlog be changed by listening again.
func setBacklog(nl net.Listener, backlog int) error {
	if backlog <= 0 {
		return nil
	}
	sc, ok := nl.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("set backlog: %w", err)
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), backlog) }); err != nil {
		return fmt.Errorf("set backlog: %w", err)
	}
	if lerr != nil {
		return fmt.Errorf("set backlog %d: %w", backlog, lerr)
	}
	return nil
}

// umaskMu serialises our umask swaps; the umask is per process.
var umaskMu sync.Mutex

// bindUnix creates a unix socket at path with mode 0777 &^ umask, after removing a
// stale socket file there. A socket someone answers on is "address in use".
func bindUnix(path string, umask, backlog int, log zerolog.Logger) (*Listener, error) {
	abstract := len(path) > 0 && path[0] == '@'
	if !abstract {
		if err := removeStale(path, log); err != nil {
			return nil, err
		}
	}
	umaskMu.Lock()
	old := syscall.Umask(umask)
	nl, err := net.Listen("unix", path)
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return nil, err
	}
	ul := nl.(*net.UnixListener)
	// The socket file is removed by CloseAndRemove only, never by Close: a worker or
	// a new master that inherits the socket must be able to close its copy.
	ul.SetUnlinkOnClose(false)
	l := &Listener{Listener: ul}
	if !abstract {
		fi, err := os.Lstat(path)
		if err != nil {
			ul.Close()
			return nil, fmt.Errorf("stat new socket: %w", err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			l.created = &socketFile{path: path, dev: uint64(st.Dev), ino: uint64(st.Ino)}
		}
	}
	if err := setBacklog(ul, backlog); err != nil {
		_ = CloseAndRemove([]*Listener{l})
		return nil, err
	}
	return l, nil
}

// staleProbeTimeout bounds the connect that tells a live socket from a stale one.
const staleProbeTimeout = time.Second

// removeStale removes path if it is a socket that no one answers on. A path that is
// not a socket is an error; a live socket is an "address in use" error.
func removeStale(path string, log zerolog.Logger) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	conn, err := net.DialTimeout("unix", path, staleProbeTimeout)
	switch {
	case err == nil:
		conn.Close()
		return fmt.Errorf("%s: a process answers on it: %w", path, syscall.EADDRINUSE)
	case errors.Is(err, syscall.EAGAIN):
		// Its backlog is full: someone listens there.
		return fmt.Errorf("%s: a process listens on it: %w", path, syscall.EADDRINUSE)
	case errors.Is(err, syscall.ECONNREFUSED):
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale socket: %w", err)
		}
		log.Info().Str("path", path).Msg("removed stale unix socket")
		return nil
	case errors.Is(err, os.ErrNotExist):
		return nil
	}
	return fmt.Errorf("probe existing socket %s: %w", path, err)
}
