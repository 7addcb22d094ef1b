// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux && !poll_opt

package netpoll

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// parking lets an idle event loop wait for its epoll set to become ready in Go's
// own network poller instead of in a blocking epoll_wait(2): the goroutine
// parks, its thread and P stay free for the handler goroutines and timers, and
// the runtime's monitor need not retake the P from a thread blocked in a system
// call (which made the scheduler spin: nanosleep, futex and a hand-off of the P
// for nearly every request when a worker runs on one core). An epoll descriptor
// is itself pollable: it reads ready when its set has events.
type parking struct {
	file *os.File        // the epoll descriptor, registered in Go's poller
	raw  syscall.RawConn // nil: parking unavailable, block in epoll_wait

	// The check run by raw.Read, made once: a closure made per call would
	// capture its results on the heap (three allocations per wait).
	check    func(uintptr) bool
	waitInto []unix.EpollEvent // where check puts the events
	waitN    int               // what check returned
	waitErr  error
}

func (p *Poller) initParking() {
	if err := unix.SetNonblock(p.fd, true); err != nil {
		return
	}
	f := os.NewFile(uintptr(p.fd), "epoll")
	raw, err := f.SyscallConn()
	if err != nil {
		return
	}
	p.file, p.raw = f, raw
	p.check = func(uintptr) bool {
		p.waitN, p.waitErr = rawEpollPoll(p.fd, p.waitInto)
		return p.waitN != 0 || p.waitErr != nil && p.waitErr != unix.EINTR
	}
}

// waitEvents returns the events of the epoll set, parking the goroutine in Go's
// poller while there are none. Go's poller reports the epoll descriptor
// readable once per new event (edge-triggered); it forgets what it saw before
// this call, so the set itself is checked after that and before every wait.
func (p *Poller) waitEvents(events []unix.EpollEvent) (n int, err error) {
	p.waitInto = events
	rerr := p.raw.Read(p.check)
	p.waitInto = nil
	n, err = p.waitN, p.waitErr
	if rerr != nil && err == nil {
		return 0, rerr
	}
	return n, err
}

// ModEvents sets the level-triggered interest of pa's descriptor to ev exactly
// (ReadEvents, WriteEvents, both, or 0 for errors and hang-ups only).
func (p *Poller) ModEvents(pa *PollAttachment, ev uint32) error {
	return os.NewSyscallError("epoll_ctl mod",
		rawEpollCtl(p.fd, unix.EPOLL_CTL_MOD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// AddEvents registers pa's descriptor, level-triggered, with interest ev.
func (p *Poller) AddEvents(pa *PollAttachment, ev uint32) error {
	return os.NewSyscallError("epoll_ctl add",
		rawEpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// AddReadExclusive registers a listening socket shared with other pollers and
// processes: level-triggered read interest with EPOLLEXCLUSIVE, so that a new
// connection wakes one waiting poller rather than every one.
func (p *Poller) AddReadExclusive(pa *PollAttachment) error {
	return os.NewSyscallError("epoll_ctl add",
		rawEpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}))
}
