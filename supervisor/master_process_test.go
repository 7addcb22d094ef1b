package supervisor

import (
	"encoding/json"
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

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/testutil"
	"github.com/gonicorn/gonicorn/supervisor/supervisortest"
)

// fakeMaster is the test binary running as a master of fake workers.
type fakeMaster struct {
	t        *testing.T
	proc     *testutil.Proc
	cfgPath  string
	cfg      config.Config
	tcpAddr  string
	unixPath string
	pidPath  string
}

// startFakeMaster starts a master bound to a fresh TCP port and a unix socket, and
// waits until its workers serve.
func startFakeMaster(t *testing.T, mutate func(*config.Config), env ...string) *fakeMaster {
	t.Helper()
	dir, err := os.MkdirTemp("", "sv") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	fm := &fakeMaster{
		t:        t,
		cfgPath:  filepath.Join(dir, "config.json"),
		tcpAddr:  testutil.FreeAddr(t),
		unixPath: filepath.Join(dir, "s.sock"),
		pidPath:  filepath.Join(dir, "master.pid"),
	}
	cfg := config.Default()
	cfg.Bind = []string{fm.tcpAddr, "unix:" + fm.unixPath}
	cfg.Workers = 2
	cfg.Timeout = 5 * time.Second
	cfg.GracefulTimeout = 10 * time.Second
	cfg.PidFile = fm.pidPath
	if mutate != nil {
		mutate(&cfg)
	}
	fm.writeConfig(cfg)
	fm.proc = testutil.StartWith(t, testutil.Options{
		Env: append([]string{envRole + "=master", envConfigFile + "=" + fm.cfgPath}, env...),
	}, os.Args[0], "-test.run=^$")
	return fm
}

func (fm *fakeMaster) writeConfig(cfg config.Config) {
	fm.t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		fm.t.Fatal(err)
	}
	if err := os.WriteFile(fm.cfgPath, b, 0o644); err != nil {
		fm.t.Fatal(err)
	}
	fm.cfg = cfg
}

// readyCount counts the "workers ready" lines: one when the herd first settles, one
// after each completed reload.
func (fm *fakeMaster) readyCount() int {
	return strings.Count(fm.proc.Stderr(), `"message":"workers ready"`)
}

func (fm *fakeMaster) waitReady(n int, timeout time.Duration) {
	fm.t.Helper()
	testutil.Eventually(fm.t, timeout, func() bool {
		if fm.proc.Exited() {
			fm.t.Fatalf("master exited while waiting for workers:\n%s", fm.proc.Stderr())
		}
		return fm.readyCount() >= n
	}, "master did not report its workers ready %d times", n)
}

func (fm *fakeMaster) signal(sig syscall.Signal) {
	fm.t.Helper()
	if err := fm.proc.Signal(sig); err != nil {
		fm.t.Fatalf("signal %v: %v", sig, err)
	}
}

// noneKilled fails the test if a retired worker had to be killed: a graceful stop
// that needs SIGKILL drops whatever the worker still held.
func (fm *fakeMaster) noneKilled() {
	fm.t.Helper()
	if strings.Contains(fm.proc.Stderr(), "did not exit in time") {
		fm.t.Errorf("a worker had to be killed:\n%s", fm.proc.Stderr())
	}
}

// childPids lists the live children of pid.
func childPids(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil && !isZombie(n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

func (fm *fakeMaster) load(network string, keepAlive, perRequest int) *supervisortest.Run {
	addr := fm.tcpAddr
	if network == "unix" {
		addr = fm.unixPath
	}
	return supervisortest.Start(supervisortest.Load{
		Network: network, Address: addr, WantBody: "Hello, World!",
		KeepAlive: keepAlive, PerRequest: perRequest,
	})
}

// loads runs keep-alive and per-request clients over TCP and over the unix socket.
type loads []*supervisortest.Run

func (fm *fakeMaster) startLoads() loads {
	return loads{fm.load("tcp", 2, 2), fm.load("unix", 1, 1)}
}

func (ls loads) waitFlowing(t *testing.T) {
	t.Helper()
	for _, l := range ls {
		if !l.WaitFor(20, 10*time.Second) {
			t.Fatalf("load is not flowing: %v", l.Snapshot())
		}
	}
}

func (ls loads) stopAndCheck(t *testing.T) {
	t.Helper()
	for i, l := range ls {
		r := l.Stop()
		t.Logf("load %d: %v", i, r)
		if r.Failed != 0 || r.Resets != 0 {
			t.Errorf("load %d: %d failed requests, %d resets:\n%v", i, r.Failed, r.Resets, r)
		}
		if r.OK == 0 {
			t.Errorf("load %d answered nothing", i)
		}
	}
}

func (fm *fakeMaster) stop() {
	fm.t.Helper()
	fm.noneKilled()
	fm.signal(syscall.SIGTERM)
	code, err := fm.proc.Wait(20 * time.Second)
	if err != nil && code != 0 {
		fm.t.Fatalf("master stop: code %d, %v\n%s", code, err, fm.proc.Stderr())
	}
	if _, err := os.Stat(fm.pidPath); !os.IsNotExist(err) {
		fm.t.Errorf("pidfile left after stop: %v", err)
	}
}

func TestMasterHUPReloadsUnderLoadWithoutFailures(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	before := childPids(fm.proc.Pid())
	ls := fm.startLoads()
	ls.waitFlowing(t)
	for i := 2; i <= 4; i++ {
		fm.signal(syscall.SIGHUP)
		fm.waitReady(i, 20*time.Second)
		ls.waitFlowing(t)
	}
	ls.stopAndCheck(t)
	testutil.Eventually(t, 20*time.Second, func() bool {
		now := childPids(fm.proc.Pid())
		return len(now) == 2 && !slices.Contains(now, before[0]) && !slices.Contains(now, before[1])
	}, "workers were not replaced: before %v, now %v", before, childPids(fm.proc.Pid()))
	fm.stop()
}

func TestMasterHUPAppliesTheNewConfiguration(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	cfg := fm.cfg
	cfg.Workers = 3
	fm.writeConfig(cfg)
	fm.signal(syscall.SIGHUP)
	fm.waitReady(2, 20*time.Second)
	testutil.Eventually(t, 20*time.Second, func() bool { return len(childPids(fm.proc.Pid())) == 3 },
		"want 3 workers after reload, have %v", childPids(fm.proc.Pid()))
	fm.stop()
}

func TestMasterHUPWithABrokenConfigurationKeepsServing(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	before := childPids(fm.proc.Pid())
	if err := os.WriteFile(fm.cfgPath, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	fm.signal(syscall.SIGHUP)
	testutil.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(fm.proc.Stderr(), "HUP ignored")
	}, "broken configuration not reported")
	if now := childPids(fm.proc.Pid()); !slices.Equal(now, before) {
		t.Fatalf("workers changed on a rejected reload: %v -> %v", before, now)
	}
	fm.stop()
}

func TestMasterReloadWhoseWorkersCannotBootKeepsTheOldOnes(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	before := childPids(fm.proc.Pid())
	cfg := fm.cfg
	cfg.Env = []string{envBootFail + "=1"}
	fm.writeConfig(cfg)
	ls := loads{fm.load("tcp", 1, 1)}
	ls.waitFlowing(t)
	fm.signal(syscall.SIGHUP)
	testutil.Eventually(t, 10*time.Second, func() bool {
		return strings.Count(fm.proc.Stderr(), "failed to boot") >= 2
	}, "boot failures of the new generation not reported")
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	if fm.proc.Exited() {
		t.Fatal("master halted although its old workers serve")
	}
	now := childPids(fm.proc.Pid())
	for _, pid := range before {
		if !slices.Contains(now, pid) {
			t.Fatalf("old worker %d was retired although its successors never served (now %v)", pid, now)
		}
	}
	cfg.Env = nil
	fm.writeConfig(cfg)
	fm.signal(syscall.SIGHUP)
	fm.waitReady(2, 30*time.Second)
	fm.stop()
}

func TestMasterHaltsWhenWorkersCannotBoot(t *testing.T) {
	fm := startFakeMaster(t, nil, envBootFail+"=1")
	code, err := fm.proc.Wait(20 * time.Second)
	if code != ExitBootFailed {
		t.Fatalf("master exit code %d (%v), want %d\n%s", code, err, ExitBootFailed, fm.proc.Stderr())
	}
	if !strings.Contains(fm.proc.Stderr(), "worker failed to boot and no worker is serving") {
		t.Fatalf("no clear message:\n%s", fm.proc.Stderr())
	}
	if n := strings.Count(fm.proc.Stderr(), "booting worker"); n > 2 {
		t.Fatalf("%d workers started: a respawn loop", n)
	}
}

func TestMasterReplacesAKilledWorkerWithinASecond(t *testing.T) {
	fm := startFakeMaster(t, func(c *config.Config) { c.Workers = 3 })
	fm.waitReady(1, 20*time.Second)
	pids := childPids(fm.proc.Pid())
	if len(pids) != 3 {
		t.Fatalf("workers %v, want 3", pids)
	}
	ls := loads{fm.load("tcp", 2, 2)}
	ls.waitFlowing(t)
	victim := pids[1]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	testutil.Eventually(t, 5*time.Second, func() bool {
		now := childPids(fm.proc.Pid())
		return len(now) == 3 && !slices.Contains(now, victim)
	}, "herd not whole after a SIGKILL: %v", childPids(fm.proc.Pid()))
	fm.waitReadyWorkers(3, killed)
	if took := time.Since(killed); took > time.Second {
		t.Errorf("herd whole again after %v, want within a second", took)
	}
	ls.waitFlowing(t)
	r := ls[0].Stop()
	t.Logf("load across the kill: %v", r)
	// Only requests in flight on the killed worker may fail: a handful at most.
	if r.Failed > 4 {
		t.Errorf("%d requests failed across one worker's kill:\n%v", r.Failed, r)
	}
	fm.stop()
}

// waitReadyWorkers waits until a "worker serving" line appears after since... by
// polling the set of children that answer; a fresh worker reports ready in
// milliseconds, so this is a check that the replacement actually serves.
func (fm *fakeMaster) waitReadyWorkers(n int, since time.Time) {
	fm.t.Helper()
	seen := map[string]bool{}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	testutil.Eventually(fm.t, 10*time.Second, func() bool {
		resp, err := client.Get("http://" + fm.tcpAddr + "/")
		if err == nil {
			seen[resp.Header.Get("X-Worker-Pid")] = true
			resp.Body.Close()
		}
		return len(seen) >= n
	}, "fewer than %d workers answer", n)
}

func TestMasterAbortsAWorkerWhosePoolIsStuck(t *testing.T) {
	fm := startFakeMaster(t, func(c *config.Config) {
		c.Workers = 2
		c.Threads = 4
		c.Timeout = time.Second
		c.GracefulTimeout = 2 * time.Second
	})
	fm.waitReady(1, 20*time.Second)
	// Send /hang requests until one worker holds four of them: its pool is stuck.
	perPid := map[string]int{}
	var stuckPid string
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 64 && stuckPid == ""; i++ {
		c, pid := startHang(t, fm.tcpAddr, 20000)
		conns = append(conns, c)
		if perPid[pid]++; perPid[pid] == 4 {
			stuckPid = pid
		}
	}
	if stuckPid == "" {
		t.Fatalf("no worker took four hangs: %v", perPid)
	}
	stuck, _ := strconv.Atoi(stuckPid)
	sick := time.Now()
	testutil.Eventually(t, 10*time.Second, func() bool { return !slices.Contains(childPids(fm.proc.Pid()), stuck) },
		"stuck worker %d was not aborted", stuck)
	// Handlers go past --timeout (1s) and then the worker is silent for --timeout (1s):
	// abort after about 2s, kill bound included at most AbortGrace more.
	if took := time.Since(sick); took > 2*time.Second+AbortGrace+time.Second {
		t.Errorf("stuck worker removed after %v", took)
	}
	if !strings.Contains(fm.proc.Stderr(), "WORKER TIMEOUT (pid:"+stuckPid+")") {
		t.Errorf("no WORKER TIMEOUT line for %s", stuckPid)
	}
	if !strings.Contains(fm.proc.Stderr(), "fake worker "+stuckPid+" aborted; stacks:") {
		t.Errorf("aborted worker did not log its stacks")
	}
	fm.waitReadyWorkers(2, sick)
	fm.signal(syscall.SIGINT)
	if _, err := fm.proc.Wait(20 * time.Second); err != nil && !fm.proc.Exited() {
		t.Fatal(err)
	}
}

// startHang sends GET /hang?ms=N on a new connection and returns it with the pid of
// the worker that took it (the fake flushes its headers before hanging).
func startHang(t *testing.T, addr string, ms int) (net.Conn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET /hang?ms=" + strconv.Itoa(ms) + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var head string
	for !strings.Contains(head, "\r\n\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("hang head: %v (%q)", err, head)
		}
		head += string(buf[:n])
	}
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "X-Worker-Pid: "); ok {
			return c, v
		}
	}
	t.Fatalf("no worker pid in %q", head)
	return nil, ""
}

func TestMasterMaxRequestsRecyclesUnderLoadWithoutFailures(t *testing.T) {
	fm := startFakeMaster(t, func(c *config.Config) {
		c.MaxRequests = 300
		c.MaxRequestsJitter = 50
	})
	fm.waitReady(1, 20*time.Second)
	ls := fm.startLoads()
	testutil.Eventually(t, 60*time.Second, func() bool {
		return strings.Count(fm.proc.Stderr(), "reached --max-requests") >= 6
	}, "workers were not recycled")
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	fm.stop()
}

func TestMasterTTINAndTTOUUnderLoadWithoutFailures(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	ls := fm.startLoads()
	ls.waitFlowing(t)
	count := func(n int) {
		testutil.Eventually(t, 20*time.Second, func() bool { return len(childPids(fm.proc.Pid())) == n },
			"want %d workers, have %v", n, childPids(fm.proc.Pid()))
	}
	fm.signal(syscall.SIGTTIN)
	count(3)
	ls.waitFlowing(t)
	fm.signal(syscall.SIGTTOU)
	count(2)
	fm.signal(syscall.SIGTTOU)
	count(1)
	fm.signal(syscall.SIGTTOU) // never below one
	ls.waitFlowing(t)
	count(1)
	fm.signal(syscall.SIGTTIN)
	count(2)
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	fm.stop()
}

func TestMasterUSR2UpgradeThenWINCHAndTERMWithoutFailures(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	oldMaster := fm.proc.Pid()
	oldWorkers := childPids(oldMaster)
	ls := fm.startLoads()
	ls.waitFlowing(t)

	fm.signal(syscall.SIGUSR2)
	var newMaster int
	testutil.Eventually(t, 20*time.Second, func() bool {
		pid, err := readPid(fm.pidPath)
		if err != nil || pid == oldMaster {
			return false
		}
		newMaster = pid
		return len(childPids(newMaster)) == 2
	}, "new master did not take %s and start its workers", fm.pidPath)
	if pid, err := readPid(fm.pidPath + ".oldbin"); err != nil || pid != oldMaster {
		t.Fatalf("%s.oldbin holds %d (%v), want the old master %d", fm.pidPath, pid, err, oldMaster)
	}
	t.Cleanup(func() { syscall.Kill(newMaster, syscall.SIGKILL) })
	testutil.Eventually(t, 20*time.Second, func() bool {
		return strings.Count(fm.proc.Stderr(), `"message":"workers ready"`) >= 2
	}, "new master's workers never reported ready")
	ls.waitFlowing(t)

	fm.signal(syscall.SIGWINCH)
	testutil.Eventually(t, 20*time.Second, func() bool { return len(childPids(oldMaster)) == 1 },
		"old workers still running after WINCH: %v", childPids(oldMaster))
	ls.waitFlowing(t)
	fm.signal(syscall.SIGTERM)
	testutil.Eventually(t, 20*time.Second, func() bool { return !processAlive(oldMaster) || isZombie(oldMaster) },
		"old master did not exit on TERM")
	testutil.Eventually(t, 10*time.Second, func() bool {
		pid, err := readPid(fm.pidPath)
		return err == nil && pid == newMaster
	}, "pidfile does not name the new master")
	if _, err := os.Stat(fm.pidPath + ".oldbin"); !os.IsNotExist(err) {
		t.Errorf("%s.oldbin still there after the old master left", fm.pidPath)
	}
	if _, err := os.Stat(fm.unixPath); err != nil {
		t.Errorf("the old master removed the unix socket the new one serves: %v", err)
	}
	ls.waitFlowing(t)
	ls.stopAndCheck(t)
	for _, pid := range oldWorkers {
		if processAlive(pid) && !isZombie(pid) {
			t.Errorf("old worker %d survived", pid)
		}
	}
	syscall.Kill(newMaster, syscall.SIGTERM)
	testutil.Eventually(t, 20*time.Second, func() bool { return !processAlive(newMaster) || isZombie(newMaster) },
		"new master did not stop")
}

func TestMasterGracefulStopFinishesInFlightRequests(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + fm.tcpAddr + "/sleep?ms=1500")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = &net.AddrError{Err: resp.Status}
			}
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the request reach a worker
	fm.signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("in-flight request failed during graceful stop: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("in-flight request never answered")
	}
	if code, err := fm.proc.Wait(15 * time.Second); code != 0 {
		t.Fatalf("master exit %d, %v", code, err)
	}
	if _, err := os.Stat(fm.unixPath); !os.IsNotExist(err) {
		t.Errorf("unix socket left after stop: %v", err)
	}
	if _, err := os.Stat(fm.pidPath); !os.IsNotExist(err) {
		t.Errorf("pidfile left after stop: %v", err)
	}
}

func TestMasterUSR1ReopensLogsEverywhere(t *testing.T) {
	fm := startFakeMaster(t, nil)
	fm.waitReady(1, 20*time.Second)
	fm.signal(syscall.SIGUSR1)
	testutil.Eventually(t, 10*time.Second, func() bool {
		s := fm.proc.Stderr()
		return strings.Contains(s, "master reopened its logs") && strings.Count(s, "reopened its logs\n") >= 2
	}, "USR1 did not reach master and workers")
	fm.stop()
}

func TestMasterNotifiesSystemdOnceWorkersServe(t *testing.T) {
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
	fm := startFakeMaster(t, nil, "NOTIFY_SOCKET="+sock)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 256)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(buf[:n]), "READY=1") {
		t.Fatalf("first notification %q", buf[:n])
	}
	// The master logs "workers ready" before it notifies; its stderr reaches the
	// test through a pipe, so poll for it.
	fm.waitReady(1, 5*time.Second)
	fm.signal(syscall.SIGTERM)
	n, _, err = conn.ReadFromUnix(buf)
	if err != nil || string(buf[:n]) != "STOPPING=1" {
		t.Fatalf("stop notification %q, %v", buf[:n], err)
	}
	fm.proc.Wait(20 * time.Second)
}
