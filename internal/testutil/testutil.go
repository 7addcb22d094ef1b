// Package testutil starts real gonicorn processes for end-to-end tests and waits on them
// with deadlines, never with bare sleeps. It is imported only by tests.
package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireTool returns the path of an external program the test needs. When it is
// missing the test fails if GONICORN_REQUIRE_TOOLS=1 (as `make test` and CI set it)
// and is skipped otherwise.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", filepath.Join(ModuleRoot(t), "bin")} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("GONICORN_REQUIRE_TOOLS") == "1" {
		t.Fatalf("required tool %q not found (make test installs it)", name)
	}
	t.Skipf("tool %q not installed; `make test` installs it", name)
	return ""
}

var (
	rootOnce sync.Once
	rootDir  string
)

// ModuleRoot returns the directory holding the module's go.mod.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err == nil {
			rootDir = filepath.Dir(strings.TrimSpace(string(out)))
		}
	})
	if rootDir == "" || rootDir == "." {
		t.Fatal("cannot locate the module root (go env GOMOD)")
	}
	return rootDir
}

var (
	buildMu   sync.Mutex
	buildDir  string
	buildBins = map[string]string{}
)

// Binary builds ./cmd/gonicorn once per test process and returns its path.
func Binary(t testing.TB) string { return BuildPackage(t, "./cmd/gonicorn") }

// BuildPackage builds a main package of this module (a path relative to the module
// root, such as "./cmd/gonicorn") once per test process and returns the binary's path.
func BuildPackage(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildBins[pkg]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "gonicorn-bin-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_"))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ModuleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	buildBins[pkg] = out
	return out
}

// FreeAddr returns a 127.0.0.1:PORT address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Eventually polls cond every 10 ms until it holds or timeout passes, then fails with msg.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Proc is a started child process with its output captured.
type Proc struct {
	Cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error
}

// Stdout returns everything the process wrote to stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns everything the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Pid returns the process id.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.Cmd.Process.Signal(sig) }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to exit and returns its exit error.
func (p *Proc) Wait(timeout time.Duration) (exitCode int, err error) {
	select {
	case <-p.done:
		return p.Cmd.ProcessState.ExitCode(), p.err
	case <-time.After(timeout):
		return -1, fmt.Errorf("process %d still running after %v", p.Pid(), timeout)
	}
}

// Options tune Start.
type Options struct {
	Env  []string // extra KEY=VALUE pairs
	Dir  string
	Cred *syscall.Credential // run as this user and group; nil: the test's own
}

// Start runs bin with args, capturing its output, and kills it (and reports its
// output on failure) when the test ends.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	return StartWith(t, Options{}, bin, args...)
}

// StartWith is Start with extra environment and working directory.
func StartWith(t testing.TB, o Options, bin string, args ...string) *Proc {
	t.Helper()
	p := &Proc{done: make(chan struct{})}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Env = append(os.Environ(), o.Env...)
	p.Cmd.Dir = o.Dir
	p.Cmd.Stdout = &p.stdout
	p.Cmd.Stderr = &p.stderr
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.Cred}
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s", filepath.Base(bin), tail(p.Stdout(), 4000))
			t.Logf("%s stderr:\n%s", filepath.Base(bin), tail(p.Stderr(), 8000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// WaitDial waits until network/addr accepts a connection (or the process exits).
func WaitDial(t testing.TB, p *Proc, network, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p != nil && p.Exited() {
			t.Fatalf("process exited before %s %s answered: %v\nstderr:\n%s", network, addr, p.err, tail(p.Stderr(), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s did not answer within %v: %v", network, addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartServer starts the gonicorn demo binary bound to a fresh 127.0.0.1 port with the
// given extra args and waits until it accepts connections. It returns the process and
// the address.
func StartServer(t testing.TB, args ...string) (*Proc, string) {
	t.Helper()
	addr := FreeAddr(t)
	p := Start(t, Binary(t), append([]string{"-b", addr}, args...)...)
	WaitDial(t, p, "tcp", addr, 20*time.Second)
	return p, addr
}
