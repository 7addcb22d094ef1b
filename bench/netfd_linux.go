package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// The generator drives raw non-blocking sockets from its own epoll loop, as wrk does:
// no goroutine per connection, no netpoller hand-offs, one read and one write per
// round trip.

// sockaddrOf resolves a loopback "host:port" to a socket address.
func sockaddrOf(addr string) (unix.Sockaddr, int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		tcp, rerr := net.ResolveTCPAddr("tcp", addr)
		if rerr != nil {
			return nil, 0, fmt.Errorf("bench: address %q: %w", addr, rerr)
		}
		ap = tcp.AddrPort()
	}
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}, unix.AF_INET, nil
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}, unix.AF_INET6, nil
}

// startConnect opens a non-blocking TCP socket with TCP_NODELAY and starts connecting
// it to sa. The connection is complete when the socket turns writable.
func startConnect(sa unix.Sockaddr, family int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("TCP_NODELAY: %w", err)
	}
	err = unix.Connect(fd, sa)
	if err != nil && !errors.Is(err, unix.EINPROGRESS) && !errors.Is(err, unix.EINTR) {
		unix.Close(fd)
		return -1, fmt.Errorf("connect: %w", err)
	}
	return fd, nil
}

// connectResult returns the outcome of a non-blocking connect once the socket has
// signalled writability or an error.
func connectResult(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fmt.Errorf("SO_ERROR: %w", err)
	}
	if v != 0 {
		return fmt.Errorf("connect: %w", unix.Errno(v))
	}
	return nil
}

// epoll is one edge-triggered epoll instance.
type epoll struct {
	fd     int
	events []unix.EpollEvent
}

func newEpoll(size int) (*epoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	return &epoll{fd: fd, events: make([]unix.EpollEvent, max(size, 16))}, nil
}

// add registers fd for edge-triggered read, write and hang-up events, tagged with slot.
func (e *epoll) add(fd int, slot int) error {
	ev := unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd:     int32(slot),
	}
	if err := unix.EpollCtl(e.fd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// wait returns the ready events, waiting at most timeout.
func (e *epoll) wait(timeout time.Duration) ([]unix.EpollEvent, error) {
	for {
		n, err := unix.EpollWait(e.fd, e.events, int(timeout/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("epoll_wait: %w", err)
		}
		return e.events[:n], nil
	}
}

func (e *epoll) close() { unix.Close(e.fd) }
