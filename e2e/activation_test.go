package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// inheritedListener binds a loopback TCP socket and returns its address and a file
// for the child to inherit.
func inheritedListener(t *testing.T) (string, *os.File) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := syscall.SetNonblock(int(f.Fd()), true); err != nil {
		t.Fatal(err)
	}
	return l.Addr().String(), f
}

// Inherited sockets keep the protocol their bind spec names: by -b alone, and
// under systemd socket activation (LISTEN_FDS), where LISTEN_PID must be the
// server's own pid, so a shell sets it and execs the binary.
func TestSocketActivationKeepsPerBindProtocols(t *testing.T) {
	for _, systemd := range []bool{false, true} {
		name := map[bool]string{false: "inherited fds", true: "systemd LISTEN_FDS"}[systemd]
		t.Run(name, func(t *testing.T) {
			httpAddr, f3 := inheritedListener(t)
			uwsgiAddr, f4 := inheritedListener(t)
			args := []string{"-b", "fd://3", "-b", "uwsgi+fd://4"}
			cmd := exec.Command(testutil.Binary(t), args...)
			if systemd {
				cmd = exec.Command("sh", append([]string{"-c", `LISTEN_PID=$$ LISTEN_FDS=2 exec "$@"`, "sh", testutil.Binary(t)}, args...)...)
			}
			cmd.ExtraFiles = []*os.File{f3, f4}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// systemd keeps its own copy of the sockets for the next start.
			keep, err := syscall.Dup(int(f3.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(keep)
			f3.Close()
			f4.Close()
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				_ = cmd.Wait()
				if t.Failed() {
					t.Logf("stderr:\n%s", stderr.String())
				}
			})
			expectHello(t, httpAddr, "fd://3")
			got, err := exchange(t, uwsgiAddr, getRoot)
			if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(got), "Hello, World!") {
				t.Fatalf("uwsgi+fd://4 answered %q, %v", got, err)
			}
			// A stop leaves the sockets listening for whoever passed them.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 20*time.Second, func() bool { return len(svChildPids(cmd.Process.Pid)) == 0 && !svAlive(cmd.Process.Pid) },
				"gonicorn did not stop")
			if n, err := unix.GetsockoptInt(keep, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || n != 1 {
				t.Fatalf("the inherited socket no longer listens after the stop (%d, %v)", n, err)
			}
		})
	}
}
