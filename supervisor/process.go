package supervisor

import (
	"fmt"
	"os"
	"syscall"
)

// Process is a started child as the master sees it: something with a pid that takes
// signals. Its messages and its exit reach the master as events.
type Process interface {
	Pid() int
	Signal(sig syscall.Signal) error
}

// processes is the operating system as the herd's decisions need it; a fake stands in
// for it in tests.
type processes interface {
	// launch starts a worker. Its heartbeat messages and exit are delivered later.
	launch(spec workerSpec) (Process, error)
	// rss is the resident set size of a running process, in bytes.
	rss(pid int) (int64, error)
}

// exitStatus says how a child ended.
type exitStatus struct {
	code   int            // exit code, or -1 when killed by a signal
	signal syscall.Signal // the signal that ended it, or 0
}

// exitStatusOf converts what os.Process.Wait returned.
func exitStatusOf(st *os.ProcessState) exitStatus {
	if st == nil {
		return exitStatus{code: -1}
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return exitStatus{code: -1, signal: ws.Signal()}
	}
	return exitStatus{code: st.ExitCode()}
}

// String is how logs show an exit.
func (e exitStatus) String() string {
	if e.signal != 0 {
		return fmt.Sprintf("killed by signal %d (%s)", int(e.signal), e.signal)
	}
	return fmt.Sprintf("exit code %d", e.code)
}

// osProcess is a Process started with os/exec.
type osProcess struct{ p *os.Process }

func (o osProcess) Pid() int { return o.p.Pid }

func (o osProcess) Signal(sig syscall.Signal) error {
	if err := o.p.Signal(sig); err != nil {
		return fmt.Errorf("signal %s to pid %d: %w", sig, o.p.Pid, err)
	}
	return nil
}
