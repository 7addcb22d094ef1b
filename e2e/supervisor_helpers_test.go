package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/supervisor/supervisortest"
)

// herd is the real gonicorn binary running as a master, bound to a TCP port and a
// unix socket, with a pidfile.
type herd struct {
	t        testing.TB
	p        *testutil.Proc
	tcp      string
	unixPath string
	pidPath  string
	dir      string
}

// startHerd starts gonicorn with args plus its binds and pidfile, and waits until
// the master reports its workers ready.
func startHerd(t testing.TB, env []string, args ...string) *herd {
	t.Helper()
	dir, err := os.MkdirTemp("", "gh") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &herd{t: t, tcp: testutil.FreeAddr(t), unixPath: filepath.Join(dir, "g.sock"),
		pidPath: filepath.Join(dir, "g.pid"), dir: dir}
	all := append([]string{"-b", h.tcp, "-b", "unix:" + h.unixPath, "--pid", h.pidPath}, args...)
	h.p = testutil.StartWith(t, testutil.Options{Env: env}, testutil.Binary(t), all...)
	return h
}

func (h *herd) count(s string) int { return strings.Count(h.p.Stderr(), s) }

// readyCount counts "workers ready": once at start, once after each reload.
func (h *herd) readyCount() int { return h.count(`"message":"workers ready"`) }

func (h *herd) waitReady(n int, timeout time.Duration) {
	h.t.Helper()
	testutil.Eventually(h.t, timeout, func() bool {
		if h.p.Exited() {
			h.t.Fatalf("master exited while waiting for its workers")
		}
		return h.readyCount() >= n
	}, "master did not report its workers ready %d times", n)
}

func (h *herd) signal(sig syscall.Signal) {
	h.t.Helper()
	if err := h.p.Signal(sig); err != nil {
		h.t.Fatalf("signal %v: %v", sig, err)
	}
}

func (h *herd) workers() []int { return svChildPids(h.p.Pid()) }

func (h *herd) waitWorkers(n int, timeout time.Duration) {
	h.t.Helper()
	testutil.Eventually(h.t, timeout, func() bool { return len(h.workers()) == n },
		"want %d workers, have %v", n, h.workers())
}

// load starts keep-alive and connection-per-request clients over TCP and over the
// unix socket, against GET / of the demo app.
func (h *herd) load(keepAlive, perRequest int) svLoads {
	mk := func(network, addr string) *supervisortest.Run {
		return supervisortest.Start(supervisortest.Load{
			Network: network, Address: addr, WantBody: "Hello, World!",
			KeepAlive: keepAlive, PerRequest: perRequest,
		})
	}
	return svLoads{mk("tcp", h.tcp), mk("unix", h.unixPath)}
}

// stop sends TERM and checks a clean exit, with the pidfile and socket removed and
// no worker killed for overstaying a graceful stop.
func (h *herd) stop() {
	h.t.Helper()
	h.signal(syscall.SIGTERM)
	if code, err := h.p.Wait(30 * time.Second); code != 0 {
		h.t.Fatalf("master exit code %d: %v", code, err)
	}
	if strings.Contains(h.p.Stderr(), "did not exit in time") {
		h.t.Errorf("a worker had to be killed")
	}
	for _, path := range []string{h.pidPath, h.unixPath} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			h.t.Errorf("%s left after stop: %v", path, err)
		}
	}
}

type svLoads []*supervisortest.Run

func (ls svLoads) waitFlowing(t testing.TB) {
	t.Helper()
	for _, l := range ls {
		if !l.WaitFor(200, 15*time.Second) {
			t.Fatalf("load is not flowing: %v", l.Snapshot())
		}
	}
}

// stopAndCheck stops the load and fails the test on any failed request or reset.
func (ls svLoads) stopAndCheck(t testing.TB) {
	t.Helper()
	for i, l := range ls {
		r := l.Stop()
		t.Logf("load %d (%s): %v", i, []string{"tcp", "unix"}[i%2], r)
		if r.Failed != 0 || r.Resets != 0 {
			t.Errorf("load %d: %d failed requests, %d resets", i, r.Failed, r.Resets)
		}
		if r.OK == 0 {
			t.Errorf("load %d answered nothing", i)
		}
	}
}

// childPids lists the live (not zombie) children of pid.
func svChildPids(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil && svAlive(n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// alive reports whether pid exists and is not a zombie.
func svAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func svReadPidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
