package binbench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SyscallCount is one row of strace -c's table.
type SyscallCount struct {
	Name   string `json:"name"`
	Calls  int64  `json:"calls"`
	Errors int64  `json:"errors"`
}

// parseStraceSummary reads the table strace -c writes: one row per system call,
// "% time  seconds  usecs/call  calls  [errors]  syscall", between dashed rules, then
// the total.
func parseStraceSummary(text string) ([]SyscallCount, error) {
	var out []SyscallCount
	sc := bufio.NewScanner(strings.NewReader(text))
	header := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) > 0 && f[0] == "%":
			header = true
			continue
		case !header || len(f) == 0 || strings.HasPrefix(f[0], "---"):
			continue
		case f[len(f)-1] == "total":
			return out, nil
		case len(f) != 5 && len(f) != 6:
			return nil, fmt.Errorf("strace -c: unexpected row %q", sc.Text())
		}
		row := SyscallCount{Name: f[len(f)-1]}
		var err error
		if row.Calls, err = strconv.ParseInt(f[3], 10, 64); err != nil {
			return nil, fmt.Errorf("strace -c: row %q: %w", sc.Text(), err)
		}
		if len(f) == 6 {
			row.Errors, _ = strconv.ParseInt(f[4], 10, 64)
		}
		out = append(out, row)
	}
	if !header {
		return nil, fmt.Errorf("strace -c wrote no table")
	}
	return out, nil
}

var tracerPid = regexp.MustCompile(`(?m)^TracerPid:\s+(\d+)`)

// allTraced reports whether every thread of pid has a tracer.
func allTraced(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		m := tracerPid.FindSubmatch(b)
		if m == nil || string(m[1]) == "0" {
			return false
		}
	}
	return true
}

// waitQuiet polls pid's CPU time until it stops moving for two samples 50 ms apart,
// for at most timeout: the work of earlier load has ended.
func waitQuiet(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	last, quiet := time.Duration(-1), 0
	for time.Now().Before(deadline) && quiet < 2 {
		st, err := readStat(pid)
		if err != nil {
			return
		}
		cpu := time.Duration(st.utime+st.stime) * time.Second / clockTicks
		if cpu == last {
			quiet++
		} else {
			quiet = 0
		}
		last = cpu
		time.Sleep(50 * time.Millisecond)
	}
}

// traceRequests attaches strace -c -f to pid (every thread), sends exactly n
// requests to url (h2load --h1, 32 connections), detaches, and returns strace's
// counts and its table as it wrote it.
func (c *Config) traceRequests(dir string, pid int, url string, n int) ([]SyscallCount, string, error) {
	outFile := filepath.Join(dir, fmt.Sprintf("strace-%d.txt", pid))
	args := []string{"-c", "-f", "-p", strconv.Itoa(pid), "-o", outFile}
	bin := c.Tools.Strace
	if c.LoadCPU >= 0 {
		args = append([]string{"-c", strconv.Itoa(c.LoadCPU), bin}, args...)
		bin = "taskset"
	}
	st, err := startProc("strace", -1, dir, bin, args...)
	if err != nil {
		return nil, "", err
	}
	defer st.stop(syscall.SIGKILL)
	deadline := time.Now().Add(15 * time.Second)
	for !allTraced(pid) {
		if st.exited() {
			return nil, "", fmt.Errorf("strace exited: %v: %s", st.err, st.out.String())
		}
		if time.Now().After(deadline) {
			return nil, "", fmt.Errorf("strace did not attach to every thread of %d within 15s: %s", pid, st.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h2args := []string{"--h1", "-t1", "-c32", "-n" + strconv.Itoa(n), url}
	hbin := c.Tools.H2load
	if c.LoadCPU >= 0 {
		h2args = append([]string{"-c", strconv.Itoa(c.LoadCPU), hbin}, h2args...)
		hbin = "taskset"
	}
	cmd := exec.CommandContext(ctx, hbin, h2args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("h2load under strace: %v\n%s", err, clip(string(out), 3000))
	}
	r, err := parseH2load(string(out), int64(len(WantBody)))
	if err != nil {
		return nil, "", fmt.Errorf("h2load under strace: %w\n%s", err, clip(string(out), 3000))
	}
	if r.requests != int64(n) {
		return nil, "", fmt.Errorf("h2load under strace: %d of %d requests succeeded", r.requests, n)
	}
	// The responses are in; let the worker finish what follows them (closing the
	// connections) before detaching.
	waitQuiet(pid, 3*time.Second)
	// SIGINT detaches strace, which then writes its table.
	_ = st.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-st.done:
	case <-time.After(30 * time.Second):
		return nil, "", fmt.Errorf("strace did not exit within 30s of SIGINT")
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		return nil, "", fmt.Errorf("strace output: %w (%s)", err, st.out.String())
	}
	counts, err := parseStraceSummary(string(b))
	return counts, string(b), err
}
