package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// ctl runs `gonicorn ctl -s sock args...` and returns its stdout, stderr and exit code.
func ctl(t testing.TB, sock string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t), append([]string{"ctl", "-s", sock}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), errb.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("ctl %v: %v", args, err)
		}
		return out.String(), errb.String(), 0
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("ctl %v did not return", args)
	}
	return "", "", -1
}

// ctlJSON runs a command with --json and decodes its answer into v.
func ctlJSON(t testing.TB, sock string, v any, args ...string) {
	t.Helper()
	out, errOut, code := ctl(t, sock, append([]string{"--json"}, args...)...)
	if code != 0 {
		t.Fatalf("ctl %v: exit %d: %s", args, code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("ctl %v: %v in %q", args, err, out)
	}
}

type ctlWorker struct {
	PID      int     `json:"pid"`
	State    string  `json:"state"`
	Ready    bool    `json:"ready"`
	Age      float64 `json:"age_seconds"`
	Served   uint64  `json:"requests_served"`
	InFlight int64   `json:"in_flight"`
	RSS      int64   `json:"rss_bytes"`
	LastBeat float64 `json:"last_heartbeat_seconds_ago"`
}

func ctlWorkers(t testing.TB, sock string) []ctlWorker {
	var ws []ctlWorker
	ctlJSON(t, sock, &ws, "show", "workers")
	return ws
}

// TestControlSocketEveryCommand drives a running master with -w 2 through every
// `gonicorn ctl` command, human and JSON.
func TestControlSocketEveryCommand(t *testing.T) {
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "g.ctl")
	h := startHerd(t, nil, "-w", "2", "-t", "10", "--control-socket", sock)
	h.waitReady(1, 30*time.Second)

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket mode %v, want a socket with 0600", fi.Mode())
	}

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/", "/", "/", "/panic"} {
		resp, err := c.Get("http://" + h.tcp + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// show stats
	var st struct {
		MasterPID     int               `json:"master_pid"`
		WorkersTarget int               `json:"workers_target"`
		WorkersAlive  int               `json:"workers_alive"`
		Requests      uint64            `json:"requests"`
		ByClass       map[string]uint64 `json:"requests_by_status_class"`
		Restarts      map[string]uint64 `json:"worker_restarts"`
	}
	testutil.Eventually(t, 15*time.Second, func() bool {
		ctlJSON(t, sock, &st, "show", "stats")
		return st.Requests == 4
	}, "show stats: %d requests, want 4", st.Requests)
	if st.MasterPID != h.p.Pid() || st.WorkersTarget != 2 || st.WorkersAlive != 2 || st.ByClass["5xx"] != 1 || st.ByClass["2xx"] != 3 {
		t.Fatalf("show stats = %+v", st)
	}
	out, _, code := ctl(t, sock, "show", "stats")
	if code != 0 || !strings.Contains(out, "requests") || !strings.Contains(out, "2xx 3, 5xx 1") {
		t.Fatalf("show stats (human), exit %d:\n%s", code, out)
	}

	// show workers: every row has what the issue asks for.
	testutil.Eventually(t, 15*time.Second, func() bool {
		var served uint64
		for _, w := range ctlWorkers(t, sock) {
			served += w.Served
		}
		return served == 4
	}, "workers' requests served add up to 4")
	ws := ctlWorkers(t, sock)
	pids := h.workers()
	if len(ws) != 2 {
		t.Fatalf("show workers: %+v", ws)
	}
	for _, w := range ws {
		if !slices.Contains(pids, w.PID) || w.State != "running" || !w.Ready || w.RSS <= 0 || w.LastBeat < 0 || w.LastBeat > 5 || w.Age <= 0 {
			t.Fatalf("show workers row %+v (worker pids %v)", w, pids)
		}
	}
	out, _, code = ctl(t, sock, "show", "workers")
	if code != 0 || !strings.Contains(out, "PID") || !strings.Contains(out, "LAST BEAT") || !strings.Contains(out, "2 workers") {
		t.Fatalf("show workers (human), exit %d:\n%s", code, out)
	}

	// show config, show listeners
	var cfg struct {
		Workers       int
		ControlSocket string
	}
	ctlJSON(t, sock, &cfg, "show", "config")
	if cfg.Workers != 2 || cfg.ControlSocket != sock {
		t.Fatalf("show config = %+v", cfg)
	}
	if out, _, code = ctl(t, sock, "show", "config"); code != 0 || !strings.Contains(out, "workers") || !strings.Contains(out, "= 2") {
		t.Fatalf("show config (human), exit %d:\n%s", code, out)
	}
	var ls []struct {
		Bind     string `json:"bind"`
		Protocol string `json:"protocol"`
		Queue    int64  `json:"accept_queue"`
	}
	ctlJSON(t, sock, &ls, "show", "listeners")
	if len(ls) != 2 || ls[0].Bind != h.tcp || ls[0].Queue < 0 || ls[1].Bind != "unix:"+h.unixPath || ls[1].Queue < 0 {
		t.Fatalf("show listeners = %+v", ls)
	}
	if out, _, code = ctl(t, sock, "show", "listeners"); code != 0 || !strings.Contains(out, h.tcp) {
		t.Fatalf("show listeners (human), exit %d:\n%s", code, out)
	}

	// worker add / remove
	if out, _, code = ctl(t, sock, "worker", "add", "2"); code != 0 || !strings.Contains(out, "4 workers") {
		t.Fatalf("worker add 2, exit %d: %s", code, out)
	}
	h.waitWorkers(4, 20*time.Second)
	if out, _, code = ctl(t, sock, "worker", "remove", "3"); code != 0 || !strings.Contains(out, "1 workers") {
		t.Fatalf("worker remove 3, exit %d: %s", code, out)
	}
	h.waitWorkers(1, 40*time.Second)
	if _, errOut, code := ctl(t, sock, "worker", "remove"); code != 1 || !strings.Contains(errOut, "at least one worker") {
		t.Fatalf("removing the last worker: exit %d: %s", code, errOut)
	}
	if _, _, code = ctl(t, sock, "worker", "add"); code != 0 {
		t.Fatal("worker add failed")
	}
	h.waitWorkers(2, 20*time.Second)
	testutil.Eventually(t, 15*time.Second, func() bool {
		ws := ctlWorkers(t, sock)
		return len(ws) == 2 && ws[0].Ready && ws[1].Ready
	}, "two workers serving after add")

	// worker kill: the worker drains and is replaced; the restart is counted.
	victim := h.workers()[0]
	if out, _, code = ctl(t, sock, "worker", "kill", strconv.Itoa(victim)); code != 0 || !strings.Contains(out, "stop") {
		t.Fatalf("worker kill, exit %d: %s", code, out)
	}
	testutil.Eventually(t, 20*time.Second, func() bool {
		ws := h.workers()
		return len(ws) == 2 && !slices.Contains(ws, victim)
	}, "killed worker replaced")
	testutil.Eventually(t, 10*time.Second, func() bool {
		ctlJSON(t, sock, &st, "show", "stats")
		return st.Restarts["control"] == 1
	}, "one control restart, have %v", st.Restarts)
	if _, errOut, code := ctl(t, sock, "worker", "kill", "1"); code != 1 || !strings.Contains(errOut, "no such worker") {
		t.Fatalf("kill of a pid that is no worker: exit %d: %s", code, errOut)
	}

	// reopen, reload
	if out, _, code = ctl(t, sock, "reopen"); code != 0 || !strings.Contains(out, "reopened") {
		t.Fatalf("reopen, exit %d: %s", code, out)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return h.count("log files reopened") >= 1 }, "reopen logged")
	ready := h.readyCount()
	if out, _, code = ctl(t, sock, "reload"); code != 0 || !strings.Contains(out, "reloading") {
		t.Fatalf("reload, exit %d: %s", code, out)
	}
	h.waitReady(ready+1, 30*time.Second)

	// Bad input gets a clear answer.
	for _, bad := range [][]string{{"show"}, {"show", "nothing"}, {"frobnicate"}, {"worker", "add", "x"}, {"shutdown", "--now"}} {
		if _, errOut, code := ctl(t, sock, bad...); code != 1 || errOut == "" {
			t.Fatalf("ctl %v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	if _, _, code := ctl(t, sock); code != 2 {
		t.Fatalf("ctl without a command: exit %d, want 2", code)
	}
	if _, errOut, code := ctl(t, filepath.Join(dir, "none.ctl"), "show", "stats"); code != 1 || !strings.Contains(errOut, "--control-socket") {
		t.Fatalf("ctl to no socket: exit %d: %s", code, errOut)
	}

	// shutdown --graceful: the master stops cleanly and removes the socket.
	if out, _, code = ctl(t, sock, "shutdown", "--graceful"); code != 0 || !strings.Contains(out, "graceful") {
		t.Fatalf("shutdown --graceful, exit %d: %s", code, out)
	}
	if code, err := h.p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("master exit %d after shutdown --graceful: %v", code, err)
	}
	if !strings.Contains(h.p.Stderr(), "TERM: graceful stop") {
		t.Fatal("shutdown --graceful did not stop gracefully")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("control socket left after stop: %v", err)
	}
}

// TestControlShutdownNow: plain `shutdown` stops the master at once (as QUIT).
func TestControlShutdownNow(t *testing.T) {
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "g.ctl")
	h := startHerd(t, nil, "-w", "1", "--control-socket", sock)
	h.waitReady(1, 30*time.Second)
	// A second master may not take a live control socket.
	other := testutil.Start(t, testutil.Binary(t), "-b", testutil.FreeAddr(t), "--control-socket", sock)
	if code, _ := other.Wait(30 * time.Second); code == 0 || !strings.Contains(other.Stderr(), "another process answers") {
		t.Fatalf("second master on a live control socket: exit %d: %s", code, other.Stderr())
	}
	if out, _, code := ctl(t, sock, "shutdown"); code != 0 || !strings.Contains(out, "now") {
		t.Fatalf("shutdown, exit %d: %s", code, out)
	}
	if code, err := h.p.Wait(30 * time.Second); code != 0 {
		t.Fatalf("master exit %d: %v", code, err)
	}
	if !strings.Contains(h.p.Stderr(), "fast stop") {
		t.Fatal("shutdown did not stop fast")
	}
}

// TestOpsSurviveUSR2Upgrade: a master started by USR2 takes the control socket
// over at once and serves /metrics as soon as the old master lets the port go.
func TestOpsSurviveUSR2Upgrade(t *testing.T) {
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "g.ctl")
	maddr := testutil.FreeAddr(t)
	h := startHerd(t, nil, "-w", "1", "--control-socket", sock, "--metrics-bind", maddr)
	h.waitReady(1, 30*time.Second)
	oldMaster := h.p.Pid()
	scrape(t, maddr)

	h.signal(syscall.SIGUSR2)
	var newMaster int
	testutil.Eventually(t, 30*time.Second, func() bool {
		newMaster = svReadPidFile(h.pidPath)
		return newMaster > 0 && newMaster != oldMaster && len(svChildPids(newMaster)) == 1 && h.readyCount() >= 2
	}, "the new master did not start serving")
	t.Cleanup(func() {
		if svAlive(newMaster) {
			syscall.Kill(newMaster, syscall.SIGKILL)
		}
	})
	var st struct {
		MasterPID int `json:"master_pid"`
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		ctlJSON(t, sock, &st, "show", "stats")
		return st.MasterPID == newMaster
	}, "the control socket does not reach the new master (answers %d)", st.MasterPID)
	if strings.Contains(h.p.Stderr(), "another process answers") {
		t.Fatal("the new master refused the old master's control socket")
	}

	h.signal(syscall.SIGTERM)
	testutil.Eventually(t, 30*time.Second, func() bool { return !svAlive(oldMaster) }, "the old master did not exit on TERM")
	// The old master's exit left the new master's socket file alone.
	ctlJSON(t, sock, &st, "show", "stats")
	if st.MasterPID != newMaster {
		t.Fatalf("control socket answers master %d, want %d", st.MasterPID, newMaster)
	}
	if !strings.Contains(h.p.Stderr(), "held by the old master") {
		t.Fatal("the new master did not wait for the old master's --metrics-bind port")
	}
	testutil.Eventually(t, 15*time.Second, func() bool {
		return strings.Count(h.p.Stderr(), "serving Prometheus metrics") >= 2
	}, "the new master does not serve /metrics after the old one exited")
	scrape(t, maddr)
	syscall.Kill(newMaster, syscall.SIGTERM)
	testutil.Eventually(t, 30*time.Second, func() bool { return !svAlive(newMaster) }, "new master did not stop")
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("control socket left after the promoted master stopped: %v", err)
	}
}
