package listen

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/config"
)

func testConfig(binds ...string) *config.Config {
	c := config.Default()
	c.Bind = binds
	return &c
}

// sockDir is a short temporary directory: unix socket paths are limited to 107 bytes.
func sockDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// roundTrip proves l accepts: a client connects and the accepted side reads a byte.
func roundTrip(t *testing.T, l *Listener) {
	t.Helper()
	addr := l.Addr()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 1)
		_, err = c.Read(b)
		accepted <- err
	}()
	c, err := net.DialTimeout(addr.Network(), addr.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-accepted:
		if err != nil {
			t.Fatalf("accept on %s: %v", l.Spec, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no connection accepted on %s", l.Spec)
	}
}

func TestBindForms(t *testing.T) {
	dir := sockDir(t)
	tests := []struct {
		name, spec, defaultProto, proto, network string
	}{
		{"host:port", "127.0.0.1:0", "http", "http", "tcp"},
		{"tcp:// prefix", "tcp://127.0.0.1:0", "http", "http", "tcp"},
		{"uwsgi:// prefix", "uwsgi://127.0.0.1:0", "http", "uwsgi", "tcp"},
		{"plain bind takes --protocol", "127.0.0.1:0", "uwsgi", "uwsgi", "tcp"},
		{"unix:PATH", "unix:" + filepath.Join(dir, "a.sock"), "http", "http", "unix"},
		{"unix://PATH", "unix://" + filepath.Join(dir, "b.sock"), "http", "http", "unix"},
		{"uwsgi+unix:PATH", "uwsgi+unix:" + filepath.Join(dir, "c.sock"), "http", "uwsgi", "unix"},
		{"abstract unix socket", "unix:@gonicorn-test-" + strconv.Itoa(os.Getpid()), "http", "http", "unix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(tt.spec)
			cfg.Protocol = tt.defaultProto
			ls, err := Bind(cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer CloseAndRemove(ls)
			if len(ls) != 1 {
				t.Fatalf("got %d listeners", len(ls))
			}
			l := ls[0]
			if l.Protocol != tt.proto || l.Spec != tt.spec || l.Addr().Network() != tt.network {
				t.Errorf("listener = %s %s %s, want %s %s %s", l.Protocol, l.Spec, l.Addr().Network(), tt.proto, tt.spec, tt.network)
			}
			roundTrip(t, l)
		})
	}
}

func TestBindIPv6Loopback(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	for _, spec := range []string{"[::1]:0", "uwsgi://[::1]:0"} {
		ls, err := Bind(testConfig(spec), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if ip := ls[0].Addr().(*net.TCPAddr).IP; !ip.Equal(net.IPv6loopback) {
			t.Errorf("%s bound %s", spec, ip)
		}
		roundTrip(t, ls[0])
		CloseAndRemove(ls)
	}
}

func TestBindSeveralInOrder(t *testing.T) {
	dir := sockDir(t)
	specs := []string{"127.0.0.1:0", "uwsgi+unix:" + filepath.Join(dir, "u.sock"), "uwsgi://127.0.0.1:0"}
	ls, err := Bind(testConfig(specs...), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	for i, l := range ls {
		if l.Spec != specs[i] {
			t.Errorf("listener %d is %s, want %s", i, l.Spec, specs[i])
		}
		roundTrip(t, l)
	}
}

func sockoptInt(t *testing.T, l net.Listener, level, opt int) int {
	t.Helper()
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

func TestSocketOptions(t *testing.T) {
	cfg := testConfig("127.0.0.1:0")
	cfg.ReusePort = true
	cfg.Backlog = 7
	ls, err := Bind(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	if sockoptInt(t, ls[0].Listener, unix.SOL_SOCKET, unix.SO_REUSEADDR) != 1 {
		t.Error("SO_REUSEADDR not set")
	}
	if sockoptInt(t, ls[0].Listener, unix.SOL_SOCKET, unix.SO_REUSEPORT) != 1 {
		t.Error("SO_REUSEPORT not set with ReusePort")
	}
	if p := sockoptInt(t, ls[0].Listener, unix.SOL_SOCKET, unix.SO_PROTOCOL); p != unix.IPPROTO_TCP {
		t.Errorf("listener protocol %d, want plain TCP (%d), not Multipath TCP", p, unix.IPPROTO_TCP)
	}
	// For a listening TCP socket Linux reports the backlog in tcpi_sacked.
	rc, _ := ls[0].Listener.(syscall.Conn).SyscallConn()
	var info *unix.TCPInfo
	var ierr error
	rc.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	if ierr != nil {
		t.Fatal(ierr)
	}
	if info.Sacked != 7 {
		t.Errorf("backlog = %d, want 7", info.Sacked)
	}

	plain, err := Bind(testConfig("127.0.0.1:0"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(plain)
	if sockoptInt(t, plain[0].Listener, unix.SOL_SOCKET, unix.SO_REUSEPORT) != 0 {
		t.Error("SO_REUSEPORT set without ReusePort")
	}
}

func TestUnixSocketModeFollowsUmask(t *testing.T) {
	dir := sockDir(t)
	for _, umask := range []int{0o077, 0o022, 0o000} {
		path := filepath.Join(dir, "m"+strconv.Itoa(umask)+".sock")
		cfg := testConfig("unix:" + path)
		cfg.Umask = umask
		before := syscall.Umask(0o022)
		syscall.Umask(before)
		ls, err := Bind(cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o777&^umask); got != want {
			t.Errorf("umask %#o: socket mode %v, want %v", umask, got, want)
		}
		after := syscall.Umask(before)
		if after != before {
			t.Errorf("process umask changed from %#o to %#o", before, after)
		}
		CloseAndRemove(ls)
	}
}

func TestStaleSocketIsRemoved(t *testing.T) {
	path := filepath.Join(sockDir(t), "stale.sock")
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close() // leaves the file behind, as a crashed process does
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}
	var logs bytes.Buffer
	ls, err := Bind(testConfig("unix:"+path), zerolog.New(&logs))
	if err != nil {
		t.Fatalf("Bind over a stale socket: %v", err)
	}
	defer CloseAndRemove(ls)
	roundTrip(t, ls[0])
	if !strings.Contains(logs.String(), "removed stale unix socket") {
		t.Errorf("no log of the removal: %s", logs.String())
	}
}

func TestLiveSocketIsNotRemoved(t *testing.T) {
	path := filepath.Join(sockDir(t), "live.sock")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	_, err = BindWith(testConfig("unix:"+path), zerolog.Nop(), Options{Attempts: 2, RetryDelay: 10 * time.Millisecond})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Bind over a live socket: %v, want EADDRINUSE", err)
	}
	// The live listener still has its file and answers (after the two probe
	// connections that told Bind it is alive).
	for i := 0; i < 2; i++ {
		c, err := live.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	roundTrip(t, &Listener{Listener: live, Spec: "live"})
}

func TestPathThatIsNotASocket(t *testing.T) {
	path := filepath.Join(sockDir(t), "file.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Bind(testConfig("unix:"+path), zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Bind over a regular file: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "keep me" {
		t.Error("the regular file was touched")
	}
}

func TestRetryOnAddressInUse(t *testing.T) {
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := holder.Addr().String()

	t.Run("gives up after the attempts", func(t *testing.T) {
		var logs bytes.Buffer
		b := binder{cfg: testConfig(addr), log: zerolog.New(&logs), attempts: 3, delay: time.Second}
		var slept []time.Duration
		b.sleep = func(d time.Duration) { slept = append(slept, d) }
		_, err := b.bindAll()
		if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "can't bind "+addr) {
			t.Fatalf("err = %v", err)
		}
		if len(slept) != 2 || slept[0] != time.Second {
			t.Errorf("slept %v, want two pauses of 1s between three attempts", slept)
		}
		if n := strings.Count(logs.String(), "connection in use, retrying"); n != 2 {
			t.Errorf("%d retry logs, want 2: %s", n, logs.String())
		}
	})
	t.Run("succeeds once the address is free", func(t *testing.T) {
		b := binder{cfg: testConfig(addr), log: zerolog.Nop(), attempts: 5, delay: time.Second}
		b.sleep = func(time.Duration) { holder.Close() }
		ls, err := b.bindAll()
		if err != nil {
			t.Fatalf("Bind after the holder left: %v", err)
		}
		defer CloseAndRemove(ls)
		roundTrip(t, ls[0])
	})
	t.Run("real delay is injectable", func(t *testing.T) {
		h2, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer h2.Close()
		start := time.Now()
		_, err = BindWith(testConfig(h2.Addr().String()), zerolog.Nop(), Options{Attempts: 2, RetryDelay: 20 * time.Millisecond})
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d < 20*time.Millisecond || d > 5*time.Second {
			t.Errorf("two attempts took %v", d)
		}
	})
}

func TestFailedBindClosesEarlierListeners(t *testing.T) {
	path := filepath.Join(sockDir(t), "first.sock")
	_, err := Bind(testConfig("unix:"+path, "unix:/nonexistent-dir/x.sock"), zerolog.Nop())
	if err == nil {
		t.Fatal("Bind succeeded with an impossible address")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket of the first bind left behind: %v", err)
	}
}

func TestBindRejectsBadSpec(t *testing.T) {
	_, err := Bind(testConfig("127.0.0.1:port"), zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:port") {
		t.Fatalf("err = %v", err)
	}
}

// rawDup duplicates l's socket into a plain descriptor number the test owns.
func rawDup(t *testing.T, l net.Listener) int {
	t.Helper()
	fd, err := DupFD(l)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestBindFD(t *testing.T) {
	orig, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	fd := rawDup(t, orig)
	spec := "uwsgi+fd://" + strconv.Itoa(fd)
	ls, err := Bind(testConfig(spec), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	if ls[0].Protocol != "uwsgi" || ls[0].Addr().String() != orig.Addr().String() {
		t.Errorf("adopted %s %s, want uwsgi %s", ls[0].Protocol, ls[0].Addr(), orig.Addr())
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("inherited fd %d still open after adoption (err %v)", fd, err)
	}
	roundTrip(t, ls[0])
}

func TestBindFDRejectsNonListeners(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	_, err := Bind(testConfig("fd://"+strconv.Itoa(p[0])), zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("pipe: %v", err)
	}
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(s)
	_, err = Bind(testConfig("fd://"+strconv.Itoa(s)), zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "does not listen") {
		t.Errorf("unlistening socket: %v", err)
	}
	_, err = Bind(testConfig("fd://987654"), zerolog.Nop())
	if err == nil {
		t.Error("closed descriptor adopted")
	}
}

func TestCloseAndRemove(t *testing.T) {
	dir := sockDir(t)
	t.Run("removes the socket it created", func(t *testing.T) {
		path := filepath.Join(dir, "own.sock")
		ls, err := Bind(testConfig("unix:"+path), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if err := CloseAndRemove(ls); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file still there: %v", err)
		}
		if err := CloseAndRemove(ls); err != nil {
			t.Errorf("second CloseAndRemove: %v", err)
		}
	})
	t.Run("Close leaves the file", func(t *testing.T) {
		path := filepath.Join(dir, "kept.sock")
		ls, err := Bind(testConfig("unix:"+path), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if err := Close(ls); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("Close removed the socket file: %v", err)
		}
	})
	t.Run("inherited listeners never remove", func(t *testing.T) {
		path := filepath.Join(dir, "inh.sock")
		ls, err := Bind(testConfig("unix:"+path), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer CloseAndRemove(ls)
		files, err := Files(ls)
		if err != nil {
			t.Fatal(err)
		}
		inherited, err := FromFiles(files, Encode(ls))
		if err != nil {
			t.Fatal(err)
		}
		if err := CloseAndRemove(inherited); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("an inheriting process removed the socket file: %v", err)
		}
		roundTrip(t, ls[0])
	})
	t.Run("a replaced file is not removed", func(t *testing.T) {
		path := filepath.Join(dir, "repl.sock")
		ls, err := Bind(testConfig("unix:"+path), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path)
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := CloseAndRemove(ls); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("another process's socket file was removed: %v", err)
		}
	})
}

func TestEncodeDecode(t *testing.T) {
	ls := []*Listener{
		{Protocol: "http", Spec: "127.0.0.1:8000"},
		{Protocol: "uwsgi", Spec: "unix:/tmp/a;b|c%d.sock"},
	}
	desc := Encode(ls)
	if want := "http|127.0.0.1:8000;uwsgi|unix:/tmp/a%3Bb%7Cc%25d.sock"; desc != want {
		t.Errorf("Encode = %q, want %q", desc, want)
	}
	protos, specs, err := decode(desc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ls {
		if protos[i] != ls[i].Protocol || specs[i] != ls[i].Spec {
			t.Errorf("item %d decoded as %s %s", i, protos[i], specs[i])
		}
	}
	for _, bad := range []string{"nopipe", "ftp|x", "http|%zz"} {
		if _, _, err := decode(bad); err == nil {
			t.Errorf("decode(%q) succeeded", bad)
		}
	}
	if _, err := FromFiles(nil, "http|a"); err == nil {
		t.Error("FromFiles accepted a description naming more sockets than files")
	}
}

func TestFilesKeepSocketsNonBlocking(t *testing.T) {
	ls, err := Bind(testConfig("127.0.0.1:0"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	files, err := Files(ls)
	if err != nil {
		t.Fatal(err)
	}
	defer files[0].Close()
	_ = files[0].Fd() // what os/exec does with ExtraFiles
	rc, _ := ls[0].Listener.(syscall.Conn).SyscallConn()
	var flags int
	rc.Control(func(fd uintptr) { flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if flags&unix.O_NONBLOCK == 0 {
		t.Error("passing the listener to a child made the shared socket blocking")
	}
}

// TestFilesFromFilesInChild passes listeners to a real child process, which rebuilds
// them with FromFiles and accepts one connection on each.
func TestFilesFromFilesInChild(t *testing.T) {
	dir := sockDir(t)
	ls, err := Bind(testConfig("127.0.0.1:0", "uwsgi+unix:"+filepath.Join(dir, "child.sock")), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	files, err := Files(ls)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"=fromfiles", "CHILD_NFILES="+strconv.Itoa(len(files)), "CHILD_DESC="+Encode(ls))
	cmd.ExtraFiles = files
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	for _, l := range ls {
		// Only the child accepts: the parent never calls Accept on these.
		want := l.Protocol + " " + l.Spec
		if got := readGreeting(t, l.Addr().Network(), l.Addr().String()); got != want {
			t.Errorf("child answered %q, want %q", got, want)
		}
	}
	waitChild(t, cmd, &stderr)
	// The child's CloseAndRemove must not have removed the parent's socket file.
	roundTrip(t, ls[1])
}

func waitChild(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child failed: %v: %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child did not exit: %s", stderr.String())
	}
}

func TestSystemdSocketActivation(t *testing.T) {
	dir := sockDir(t)
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Listen("unix", filepath.Join(dir, "sd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fa, fb := os.NewFile(uintptr(rawDup(t, a)), "a"), os.NewFile(uintptr(rawDup(t, b)), "b")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"=systemd", "LISTEN_FDS=2", "LISTEN_FDNAMES=web:uwsgi")
	cmd.ExtraFiles = []*os.File{fa, fb}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fa.Close()
	fb.Close()
	if got := readGreeting(t, "tcp", a.Addr().String()); got != "http fd://3" {
		t.Errorf("first socket: %q, want %q", got, "http fd://3")
	}
	if got := readGreeting(t, "unix", b.Addr().String()); got != "uwsgi fd://4" {
		t.Errorf("second socket: %q, want %q", got, "uwsgi fd://4")
	}
	waitChild(t, cmd, &stderr)
}

// Bind specs give the activated sockets their protocols (uwsgi+fd://N wins over
// LISTEN_FDNAMES, which wins over --protocol), as they do without systemd.
func TestSystemdSocketActivationWithMixedProtocols(t *testing.T) {
	cases := []struct {
		name, bind, fdnames string
		want                [3]string
	}{
		{"bind prefixes", "fd://3,uwsgi+fd://4", "", [3]string{"http fd://3", "uwsgi fd://4", "http fd://5"}},
		{"fd names", "", "uwsgi:http:uwsgi", [3]string{"uwsgi fd://3", "http fd://4", "uwsgi fd://5"}},
		{"a prefix wins over a name", "http+fd://3,fd://4", "uwsgi:uwsgi:web", [3]string{"http fd://3", "uwsgi fd://4", "http fd://5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lns []net.Listener
			var files []*os.File
			for i := 0; i < 3; i++ {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				lns = append(lns, l)
				files = append(files, os.NewFile(uintptr(rawDup(t, l)), "sd"))
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childModeEnv+"=systemd", "LISTEN_FDS=3", "LISTEN_FDNAMES="+tc.fdnames, "CHILD_BIND="+tc.bind)
			cmd.ExtraFiles = files
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				f.Close()
			}
			for i, l := range lns {
				if got := readGreeting(t, "tcp", l.Addr().String()); got != tc.want[i] {
					t.Errorf("socket %d: %q, want %q", i, got, tc.want[i])
				}
			}
			waitChild(t, cmd, &stderr)
		})
	}
}

func TestSystemdActivationForAnotherProcessIsIgnored(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()+1))
	t.Setenv("LISTEN_FDS", "1")
	ls, err := Bind(testConfig("127.0.0.1:0"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAndRemove(ls)
	if ls[0].Spec != "127.0.0.1:0" {
		t.Errorf("bound %s instead of the configured address", ls[0].Spec)
	}
	if os.Getenv("LISTEN_FDS") != "1" {
		t.Error("LISTEN_FDS meant for another process was removed")
	}
}

func TestParseSpecDelegates(t *testing.T) {
	network, address, proto, err := ParseSpec("uwsgi+unix:/x.sock", "http")
	if err != nil || network != "unix" || address != "/x.sock" || proto != "uwsgi" {
		t.Errorf("ParseSpec = %q %q %q %v", network, address, proto, err)
	}
}
