package listen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/config"
)

// adoptFD turns an inherited listening socket (fd://N) into a net.Listener. The
// descriptor N itself is closed: the listener holds a close-on-exec duplicate, so N
// does not leak into processes started later.
func adoptFD(number string) (net.Listener, error) {
	fd, err := strconv.Atoi(number)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("%q is not a file descriptor", number)
	}
	return adopt(fd, "fd://"+number)
}

func adopt(fd int, name string) (net.Listener, error) {
	listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	switch {
	case errors.Is(err, unix.ENOTSOCK):
		return nil, fmt.Errorf("%s is not a socket", name)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	case listening == 0:
		return nil, fmt.Errorf("%s is a socket that does not listen", name)
	}
	f := os.NewFile(uintptr(fd), name)
	nl, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return nl, nil
}

// sdListenFDsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START).
const sdListenFDsStart = 3

// systemdListeners adopts the sockets of systemd socket activation when LISTEN_PID
// names this process. ok is false when there is no activation for this process.
// Each socket speaks, in this order of precedence: the protocol a bind spec names
// for its descriptor (-b uwsgi+fd://4, -b http+fd://3), its LISTEN_FDNAMES name
// when that is "uwsgi" or "http" (FileDescriptorName= in the .socket unit), else
// cfg.Protocol. Bind specs that are not fd:// are not bound: systemd owns the sockets.
func systemdListeners(cfg *config.Config, log zerolog.Logger) (ls []*Listener, ok bool, err error) {
	pid, err1 := strconv.Atoi(os.Getenv("LISTEN_PID"))
	n, err2 := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err1 != nil || err2 != nil || pid != os.Getpid() || n <= 0 {
		return nil, false, nil
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	explicit := explicitFDProtocols(cfg.Bind)
	for i := 0; i < n; i++ {
		fd := sdListenFDsStart + i
		spec := "fd://" + strconv.Itoa(fd)
		nl, err := adopt(fd, spec+" (systemd)")
		if err != nil {
			_ = Close(ls)
			return nil, true, fmt.Errorf("systemd socket activation: %w", err)
		}
		proto := cfg.Protocol
		if p, ok := explicit[fd]; ok {
			proto = p
		} else if i < len(names) && (names[i] == "uwsgi" || names[i] == "http") {
			proto = names[i]
		}
		ls = append(ls, &Listener{Listener: nl, Protocol: proto, Spec: spec})
	}
	log.Info().Int("sockets", n).Msg("using systemd socket activation")
	return ls, true, nil
}

// explicitFDProtocols maps the descriptors that bind specs name with a protocol
// prefix (uwsgi+fd://N, http+fd://N) to that protocol.
func explicitFDProtocols(binds []string) map[int]string {
	out := map[int]string{}
	for _, spec := range binds {
		s := strings.TrimSpace(spec)
		if !strings.HasPrefix(s, "uwsgi+fd://") && !strings.HasPrefix(s, "http+fd://") {
			continue
		}
		network, address, proto, err := config.SplitBind(s, "http")
		if err != nil || network != "fd" {
			continue
		}
		if fd, err := strconv.Atoi(address); err == nil {
			out[fd] = proto
		}
	}
	return out
}

// Files returns a duplicate *os.File of each listener's socket, in order, for passing
// to a child through exec.Cmd.ExtraFiles (the child sees them from fd 3 on). The
// caller closes them once the child has started. They are not registered in Go's
// poller (see Detach). The duplicates are made so that
// exec leaves the sockets non-blocking: net's own File method would switch the
// shared socket to blocking mode for every process using it.
func Files(ls []*Listener) ([]*os.File, error) {
	files := make([]*os.File, 0, len(ls))
	for _, l := range ls {
		fd, err := DupFD(l.Listener)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("listener %s: %w", l.Spec, err)
		}
		f, err := unpolledFile(fd, l.Spec)
		if err != nil {
			_ = unix.Close(fd)
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("listener %s: %w", l.Spec, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// DupFD duplicates the socket of nl, close-on-exec (exec clears that flag on
// the descriptors it passes). The copy is outside Go's poller: the master passes
// it to workers, and a worker's event loops adopt it.
func DupFD(nl net.Listener) (int, error) {
	sc, ok := nl.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("%T has no file descriptor", nl)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dup: %w", derr)
	}
	return fd, nil
}

// Encode describes listeners for a child's environment, in the order of Files:
// "PROTOCOL|SPEC" items joined by ";", e.g. "http|127.0.0.1:8000;uwsgi|unix:/x.sock".
// '%', '|' and ';' inside a spec are percent-escaped.
func Encode(ls []*Listener) string {
	items := make([]string, len(ls))
	for i, l := range ls {
		items[i] = specEscaper.Replace(l.Protocol) + "|" + specEscaper.Replace(l.Spec)
	}
	return strings.Join(items, ";")
}

var specEscaper = strings.NewReplacer("%", "%25", "|", "%7C", ";", "%3B")

// decode reads what Encode wrote.
func decode(desc string) (protos, specs []string, err error) {
	if desc == "" {
		return nil, nil, nil
	}
	for _, item := range strings.Split(desc, ";") {
		proto, spec, ok := strings.Cut(item, "|")
		if !ok {
			return nil, nil, fmt.Errorf("listener description %q lacks PROTOCOL|SPEC", item)
		}
		if proto, err = url.PathUnescape(proto); err != nil {
			return nil, nil, fmt.Errorf("listener description %q: %w", item, err)
		}
		if spec, err = url.PathUnescape(spec); err != nil {
			return nil, nil, fmt.Errorf("listener description %q: %w", item, err)
		}
		if proto != "http" && proto != "uwsgi" {
			return nil, nil, fmt.Errorf("listener description %q: unknown protocol %q", item, proto)
		}
		protos, specs = append(protos, proto), append(specs, spec)
	}
	return protos, specs, nil
}

// FromFiles rebuilds, in a child, the listeners a parent passed with Files and
// described with Encode. It takes ownership of files: each is closed once its
// listener holds a duplicate. The listeners never remove socket files.
func FromFiles(files []*os.File, desc string) ([]*Listener, error) {
	protos, specs, err := decode(desc)
	closeFiles := func() {
		for _, f := range files {
			f.Close()
		}
	}
	if err != nil {
		closeFiles()
		return nil, err
	}
	if len(protos) != len(files) {
		closeFiles()
		return nil, fmt.Errorf("listener description names %d sockets, %d files inherited", len(protos), len(files))
	}
	ls := make([]*Listener, 0, len(files))
	for i, f := range files {
		nl, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, rest := range files[i+1:] {
				rest.Close()
			}
			_ = Close(ls)
			return nil, fmt.Errorf("inherited listener %s: %w", specs[i], err)
		}
		ls = append(ls, &Listener{Listener: nl, Protocol: protos[i], Spec: specs[i]})
	}
	return ls, nil
}
