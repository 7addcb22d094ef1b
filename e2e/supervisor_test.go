package e2e

// The supervisor's promise, tested with the real binary under load from keep-alive
// clients and connection-per-request clients, over TCP and a unix socket: reloads,
// binary upgrades, recycling and resizing drop nothing; a killed worker loses only
// its own requests; a worker whose pool is stuck is aborted and replaced.

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/supervisor"
)

func TestSupervisorHUPReloadsUnderLoadWithoutFailures(t *testing.T) {
	h := startHerd(t, nil, "-w", "2")
	h.waitReady(1, 30*time.Second)
	first := h.workers()
	ls := h.load(2, 2)
	ls.waitFlowing(t)
	for i := 2; i <= 6; i++ {
		h.signal(syscall.SIGHUP)
		h.waitReady(i, 30*time.Second)
		ls.waitFlowing(t)
	}
	h.waitWorkers(2, 30*time.Second)
	ls.stopAndCheck(t)
	for _, pid := range first {
		if slices.Contains(h.workers(), pid) {
			t.Errorf("worker %d survived five reloads", pid)
		}
	}
	h.stop()
}

func TestSupervisorUSR2UpgradeThenWINCHAndTERMWithoutFailures(t *testing.T) {
	h := startHerd(t, nil, "-w", "2")
	h.waitReady(1, 30*time.Second)
	oldMaster := h.p.Pid()
	ls := h.load(2, 2)
	ls.waitFlowing(t)

	h.signal(syscall.SIGUSR2)
	var newMaster int
	testutil.Eventually(t, 30*time.Second, func() bool {
		newMaster = svReadPidFile(h.pidPath)
		return newMaster > 0 && newMaster != oldMaster && len(svChildPids(newMaster)) == 2 && h.readyCount() >= 2
	}, "the new master did not take %s and start serving workers", h.pidPath)
	// As Gunicorn: PIDFILE names the new master at once, the old one is in PIDFILE.oldbin.
	if got := svReadPidFile(h.pidPath + ".oldbin"); got != oldMaster {
		t.Fatalf("%s.oldbin holds %d, want the old master %d", h.pidPath, got, oldMaster)
	}
	t.Cleanup(func() {
		if svAlive(newMaster) {
			syscall.Kill(newMaster, syscall.SIGKILL)
		}
	})
	ls.waitFlowing(t)

	h.signal(syscall.SIGWINCH)
	testutil.Eventually(t, 30*time.Second, func() bool { return len(svChildPids(oldMaster)) == 1 },
		"old workers still there after WINCH: %v", svChildPids(oldMaster))
	ls.waitFlowing(t)
	h.signal(syscall.SIGTERM)
	// The new master inherited the old one's stdout and stderr, so the test's
	// process handle waits for it too: watch the old master's pid instead.
	testutil.Eventually(t, 30*time.Second, func() bool { return !svAlive(oldMaster) }, "the old master did not exit on TERM")
	testutil.Eventually(t, 10*time.Second, func() bool { return svReadPidFile(h.pidPath) == newMaster },
		"the pidfile does not name the new master %d", newMaster)
	if _, err := os.Stat(h.pidPath + ".oldbin"); !os.IsNotExist(err) {
		t.Errorf("%s.oldbin left after the old master stopped", h.pidPath)
	}
	if _, err := os.Stat(h.unixPath); err != nil {
		t.Errorf("the old master removed the socket file the new one serves: %v", err)
	}
	ls.waitFlowing(t)
	ls.stopAndCheck(t)

	syscall.Kill(newMaster, syscall.SIGTERM)
	testutil.Eventually(t, 30*time.Second, func() bool { return !svAlive(newMaster) }, "new master did not stop")
	for _, path := range []string{h.pidPath, h.unixPath} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s left after the promoted master stopped", path)
		}
	}
}

func TestSupervisorMaxRequestsRecyclesUnderLoadWithoutFailures(t *testing.T) {
	h := startHerd(t, nil, "-w", "2", "--max-requests", "400", "--max-requests-jitter", "100")
	h.waitReady(1, 30*time.Second)
	ls := h.load(2, 2)
	testutil.Eventually(t, 60*time.Second, func() bool { return h.count("reached --max-requests") >= 6 },
		"workers were not recycled")
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	h.stop()
}

func TestSupervisorTTINAndTTOUUnderLoadWithoutFailures(t *testing.T) {
	h := startHerd(t, nil, "-w", "2")
	h.waitReady(1, 30*time.Second)
	ls := h.load(2, 2)
	ls.waitFlowing(t)
	for _, step := range []struct {
		sig  syscall.Signal
		want int
	}{
		{syscall.SIGTTIN, 3}, {syscall.SIGTTOU, 2}, {syscall.SIGTTOU, 1},
		{syscall.SIGTTOU, 1}, // never below one
		{syscall.SIGTTIN, 2},
	} {
		h.signal(step.sig)
		h.waitWorkers(step.want, 30*time.Second)
		ls.waitFlowing(t)
	}
	ls.stopAndCheck(t)
	h.stop()
}

func TestSupervisorReplacesAKilledWorkerWithinASecond(t *testing.T) {
	h := startHerd(t, nil, "-w", "3")
	h.waitReady(1, 30*time.Second)
	ls := h.load(2, 2)
	ls.waitFlowing(t)
	pids := h.workers()
	victim := pids[1]
	// The master's "worker serving" line (with the boot time) marks a worker's
	// ready record; the worker's own line of the same name has no "boot".
	booted := h.count(`"boot":`)
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	testutil.Eventually(t, 5*time.Second, func() bool {
		now := h.workers()
		return len(now) == 3 && !slices.Contains(now, victim) && h.count(`"boot":`) > booted
	}, "herd not whole again after SIGKILL: %v", h.workers())
	// The master logs "worker serving" as soon as the replacement's ready record
	// arrives; polling the log adds its own delay, so allow a little slack.
	took := time.Since(killed)
	t.Logf("herd whole and serving again %v after the kill", took)
	if took > time.Second+250*time.Millisecond {
		t.Errorf("herd whole again after %v, want about a second at most", took)
	}
	ls.waitFlowing(t)
	for i, l := range ls {
		r := l.Stop()
		t.Logf("load %d across the kill: %v", i, r)
		// Only the killed worker's in-flight requests may fail: at most one per client.
		if r.Failed > 4 {
			t.Errorf("%d requests failed across one worker's kill", r.Failed)
		}
	}
	h.stop()
}

func TestSupervisorAbortsAWorkerWhosePoolIsStuck(t *testing.T) {
	const timeout = 2 * time.Second
	h := startHerd(t, nil, "-w", "2", "--threads", "4", "-t", "2", "--graceful-timeout", "3")
	h.waitReady(1, 30*time.Second)
	before := h.workers()
	// Seven stuck requests over two workers: one worker holds at least four (its
	// whole pool), the other at most three, so exactly one worker is sick.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 7; i++ {
		c, err := net.DialTimeout("tcp", h.tcp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte("GET /hang?ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Now()
	testutil.Eventually(t, 4*timeout+supervisor.AbortGrace+5*time.Second, func() bool {
		return h.count("WORKER TIMEOUT (pid:") >= 1
	}, "no worker timed out")
	took := time.Since(sent)
	t.Logf("WORKER TIMEOUT %v after the pool filled", took)
	// Handlers pass their deadline after --timeout, then the worker is silent for
	// --timeout: the abort comes after about twice --timeout.
	if took > 2*timeout+2*time.Second {
		t.Errorf("abort after %v, want about %v", took, 2*timeout)
	}
	var stuck int
	for _, pid := range before {
		if strings.Contains(h.p.Stderr(), "WORKER TIMEOUT (pid:"+strconv.Itoa(pid)+")") {
			stuck = pid
		}
	}
	if stuck == 0 {
		t.Fatalf("timed-out worker is not one of %v", before)
	}
	if h.count("WORKER TIMEOUT (pid:") != 1 {
		t.Errorf("more than one worker timed out")
	}
	testutil.Eventually(t, supervisor.AbortGrace+3*time.Second, func() bool {
		now := h.workers()
		return !slices.Contains(now, stuck) && len(now) == 2
	}, "stuck worker %d not replaced: %v", stuck, h.workers())
	if !strings.Contains(h.p.Stderr(), "WORKER ABORTED") || !strings.Contains(h.p.Stderr(), `"message":"stuck handler"`) {
		t.Errorf("the aborted worker did not log its stuck handlers and stacks")
	}
	// The healthy worker (at most three of four slots taken) and the replacement
	// answer normally.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 20; i++ {
		resp, err := client.Get("http://" + h.tcp + "/")
		if err != nil {
			t.Fatalf("request %d after the abort: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d after the abort: %s", i, resp.Status)
		}
	}
	h.signal(syscall.SIGINT)
	h.p.Wait(30 * time.Second)
}

func TestSupervisorHaltsWhenWorkersCannotBoot(t *testing.T) {
	// The master never opens the access log; every worker fails to, at boot.
	h := startHerd(t, nil, "-w", "2", "--access-logfile", "/nonexistent-dir/access.log")
	code, _ := h.p.Wait(30 * time.Second)
	if code != supervisor.ExitBootFailed {
		t.Fatalf("master exit code %d, want %d", code, supervisor.ExitBootFailed)
	}
	if !strings.Contains(h.p.Stderr(), "worker failed to boot") {
		t.Errorf("no clear message")
	}
	if n := h.count(`"message":"booting worker"`); n > 2 {
		t.Errorf("%d workers booted: a respawn loop", n)
	}
}

func TestSupervisorUSR1ReopensLogFiles(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	h := startHerd(t, nil, "-w", "2", "--error-logfile", logPath)
	testutil.Eventually(t, 30*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), `"message":"workers ready"`)
	}, "workers never ready")
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	h.signal(syscall.SIGUSR1)
	testutil.Eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		// Each process writes its next line to the reopened file: the master's
		// and both workers' acknowledgements.
		return strings.Count(string(b), "log files reopened") >= 3
	}, "master and workers did not reopen %s", logPath)
	h.signal(syscall.SIGTERM)
	if code, err := h.p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d %v", code, err)
	}
}

func TestSupervisorNotifiesSystemdWhenWorkersServe(t *testing.T) {
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "n.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := startHerd(t, []string{"NOTIFY_SOCKET=" + sock}, "-w", "2")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 512)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(buf[:n]), "READY=1") {
		t.Fatalf("first notification %q, want READY=1", buf[:n])
	}
	resp, err := http.Get("http://" + h.tcp + "/healthz")
	if err != nil {
		t.Fatalf("READY=1 sent but not serving: %v", err)
	}
	resp.Body.Close()
	h.stop()
}

func TestSupervisorMaxWorkerMemoryRecyclesUnderLoadWithoutFailures(t *testing.T) {
	// Every worker is over one byte: each is recycled about once a second.
	h := startHerd(t, nil, "-w", "2", "--max-worker-memory", "1")
	h.waitReady(1, 30*time.Second)
	ls := h.load(2, 2)
	testutil.Eventually(t, 30*time.Second, func() bool { return h.count("exceeds --max-worker-memory") >= 4 },
		"workers were not recycled for their memory")
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	h.stop()
}

func TestSupervisorWorkersLeaveWhenTheMasterDies(t *testing.T) {
	h := startHerd(t, nil, "-w", "2")
	h.waitReady(1, 30*time.Second)
	workers := h.workers()
	if err := syscall.Kill(h.p.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Each worker notices at its next heartbeat (at most a second) and stops
	// gracefully; nothing is left serving for a master that is gone.
	testutil.Eventually(t, 10*time.Second, func() bool {
		for _, pid := range workers {
			if svAlive(pid) {
				return false
			}
		}
		return true
	}, "orphaned workers %v still running", workers)
}

func TestSupervisorWorkersRunAsTheConfiguredUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching the workers' user needs root")
	}
	// The binary must be reachable by the unprivileged user.
	dir, err := os.MkdirTemp("", "gu")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(testutil.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gonicorn")
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	// Log files in a directory the workers could not create them in: the master
	// creates them and hands them over.
	logDir := filepath.Join(dir, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	accessLog := filepath.Join(logDir, "access.log")
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, bin, "-b", addr, "-w", "2", "-u", "nobody", "-g", "65534",
		"--error-logfile", filepath.Join(logDir, "error.log"), "--access-logfile", accessLog)
	errLog := func() string { b, _ := os.ReadFile(filepath.Join(logDir, "error.log")); return string(b) }
	testutil.Eventually(t, 30*time.Second, func() bool {
		return strings.Contains(errLog(), `"message":"workers ready"`)
	}, "workers never ready:\n%s", errLog())
	workers := svChildPids(p.Pid())
	if len(workers) != 2 {
		t.Fatalf("workers %v", workers)
	}
	for _, pid := range workers {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && (f[0] == "Uid:" || f[0] == "Gid:") && f[1] != "65534" {
				t.Errorf("worker %d runs with %s", pid, line)
			}
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Groups:" {
				t.Errorf("worker %d kept supplementary groups: %s", pid, line)
			}
		}
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %s", resp.Status)
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(accessLog)
		return strings.Contains(string(b), `"GET / HTTP/1.1" 200`)
	}, "the workers did not write the access log")
	p.Signal(syscall.SIGUSR1)
	testutil.Eventually(t, 10*time.Second, func() bool { return strings.Count(errLog(), "log files reopened") >= 3 },
		"workers could not reopen their logs:\n%s", errLog())
	p.Signal(syscall.SIGTERM)
	if code, err := p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d %v", code, err)
	}
}

func TestSupervisorHUPStartsWorkersFromTheBinaryOnDisk(t *testing.T) {
	dir, err := os.MkdirTemp("", "gb")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src, err := os.ReadFile(testutil.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gonicorn")
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, bin, "-b", addr, "-w", "2")
	ready := func(n int) {
		testutil.Eventually(t, 30*time.Second, func() bool {
			return strings.Count(p.Stderr(), `"message":"workers ready"`) >= n
		}, "workers not ready %d times", n)
	}
	ready(1)
	// Deploy a rebuilt binary the usual way: write it beside, rename it over.
	if err := os.WriteFile(bin+".new", src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGHUP)
	ready(2)
	testutil.Eventually(t, 30*time.Second, func() bool { return len(svChildPids(p.Pid())) == 2 },
		"old workers not retired: %v", svChildPids(p.Pid()))
	if exe, _ := os.Readlink("/proc/" + strconv.Itoa(p.Pid()) + "/exe"); !strings.HasSuffix(exe, " (deleted)") {
		t.Fatalf("the master's binary %q was not replaced: the test proves nothing", exe)
	}
	for _, pid := range svChildPids(p.Pid()) {
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || exe != bin {
			t.Errorf("worker %d runs %q, want the new %s", pid, exe, bin)
		}
	}
	p.Signal(syscall.SIGTERM)
	if code, err := p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d %v", code, err)
	}
}
