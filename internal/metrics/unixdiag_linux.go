package metrics

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// unix_diag constants (linux/unix_diag.h), which x/sys does not carry.
const (
	udiagShowRQLen = 0x10 // UDIAG_SHOW_RQLEN
	unixDiagRQLen  = 4    // UNIX_DIAG_RQLEN attribute
	tcpListenState = 10   // TCP_LISTEN, the state of a listening unix socket too
	unixDiagReqLen = 24   // sizeof(struct unix_diag_req)
	unixDiagMsgLen = 16   // sizeof(struct unix_diag_msg)
	diagReadBound  = time.Second
)

// readUnixListenQueues asks the kernel (sock_diag, NETLINK_SOCK_DIAG) for the
// accept queue of every listening unix socket, by inode: for a listener,
// UNIX_DIAG_RQLEN's rqueue is the connections waiting to be accepted. An error
// (no unix_diag in the kernel, a sandbox) yields an empty map: the queue is then
// not reported.
func readUnixListenQueues() (map[uint64]uint64, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(diagReadBound))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	req := make([]byte, unix.NLMSG_HDRLEN+unixDiagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1) // sequence
	body := req[unix.NLMSG_HDRLEN:]
	body[0] = unix.AF_UNIX
	binary.NativeEndian.PutUint32(body[4:], 1<<tcpListenState)
	binary.NativeEndian.PutUint32(body[12:], udiagShowRQLen)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	out := map[uint64]uint64{}
	buf := make([]byte, 32<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return out, fmt.Errorf("sock_diag answer: %w", err)
		}
		done, err := parseUnixDiag(buf[:n], out)
		if err != nil || done {
			return out, err
		}
	}
}

// parseUnixDiag adds the listeners of one netlink datagram to out and reports
// whether the dump is complete.
func parseUnixDiag(b []byte, out map[uint64]uint64) (bool, error) {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return true, fmt.Errorf("sock_diag: message of %d bytes in %d", l, len(b))
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			return true, fmt.Errorf("sock_diag: the kernel refused the dump")
		}
		msg := b[unix.NLMSG_HDRLEN:l]
		if len(msg) >= unixDiagMsgLen {
			ino := uint64(binary.NativeEndian.Uint32(msg[4:]))
			attrs := msg[unixDiagMsgLen:]
			for len(attrs) >= 4 {
				al := int(binary.NativeEndian.Uint16(attrs[0:]))
				at := binary.NativeEndian.Uint16(attrs[2:])
				if al < 4 || al > len(attrs) {
					break
				}
				if at == unixDiagRQLen && al >= 12 {
					out[ino] = uint64(binary.NativeEndian.Uint32(attrs[4:]))
				}
				attrs = attrs[min((al+3)&^3, len(attrs)):]
			}
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return false, nil
}
