package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// PidFile is the file holding a master's pid (-p/--pid).
type PidFile struct {
	path string
	pid  int
}

// CreatePidFile writes pid to path atomically. It refuses when path names another
// live process (a second master on the same pidfile); a stale file is replaced.
func CreatePidFile(path string, pid int) (*PidFile, error) {
	if old, err := readPid(path); err == nil && old != pid && processAlive(old) {
		return nil, fmt.Errorf("pidfile %s: already running on pid %d", path, old)
	}
	if err := writeAtomic(path, []byte(strconv.Itoa(pid)+"\n")); err != nil {
		return nil, fmt.Errorf("pidfile %s: %w", path, err)
	}
	return &PidFile{path: path, pid: pid}, nil
}

// createPidFileAfter is CreatePidFile for a master started by USR2 from the
// master parent (0: none): the file may still name that old master, which is
// handing it over, but no other live process.
func createPidFileAfter(path string, pid, parent int) (*PidFile, error) {
	if old, err := readPid(path); err == nil && parent != 0 && old == parent {
		if err := writeAtomic(path, []byte(strconv.Itoa(pid)+"\n")); err != nil {
			return nil, fmt.Errorf("pidfile %s: %w", path, err)
		}
		return &PidFile{path: path, pid: pid}, nil
	}
	return CreatePidFile(path, pid)
}

// Path is where the pid is written now.
func (p *PidFile) Path() string { return p.path }

// Rename moves the pidfile to path (the old master of a USR2 upgrade moving to
// PIDFILE.oldbin, and back if the new master dies).
func (p *PidFile) Rename(path string) error {
	if err := os.Rename(p.path, path); err != nil {
		return fmt.Errorf("move pidfile %s to %s: %w", p.path, path, err)
	}
	p.path = path
	return nil
}

// Remove deletes the pidfile if it still holds this process's pid: a new master may
// have written its own there.
func (p *PidFile) Remove() error {
	if pid, err := readPid(p.path); err != nil || pid != p.pid {
		return nil
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove pidfile: %w", err)
	}
	return nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pidfile %s: no pid in %q", path, b)
	}
	return pid, nil
}

// processAlive reports whether pid exists (signal 0 reaches it or is refused).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// writeAtomic writes b to a temporary file beside path and renames it over path, so
// a reader never sees a partial pid.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return werr
}
