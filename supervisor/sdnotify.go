package supervisor

import (
	"fmt"
	"net"
	"time"
)

// Notifier sends sd_notify(3) datagrams to systemd's NOTIFY_SOCKET. The zero value
// (no socket) does nothing.
type Notifier struct {
	addr string
}

// NewNotifier reads NOTIFY_SOCKET from environ; an unset variable gives a Notifier
// that does nothing. An address starting with @ is in the abstract namespace.
func NewNotifier(environ []string) *Notifier {
	addr, _ := lookupEnv(environ, "NOTIFY_SOCKET")
	return &Notifier{addr: addr}
}

// Enabled reports whether a notify socket is configured.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != "" }

// Notify sends state, newline-separated assignments such as "READY=1".
func (n *Notifier) Notify(state string) error {
	if !n.Enabled() {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr, err)
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
		return fmt.Errorf("sd_notify deadline: %w", err)
	}
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr, err)
	}
	return nil
}
