package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// readerDrainBound is how long the exit of a worker waits for its heartbeat reader to
// deliver the last records, so that "ready then crashed" is never seen as "crashed
// before ready". Only a grandchild holding the pipe open could make it wait that long.
const readerDrainBound = 200 * time.Millisecond

// execLauncher starts workers by re-executing the binary on disk with the listeners
// and a heartbeat pipe inherited.
type execLauncher struct {
	exe       string
	args      []string
	environ   []string
	listeners []*os.File
	desc      string
	cred      *syscall.Credential
	log       zerolog.Logger
	post      func(event)
}

func (l *execLauncher) launch(spec workerSpec) (Process, error) {
	env, err := workerEnviron(l.environ, spec, l.desc, len(l.listeners))
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("heartbeat pipe: %w", err)
	}
	files := append(append(make([]*os.File, 0, len(l.listeners)+1), l.listeners...), w)
	proc, err := startProcess(l.exe, l.args, env, "", files, &syscall.SysProcAttr{Credential: l.cred})
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start worker %s: %w", l.exe, err)
	}
	w.Close() // the worker holds the only write end: its exit ends the stream
	id := spec.ID
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		defer r.Close()
		err := readMessages(r, func(m Message) { l.post(event{kind: eventMessage, id: id, msg: m}) })
		if err != nil {
			l.log.Error().Err(err).Int("worker_pid", proc.Pid).Msg("worker heartbeat stream broken; it will time out")
		}
	}()
	go func() {
		st, _ := proc.Wait()
		select {
		case <-drained:
		case <-time.After(readerDrainBound):
		}
		l.post(event{kind: eventExit, id: id, status: exitStatusOf(st)})
	}()
	return osProcess{proc}, nil
}

// rss reads the resident set size of pid from /proc/PID/statm.
func (l *execLauncher) rss(pid int) (int64, error) { return RSS(pid) }

// RSS is the resident set size of process pid in bytes, from /proc/PID/statm.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0, fmt.Errorf("read statm: %w", err)
	}
	pages, err := parseStatmRSS(b)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}

// parseStatmRSS returns the second field of /proc/PID/statm: resident pages.
func parseStatmRSS(b []byte) (int64, error) {
	field, i := 0, 0
	for field < 1 {
		for i < len(b) && b[i] != ' ' {
			i++
		}
		for i < len(b) && b[i] == ' ' {
			i++
		}
		field++
	}
	var n int64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if n > (1<<62)/10 {
			return 0, fmt.Errorf("statm: resident pages overflow")
		}
		n = n*10 + int64(b[i]-'0')
		digits++
	}
	if digits == 0 {
		return 0, fmt.Errorf("statm: no resident field in %q", b)
	}
	return n, nil
}

// startProcess starts exe with args, env and the given files from fd 3 (stdin,
// stdout and stderr are the master's). It exists because os.StartProcess and
// os/exec call (*os.File).Fd on every inherited file, and Fd switches the file to
// blocking mode. O_NONBLOCK belongs to the open file description, which a listening
// socket shares with every process that inherited it: one blocking switch would
// leave the accept of every worker blocked in a system call, where closing the
// listener cannot interrupt it and a graceful stop hangs. The descriptors are taken
// with SyscallConn instead, which changes nothing.
func startProcess(exe string, args, env []string, dir string, files []*os.File, sys *syscall.SysProcAttr) (*os.Process, error) {
	fds := make([]uintptr, 0, 3+len(files))
	for _, f := range append([]*os.File{os.Stdin, os.Stdout, os.Stderr}, files...) {
		fd, err := rawFD(f)
		if err != nil {
			return nil, err
		}
		fds = append(fds, fd)
	}
	pid, err := syscall.ForkExec(exe, append([]string{exe}, args...), &syscall.ProcAttr{Dir: dir, Env: env, Files: fds, Sys: sys})
	runtime.KeepAlive(files)
	if err != nil {
		return nil, err
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil, fmt.Errorf("find started process %d: %w", pid, err)
	}
	return p, nil
}

// rawFD returns f's descriptor without changing its mode (see startProcess).
func rawFD(f *os.File) (uintptr, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("descriptor of %s: %w", f.Name(), err)
	}
	var fd uintptr
	if err := rc.Control(func(d uintptr) { fd = d }); err != nil {
		return 0, fmt.Errorf("descriptor of %s: %w", f.Name(), err)
	}
	return fd, nil
}
