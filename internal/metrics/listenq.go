package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
)

// Listener is a listening socket whose accept queue the metrics report.
type Listener struct {
	// Spec names the listener as --bind wrote it.
	Spec string
	// Protocol is "http" or "uwsgi".
	Protocol string
	// Addr is the bound address (HOST:PORT or the socket's path).
	Addr string
	// File is the master's descriptor of the socket.
	File *os.File
}

// socketInode is the inode of the socket behind f, which /proc/net/tcp names.
func socketInode(f *os.File) (uint64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("listener %s: %w", f.Name(), err)
	}
	var st syscall.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil {
		return 0, fmt.Errorf("listener %s: %w", f.Name(), err)
	}
	if serr != nil {
		return 0, fmt.Errorf("fstat listener %s: %w", f.Name(), serr)
	}
	return st.Ino, nil
}

// readListenQueues reads the accept queue lengths of the TCP listening sockets in
// /proc/net/tcp and /proc/net/tcp6, by socket inode: for a socket in LISTEN state
// Linux reports the connections waiting to be accepted as rx_queue. Unix sockets
// report no queue there and are left out.
func readListenQueues(paths ...string) map[uint64]uint64 {
	out := map[uint64]uint64{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		parseProcNetTCP(f, out)
		f.Close()
	}
	return out
}

// parseProcNetTCP adds the LISTEN sockets of one /proc/net/tcp table to out.
func parseProcNetTCP(r io.Reader, out map[uint64]uint64) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 4096)
	first := true
	for sc.Scan() {
		if first { // the heading
			first = false
			continue
		}
		f := bytes.Fields(sc.Bytes())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if len(f) < 10 || string(f[3]) != "0A" {
			continue
		}
		_, rx, ok := bytes.Cut(f[4], []byte{':'})
		if !ok {
			continue
		}
		waiting, err1 := strconv.ParseUint(string(rx), 16, 64)
		ino, err2 := strconv.ParseUint(string(f[9]), 10, 64)
		if err1 != nil || err2 != nil || ino == 0 {
			continue
		}
		out[ino] = waiting
	}
}

// ListenQueues returns the accept queue length of each listener of ls, by Spec:
// TCP from /proc/net/tcp{,6}, unix sockets from sock_diag. A listener whose queue
// the kernel does not report is absent.
func ListenQueues(ls []Listener) map[string]uint64 {
	out := map[string]uint64{}
	if len(ls) == 0 {
		return out
	}
	queues := readListenQueues("/proc/net/tcp", "/proc/net/tcp6")
	if uq, err := readUnixListenQueues(); err == nil {
		for ino, q := range uq {
			queues[ino] = q
		}
	}
	for _, l := range ls {
		ino, err := socketInode(l.File)
		if err != nil {
			continue
		}
		if q, ok := queues[ino]; ok {
			out[l.Spec] = q
		}
	}
	return out
}
