package supervisor

import (
	"errors"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A master running as PID 1 (the entry point of a container) is the parent of
// every orphan in its PID namespace: a process a handler started and left behind
// is re-parented to it when its parent exits. Nothing else would ever wait for
// those, and their zombies would fill the process table. The master reaps them, on
// SIGCHLD and on every tick, but never its own workers or a new master: their exit
// statuses belong to the goroutines waiting for them, which a plain wait(-1) would
// steal. So the reaper peeks at the next exited child with waitid(WNOWAIT), which
// leaves it waitable, and reaps it only when it is not one of the master's own.
// (/proc cannot tell: it may belong to another PID namespace than the master's.)

// reapsOrphans reports whether this process must reap orphans: it is PID 1.
func reapsOrphans() bool { return os.Getpid() == 1 }

// reapOrphans waits for every exited child of this process that ours does not
// claim, and returns their pids. It stops at the first exited child ours claims:
// that one's own waiter reaps it, and the next call goes on.
func reapOrphans(ours func(pid int) bool) []int {
	var reaped []int
	for len(reaped) < 4096 {
		pid, err := peekExited()
		if err != nil || pid == 0 || ours(pid) {
			break
		}
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || got != pid {
			break
		}
		reaped = append(reaped, pid)
	}
	return reaped
}

// siginfo is the start of the kernel's siginfo_t as waitid fills it for a child:
// three ints, then a union aligned to the pointer size whose first members are the
// child's pid and uid (x/sys/unix.Siginfo keeps those in unexported padding).
type siginfo struct {
	signo, errno, code int32
	_                  [unsafe.Sizeof(uintptr(0)) - 4]byte // 64-bit: union at 16; 32-bit: at 12
	pid                int32
	uid                uint32
	_                  [128]byte // the rest, generously
}

// peekExited returns the pid of an exited child without reaping it, 0 when none
// has exited.
func peekExited() (int, error) {
	var si siginfo
	for {
		_, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_ALL, 0, uintptr(unsafe.Pointer(&si)),
			unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, 0, 0)
		switch errno {
		case 0:
			return int(si.pid), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}
