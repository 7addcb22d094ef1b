package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gonicorn/gonicorn/bench/internal/tools"
)

// The load generator runs in a child process, so that the server's CPU time is the
// benchmark process's own (getrusage(RUSAGE_SELF)) and the generator's cannot hide in
// it. The child is this very test binary, re-executed with GONICORN_BENCH_ROLE set:
// the package's init function sees the variable, runs the generator and exits before
// the testing framework starts. The two talk over the child's stdin and stdout in
// JSON lines:
//
//	parent → {…spec…}                  what to run
//	child  → {"ready":true}            connections open, warm-up done
//	parent → go                        the measured load starts
//	child  → {"result":{…}}            the measured load is over
//	parent closes stdin                the child closes its connections and exits
//
// Any failure is sent as {"error":"…"} and ends the child.

const (
	envRole = "GONICORN_BENCH_ROLE"
	// envGenProfile, when set, names a file for the generator's CPU profile of the
	// measured load.
	envGenProfile = "GONICORN_BENCH_GEN_PROFILE"
)

func init() {
	switch os.Getenv(envRole) {
	case "load":
		os.Exit(loadMain(os.Stdin, os.Stdout))
	case "serve":
		os.Exit(serveMain(os.Stdin, os.Stdout))
	}
}

// loadResult is what the generator process reports of its measured phase.
type loadResult struct {
	Requests   int64         `json:"requests"`
	Elapsed    time.Duration `json:"elapsed"`
	Hist       histWire      `json:"hist"`
	CPU        time.Duration `json:"cpu"` // the generator's own CPU time in the phase
	Connects   int64         `json:"connects"`
	Reconnects int64         `json:"reconnects"`
	BytesIn    int64         `json:"bytes_in"`
}

// childMsg is one line from the generator process.
type childMsg struct {
	Ready  bool        `json:"ready,omitempty"`
	Addr   string      `json:"addr,omitempty"` // serve role: where it listens
	Result *loadResult `json:"result,omitempty"`
	Error  string      `json:"error,omitempty"`
}

func send(w io.Writer, m childMsg) {
	b, _ := json.Marshal(m)
	w.Write(append(b, '\n'))
}

// loadMain is the generator process.
func loadMain(stdin io.Reader, stdout io.Writer) int {
	fail := func(err error) int {
		send(stdout, childMsg{Error: err.Error()})
		return 1
	}
	in := bufio.NewReader(stdin)
	var spec loadSpec
	if err := readSpec(in, &spec); err != nil {
		return fail(err)
	}
	runtime.GOMAXPROCS(spec.Threads)
	if spec.CPU >= 0 {
		if err := pinToCPU(spec.CPU); err != nil {
			return fail(err)
		}
	}
	g, err := newGenerator(&spec)
	if err != nil {
		return fail(err)
	}
	defer g.close()
	if err := g.establish(20 * time.Second); err != nil {
		return fail(fmt.Errorf("opening connections to %s: %w", spec.Addr, err))
	}
	if spec.Warmup > 0 {
		if _, _, err := g.phase(spec.Warmup, 0); err != nil {
			return fail(fmt.Errorf("warm-up: %w", err))
		}
	}
	send(stdout, childMsg{Ready: true})
	line, err := in.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "go" {
		return fail(fmt.Errorf("waiting for go: %q %v", line, err))
	}
	if path := os.Getenv(envGenProfile); path != "" {
		// A CPU profile of the generator itself, for work on the generator.
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
	}
	cpu0 := processCPU()
	c0, r0, b0 := g.counters()
	res, hist, err := g.phase(spec.Duration, spec.Requests)
	res.CPU = processCPU() - cpu0
	if err != nil {
		return fail(err)
	}
	c1, r1, b1 := g.counters()
	res.Connects, res.Reconnects, res.BytesIn = c1-c0, r1-r0, b1-b0
	res.Hist = hist.wire()
	send(stdout, childMsg{Result: &res})
	// Keep the connections until the parent has read its CPU clock.
	io.Copy(io.Discard, in)
	return 0
}

// readSpec reads the child's spec, the first line of its stdin.
func readSpec(in *bufio.Reader, spec any) error {
	line, err := in.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	if err := json.Unmarshal(line, spec); err != nil {
		return fmt.Errorf("decoding the spec: %w", err)
	}
	return nil
}

// child is a running helper process (generator or server) seen from the parent.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan childMsg
	stderr tools.TailBuffer // the last 8 KiB
	done   chan struct{}
	werr   error
}

// startChild re-executes this binary in role and sends it spec, as a JSON line on
// its stdin.
func startChild(role string, spec any) (*child, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("bench: encoding the %s spec: %w", role, err)
	}
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	c := &child{lines: make(chan childMsg, 4), done: make(chan struct{})}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), envRole+"="+role)
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting the %s process: %w", role, err)
	}
	go func() {
		// The pipe holds 64 KiB; a larger spec is written while the child reads it.
		if _, err := c.stdin.Write(append(js, '\n')); err != nil {
			c.stdin.Close()
		}
	}()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var m childMsg
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = childMsg{Error: fmt.Sprintf("unreadable line from the %s process: %q", role, clip(sc.Bytes()))}
			}
			c.lines <- m
		}
		close(c.lines)
	}()
	go func() {
		c.werr = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// next waits up to timeout for the child's next message.
func (c *child) next(timeout time.Duration) (childMsg, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m, ok := <-c.lines:
		if !ok {
			<-c.done
			return m, fmt.Errorf("bench: helper process exited (%v): %s", c.werr, c.stderr.String())
		}
		if m.Error != "" {
			return m, errors.New("bench: " + m.Error)
		}
		return m, nil
	case <-t.C:
		return childMsg{}, fmt.Errorf("bench: no word from the helper process in %v: %s", timeout, c.stderr.String())
	}
}

// stop closes the child's stdin and waits for it to exit, killing it after timeout.
func (c *child) stop(timeout time.Duration) {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.cmd.Process.Kill()
		<-c.done
	}
}
