package binbench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock takes the exclusive flock(2) lock on path (the lock flock(1) takes), waiting
// up to timeout, and returns its release. When one of this process's ancestors
// already holds it (`flock /tmp/gonicorn-bench.lock make bench`), it takes nothing:
// locking again would wait on ourselves.
func Lock(path string, timeout time.Duration) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if ancestorHolds(f) {
		f.Close()
		return func() {}, nil
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: still held by another benchmark after %v", path, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// AncestorHolds reports whether this process or one of its ancestors holds the
// flock(2) lock on path (a script run as `flock PATH script`).
func AncestorHolds(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return ancestorHolds(f)
}

// ancestorHolds reports whether /proc/locks shows a FLOCK on f's file held by this
// process or one of its ancestors.
func ancestorHolds(f *os.File) bool {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	// /proc/locks names the file MAJOR:MINOR:INODE, in hex for the device.
	major, minor := (st.Dev>>8)&0xfff|(st.Dev>>32)&^0xfff, st.Dev&0xff|(st.Dev>>12)&^0xff
	id := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	holders := map[int]bool{}
	lf, err := os.Open("/proc/locks")
	if err != nil {
		return false
	}
	defer lf.Close()
	sc := bufio.NewScanner(lf)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF
		fs := strings.Fields(sc.Text())
		if len(fs) >= 6 && fs[1] == "FLOCK" && fs[5] == id {
			if pid, err := strconv.Atoi(fs[4]); err == nil {
				holders[pid] = true
			}
		}
	}
	for pid := os.Getpid(); pid > 1; {
		if holders[pid] {
			return true
		}
		st, err := readStat(pid)
		if err != nil {
			return false
		}
		pid = st.ppid
	}
	return false
}
