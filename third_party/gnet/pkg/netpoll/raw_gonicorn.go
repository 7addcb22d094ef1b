// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux

package netpoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loops' system calls on non-blocking descriptors, made without
// entering the Go scheduler's system-call state (RawSyscall). None of them can
// block, so the P need not be handed off; and entering that state wakes the
// runtime's monitor thread whenever the process was idle, which then spins
// (nanosleep) beside the loop on the same core: on a one-core worker under
// nginx, a futex and several nanosleeps per request.

// RawRead is read(2) on a non-blocking descriptor.
func RawRead(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// RawWrite is write(2) on a non-blocking descriptor.
func RawWrite(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// RawSendMore is send(2) with MSG_MORE on a non-blocking TCP socket: the kernel
// holds a last partial segment until the next send without it, a shutdown or a
// close, which then carries it (with the FIN).
func RawSendMore(fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(ptr), uintptr(len(p)),
		unix.MSG_MORE|unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// RawWritev is writev(2) on a non-blocking descriptor.
func RawWritev(fd int, bs [][]byte) (int, error) {
	var iov [16]unix.Iovec
	if len(bs) > len(iov) {
		return unix.Writev(fd, bs)
	}
	n := 0
	for _, b := range bs {
		if len(b) == 0 {
			continue
		}
		iov[n].Base = &b[0]
		iov[n].SetLen(len(b))
		n++
	}
	if n == 0 {
		return 0, nil
	}
	r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// RawClose is close(2) of a socket without SO_LINGER (it does not block).
func RawClose(fd int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); e != 0 {
		return e
	}
	return nil
}

// rawEpollCtl is epoll_ctl(2).
func rawEpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	if _, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0); e != 0 {
		return e
	}
	return nil
}

// rawEpollPoll is epoll_wait(2) with a zero timeout (epoll_pwait: every
// architecture has it).
func rawEpollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
