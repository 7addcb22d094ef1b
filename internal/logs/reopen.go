package logs

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// ReopenFile is an io.Writer over a path that Reopen reopens (SIGUSR1 log rotation:
// the old file has been renamed, a new one is created at the path). It is safe for
// concurrent use; each Write is one append. "-" means a standard stream (stdout or
// stderr, as given to OpenFile), for which Reopen and Close do nothing to the stream.
type ReopenFile struct {
	path string
	std  bool

	mu sync.RWMutex // Write holds it shared, Reopen and Close exclusively
	f  *os.File     // nil once closed
}

// logFileMode is the mode of a log file gonicorn creates (before the umask).
const logFileMode = 0o644

// OpenFile opens path for appending, creating it if needed; path "-" means std.
func OpenFile(path string, std *os.File) (*ReopenFile, error) {
	if path == "-" {
		if std == nil {
			return nil, errors.New("open log -: no standard stream given")
		}
		return &ReopenFile{path: path, std: true, f: std}, nil
	}
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &ReopenFile{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	if path == "" {
		return nil, errors.New("open log: empty path")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logFileMode)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return f, nil
}

// Path is the path given to OpenFile ("-" for a standard stream).
func (f *ReopenFile) Path() string { return f.path }

// Write appends p with one write(2).
func (f *ReopenFile) Write(p []byte) (int, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.f == nil {
		return 0, os.ErrClosed
	}
	return f.f.Write(p)
}

// Reopen opens the path anew and swaps it in; writes in progress finish on the old
// file. If the path cannot be opened, writes keep going to the old file and the error
// is returned.
func (f *ReopenFile) Reopen() error {
	if f.std {
		return nil
	}
	nf, err := openAppend(f.path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	old := f.f
	if old == nil { // closed meanwhile
		f.mu.Unlock()
		nf.Close()
		return os.ErrClosed
	}
	f.f = nf
	f.mu.Unlock()
	if err := old.Close(); err != nil {
		return fmt.Errorf("close rotated log: %w", err)
	}
	return nil
}

// Close closes the file (never the standard stream). Later writes fail with
// os.ErrClosed. Closing twice is not an error.
func (f *ReopenFile) Close() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	old := f.f
	f.f = nil
	f.mu.Unlock()
	if old == nil || f.std {
		return nil
	}
	return old.Close()
}
