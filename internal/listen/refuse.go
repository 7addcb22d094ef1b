package listen

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Refuse makes the listening sockets behind files refuse new connections, in every
// process that holds them: shutdown(2) of a listening TCP socket stops it
// listening (connections still queued are reset, new ones refused), and a unix
// socket shut for reading refuses connect. A server that stops for good calls it
// once its workers have taken what was queued, so that later clients are refused
// at once (a proxy retries elsewhere) instead of waiting in a backlog that nobody
// accepts from. Never for sockets another server still accepts on.
func Refuse(files []*os.File) error {
	var errs []error
	for _, f := range files {
		rc, err := f.SyscallConn()
		if err != nil {
			errs = append(errs, fmt.Errorf("refuse %s: %w", f.Name(), err))
			continue
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_RD) }); err != nil {
			serr = err
		}
		if serr != nil && !errors.Is(serr, unix.ENOTCONN) {
			errs = append(errs, fmt.Errorf("refuse %s: %w", f.Name(), serr))
		}
	}
	return errors.Join(errs...)
}
