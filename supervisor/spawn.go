package supervisor

import (
	"fmt"
	"os"
	"os/exec"
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
	cmd := exec.Command(l.exe, l.args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = append(append(make([]*os.File, 0, len(l.listeners)+1), l.listeners...), w)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: l.cred}
	if err := cmd.Start(); err != nil {
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
			l.log.Error().Err(err).Int("pid", cmd.Process.Pid).Msg("worker heartbeat stream broken; it will time out")
		}
	}()
	go func() {
		st, _ := cmd.Process.Wait()
		select {
		case <-drained:
		case <-time.After(readerDrainBound):
		}
		l.post(event{kind: eventExit, id: id, status: exitStatusOf(st)})
	}()
	return osProcess{cmd.Process}, nil
}

// rss reads the resident set size of pid from /proc/PID/statm.
func (l *execLauncher) rss(pid int) (int64, error) {
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
