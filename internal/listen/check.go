package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/config"
)

// resolveBound caps the name lookup of one bind address in Check.
const resolveBound = 5 * time.Second

// Check finds out, without binding anything, whether Bind would fail on an address
// of cfg.Bind for a reason that lies in the configuration or the machine rather
// than in another server holding the port: a TCP host that does not resolve (or a
// dotted number that is no IPv4 address, such as 999.1.1.1), a unix socket whose
// directory is missing or whose path is something other than a socket, an fd:// that
// is not a listening socket. It is --check-config's view of the binds. Under
// systemd socket activation the inherited sockets are checked instead.
func Check(cfg *config.Config) error {
	if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid == os.Getpid() {
		n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
		for i := 0; i < n; i++ {
			if err := checkListeningFD(sdListenFDsStart + i); err != nil {
				return fmt.Errorf("systemd socket activation: %w", err)
			}
		}
		return nil
	}
	for _, spec := range cfg.Bind {
		if err := checkOne(spec, cfg.Protocol); err != nil {
			return fmt.Errorf("can't bind %s: %w", spec, err)
		}
	}
	return nil
}

func checkOne(spec, defaultProto string) error {
	network, address, _, err := ParseSpec(spec, defaultProto)
	if err != nil {
		return err
	}
	switch network {
	case "fd":
		fd, _ := strconv.Atoi(address)
		return checkListeningFD(fd)
	case "unix":
		return checkUnixPath(address)
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	return checkHost(host)
}

// checkHost resolves host as the bind would.
func checkHost(host string) error {
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if strings.Trim(host, "0123456789.") == "" {
		return fmt.Errorf("%q is not an IPv4 address", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveBound)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("host %q does not resolve: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("host %q has no address", host)
	}
	return nil
}

// checkUnixPath accepts a path whose directory exists and which is free or a socket.
func checkUnixPath(path string) error {
	if strings.HasPrefix(path, "@") {
		return nil // abstract: no file
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("socket directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("socket directory %s is not a directory", dir)
	}
	fi, err = os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	return nil
}

// checkListeningFD accepts a descriptor that is a listening socket.
func checkListeningFD(fd int) error {
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	switch {
	case errors.Is(err, unix.ENOTSOCK):
		return fmt.Errorf("fd://%d is not a socket", fd)
	case err != nil:
		return fmt.Errorf("fd://%d: %w", fd, err)
	case listening == 0:
		return fmt.Errorf("fd://%d is a socket that does not listen", fd)
	}
	return nil
}
