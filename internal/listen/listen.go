// Package listen owns gonicorn's listening sockets: it binds the addresses of
// --bind (TCP, unix sockets, inherited fd://N, systemd socket activation) with the
// options Gunicorn users expect, hands them to child processes as inherited file
// descriptors, and rebuilds them there.
//
// It never accepts a connection and never reads or writes one: that is the engine's.
// A unix socket file is removed only by the process that created it.
package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// Listener is one bound socket and what it speaks.
type Listener struct {
	net.Listener
	// Protocol is "http" or "uwsgi".
	Protocol string
	// Spec is the bind spec as given, e.g. "unix:/tmp/a.sock", or "fd://N" for a
	// socket handed over by systemd.
	Spec string

	// created is the socket file this process created by binding, nil for TCP and
	// for inherited sockets; only CloseAndRemove removes it, and only if the path
	// still names that same file.
	created *socketFile
}

// socketFile identifies a unix socket file by path and inode.
type socketFile struct {
	path     string
	dev, ino uint64
}

// Options tunes Bind. The zero value means Gunicorn's behaviour.
type Options struct {
	// Attempts is how many times an address in use is tried (default 5).
	Attempts int
	// RetryDelay is the pause between attempts (default 1s).
	RetryDelay time.Duration
}

// Defaults of Options, as in Gunicorn.
const (
	DefaultAttempts   = 5
	DefaultRetryDelay = time.Second
)

// ParseSpec splits one bind address into what to bind and the protocol it speaks.
// network is "tcp", "unix" or "fd"; plain forms get defaultProto. See config.SplitBind
// for the accepted forms.
func ParseSpec(spec, defaultProto string) (network, address, proto string, err error) {
	return config.SplitBind(spec, defaultProto)
}

// Bind binds every address of cfg.Bind (HOST, HOST:PORT, [v6]:PORT, unix:PATH,
// unix://PATH, fd://FD, tcp://HOST:PORT, uwsgi://HOST:PORT, uwsgi+unix:PATH; the
// plain ones get cfg.Protocol). TCP sockets get SO_REUSEADDR, SO_REUSEPORT when
// cfg.ReusePort, TCP_DEFER_ACCEPT when cfg.DeferAccept, and cfg.Backlog (the
// kernel caps it at net.core.somaxconn). Unix
// sockets are created with cfg.Umask, after removing a stale socket file that no one
// answers on. An address in use is tried 5 times, 1 s apart.
//
// When systemd socket activation is present (LISTEN_PID is this process and
// LISTEN_FDS > 0) the sockets from fd 3 on are adopted instead of binding, and the
// LISTEN_* variables are removed from the environment so children do not see them.
// On error every socket bound so far is closed (and its file removed).
func Bind(cfg *config.Config, log zerolog.Logger) ([]*Listener, error) {
	return BindWith(cfg, log, Options{})
}

// BindWith is Bind with retry settings.
func BindWith(cfg *config.Config, log zerolog.Logger, opts Options) ([]*Listener, error) {
	b := binder{cfg: cfg, log: log, attempts: opts.Attempts, delay: opts.RetryDelay, sleep: time.Sleep}
	if b.attempts <= 0 {
		b.attempts = DefaultAttempts
	}
	if b.delay <= 0 {
		b.delay = DefaultRetryDelay
	}
	return b.bindAll()
}

// binder carries one Bind call; sleep is replaceable so tests need not wait.
type binder struct {
	cfg      *config.Config
	log      zerolog.Logger
	attempts int
	delay    time.Duration
	sleep    func(time.Duration)
}

func (b *binder) bindAll() ([]*Listener, error) {
	if ls, ok, err := systemdListeners(b.cfg, b.log); ok || err != nil {
		return ls, err
	}
	var ls []*Listener
	for _, spec := range b.cfg.Bind {
		l, err := b.bindOne(spec)
		if err != nil {
			_ = CloseAndRemove(ls)
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func (b *binder) bindOne(spec string) (*Listener, error) {
	network, address, proto, err := ParseSpec(spec, b.cfg.Protocol)
	if err != nil {
		return nil, fmt.Errorf("bind %q: %w", spec, err)
	}
	if network == "fd" {
		nl, err := adoptFD(address)
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", spec, err)
		}
		return &Listener{Listener: nl, Protocol: proto, Spec: spec}, nil
	}
	for attempt := 1; ; attempt++ {
		var l *Listener
		switch network {
		case "unix":
			l, err = bindUnix(address, b.cfg.Umask, b.cfg.Backlog, b.log)
		default:
			l, err = bindTCP(address, tcpOptions{backlog: b.cfg.Backlog, reusePort: b.cfg.ReusePort, deferAccept: b.cfg.DeferAccept})
		}
		if err == nil {
			l.Protocol, l.Spec = proto, spec
			return l, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt >= b.attempts {
			return nil, fmt.Errorf("can't bind %s: %w", spec, err)
		}
		b.log.Error().Str("bind", spec).Int("attempt", attempt).Dur("retry_in", b.delay).
			Msg("connection in use, retrying")
		b.sleep(b.delay)
	}
}

// Close closes every listener and leaves socket files in place: for a process that
// hands its sockets on (a master re-executing itself on USR2) or inherited them.
// Listeners already closed are not an error.
func Close(ls []*Listener) error {
	var errs []error
	for _, l := range ls {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close %s: %w", l.Spec, err))
		}
	}
	return errors.Join(errs...)
}

// CloseAndRemove closes every listener and removes the unix socket files this
// process created by binding — never one it inherited (a worker, a re-executed
// master), and never a file that has since been replaced at the same path.
// Listeners already closed are not an error.
func CloseAndRemove(ls []*Listener) error {
	errs := []error{Close(ls)}
	for _, l := range ls {
		if l.created == nil {
			continue
		}
		if err := l.created.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// remove deletes the socket file if the path still names the file that was created.
func (s *socketFile) remove() error {
	fi, err := os.Lstat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove socket %s: %w", s.path, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || uint64(st.Dev) != s.dev || uint64(st.Ino) != s.ino {
		return nil // someone else's socket now
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove socket %s: %w", s.path, err)
	}
	return nil
}
