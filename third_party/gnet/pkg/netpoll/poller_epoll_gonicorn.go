// Copyright (c) 2026 The gonicorn authors. Licensed under the Apache License,
// Version 2.0, as the rest of gnet.

//go:build linux && !poll_opt

package netpoll

import (
	"os"

	"golang.org/x/sys/unix"
)

// ModEvents sets the level-triggered interest of pa's descriptor to ev exactly
// (ReadEvents, WriteEvents, both, or 0 for errors and hang-ups only).
func (p *Poller) ModEvents(pa *PollAttachment, ev uint32) error {
	return os.NewSyscallError("epoll_ctl mod",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: ev}))
}

// AddReadExclusive registers a listening socket shared with other pollers and
// processes: level-triggered read interest with EPOLLEXCLUSIVE, so that a new
// connection wakes one waiting poller rather than every one.
func (p *Poller) AddReadExclusive(pa *PollAttachment) error {
	return os.NewSyscallError("epoll_ctl add",
		unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, pa.FD, &unix.EpollEvent{Fd: int32(pa.FD), Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE}))
}
