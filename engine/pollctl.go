package engine

import (
	"reflect"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// gnet v2 offers no way to stop reading a socket: it keeps reading into an
// unbounded inbound buffer. To bound the memory of a streaming upload, or of a
// client that pipelines while its previous request runs, the engine takes the read
// interest off the socket in the event loop's epoll set, and puts it back when the
// consumer has room. The epoll descriptor is gnet's, read once per loop from its
// (pinned, v2.10.0) internals; gnet registers sockets with {Events, Fd} only, so the
// same registration is rebuilt here. gnet itself re-arms reading when an outbound
// flush completes; onTraffic then sees the connection paused and pauses it again,
// so at most one read buffer (64 KiB) arrives per such flush.

var epollFDs sync.Map // gnet.EventLoop -> int

// pollerFD returns the epoll descriptor of gc's event loop, or -1.
func pollerFD(gc gnet.Conn) int {
	el := gc.EventLoop()
	if fd, ok := epollFDs.Load(el); ok {
		return fd.(int)
	}
	fd := -1
	func() {
		defer func() { _ = recover() }()
		v := reflect.ValueOf(gc).Elem().FieldByName("loop").Elem().FieldByName("poller").Elem().FieldByName("fd")
		fd = int(v.Int())
	}()
	epollFDs.Store(el, fd)
	return fd
}

// setReadInterest turns reading of gc's socket on or off; writing interest follows
// gnet's outbound buffer. It must run on gc's event loop.
func setReadInterest(gc gnet.Conn, read bool) error {
	epfd := pollerFD(gc)
	if epfd < 0 {
		return errNoPoller
	}
	var ev uint32
	if read {
		ev = unix.EPOLLIN | unix.EPOLLPRI
	}
	if gc.OutboundBuffered() > 0 {
		ev |= unix.EPOLLOUT
	}
	fd := gc.Fd()
	return unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Fd: int32(fd), Events: ev})
}
