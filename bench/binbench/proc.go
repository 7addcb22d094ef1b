package binbench

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/bench/internal/tools"
)

// proc is a process the harness started, in a process group of its own (so that a
// server's workers can be killed with it if it does not stop).
type proc struct {
	name string
	cmd  *exec.Cmd
	out  tools.TailBuffer // the last 16 KiB of stdout and stderr
	done chan struct{}
	err  error
}

// startProc starts bin with args pinned to cpu (taskset -c cpu; cpu < 0: not
// pinned). taskset execs bin, so the PID is bin's.
func startProc(name string, cpu int, dir string, bin string, args ...string) (*proc, error) {
	if cpu >= 0 {
		args = append([]string{"-c", strconv.Itoa(cpu), bin}, args...)
		bin = "taskset"
	}
	p := &proc{name: name, done: make(chan struct{}), out: tools.TailBuffer{Max: 16 << 10}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	// Its own group (so that a server's workers can be killed with it), and killed
	// should the harness die without stopping it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process and waits up to 10 s, then kills its process group
// (the group the harness made for it, holding only it and its children).
func (p *proc) stop(sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	return fmt.Errorf("%s (pid %d) did not stop within 10s of %v: killed", p.name, p.pid(), sig)
}

// waitDial waits until network/addr accepts a connection, failing early if p exits.
func waitDial(p *proc, network, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before %s %s answered (%v): %s", p.name, network, addr, p.err, p.out.String())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s %s did not answer within %v: %v", p.name, network, addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freeAddr returns a 127.0.0.1:PORT address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// procStat is what the harness reads of /proc/PID/stat.
type procStat struct {
	ppid           int
	utime, stime   int64 // ticks, all threads
	cutime, cstime int64 // ticks, reaped children
	processor      int   // CPU it last ran on
	threads        int
}

func readStat(pid int) (procStat, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16,
	// cstime 17, num_threads 20, processor 39.
	if len(f) < 37 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	return procStat{
		ppid: int(n(1)), utime: n(11), stime: n(12), cutime: n(13), cstime: n(14),
		threads: int(n(17)), processor: int(n(36)),
	}, nil
}

// descendants returns the PIDs of every live process below root.
func descendants(root int) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, path := range paths {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // exited since the glob
		}
		children[st.ppid] = append(children[st.ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// treeCPU is the user+system CPU time of root and every live process below it,
// plus what root has collected from children it reaped (a worker that exited).
func treeCPU(root int) (time.Duration, error) {
	st, err := readStat(root)
	if err != nil {
		return 0, fmt.Errorf("cpu of pid %d: %w", root, err)
	}
	ticks := st.utime + st.stime + st.cutime + st.cstime
	for _, pid := range descendants(root) {
		if c, err := readStat(pid); err == nil {
			ticks += c.utime + c.stime
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuBusy returns the user, nice and system time each CPU has spent (/proc/stat),
// by CPU number: what every process on it ran, interrupts and steal left out.
func cpuBusy() (map[int]time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, err
	}
	out := map[int]time.Duration{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var ticks int64
		for _, v := range f[1:4] {
			t, _ := strconv.ParseInt(v, 10, 64)
			ticks += t
		}
		out[n] = time.Duration(ticks) * time.Second / clockTicks
	}
	return out, nil
}
