package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/metrics"
	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/supervisor"
)

// Master is what the control socket needs of the supervisor's master.
type Master interface {
	Status() supervisor.Status
	Config() config.Config
	Do(ctx context.Context, c supervisor.Command) error
}

// Server is the master's end of the control socket.
type Server struct {
	path      string
	ln        *net.UnixListener
	ino       uint64
	master    Master
	hub       *metrics.Hub
	listeners []metrics.Listener
	log       zerolog.Logger
	uid       int
	wg        sync.WaitGroup
}

// Listen creates the socket at path, mode 0600. A stale socket file (nothing
// answers) is replaced; a live one is an error, another master uses it, unless
// takeOver is set: a master started by USR2 takes the path over from the old one
// (which then leaves the new socket file alone when it exits).
func Listen(path string, takeOver bool, m Master, hub *metrics.Hub, listeners []metrics.Listener, log zerolog.Logger) (*Server, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s: the path exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil && !takeOver {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another process answers on it", path)
		} else if err == nil {
			c.Close()
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing the stale socket: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	// The file's mode keeps other users out; the peer check on every connection
	// closes the moment between bind and chmod.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		os.Remove(path)
		return nil, fmt.Errorf("control socket: chmod 0600: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{path: path, ln: ln, ino: st.Ino, master: m, hub: hub, listeners: listeners, log: log, uid: os.Geteuid()}, nil
}

// Serve answers connections until Close.
func (s *Server) Serve() {
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error().Err(err).Msg("control socket accept")
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
		}()
	}
}

// Close stops answering and removes the socket file, if it is still this one.
func (s *Server) Close() {
	_ = s.ln.Close()
	var st syscall.Stat_t
	if err := syscall.Stat(s.path, &st); err == nil && st.Ino == s.ino {
		_ = os.Remove(s.path)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

// peerAllowed reports whether the peer runs as the master's user or as root.
func (s *Server) peerAllowed(c *net.UnixConn) (int, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, false
	}
	var cred *syscall.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return -1, false
	}
	return int(cred.Uid), int(cred.Uid) == s.uid || cred.Uid == 0
}

func (s *Server) serveConn(c *net.UnixConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioBound))
	if uid, ok := s.peerAllowed(c); !ok {
		s.log.Warn().Int("peer_uid", uid).Msg("control socket: peer refused (not the master's user nor root)")
		writeResponse(c, Response{Error: "permission denied"})
		return
	}
	r := bufio.NewReaderSize(c, 4096)
	line, err := readLine(r)
	if err != nil {
		writeResponse(c, Response{Error: "bad request: " + err.Error()})
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		writeResponse(c, Response{Error: "bad request: " + err.Error()})
		return
	}
	data, err := s.handle(req.Args)
	if err != nil {
		writeResponse(c, Response{Error: err.Error()})
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		writeResponse(c, Response{Error: "encoding the answer: " + err.Error()})
		return
	}
	writeResponse(c, Response{OK: true, Data: raw})
}

// readLine reads one newline-terminated line of at most maxMessage bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxMessage {
			return nil, fmt.Errorf("line longer than %d bytes", maxMessage)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

func writeResponse(c net.Conn, resp Response) {
	b, _ := json.Marshal(resp)
	_, _ = c.Write(append(b, '\n'))
}

// handle runs one command and returns what to answer.
func (s *Server) handle(args []string) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("no command; try: show stats|workers|config|listeners, worker add|remove|kill, reload, reopen, shutdown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioBound/2)
	defer cancel()
	switch args[0] {
	case "show":
		if len(args) != 2 {
			return nil, errors.New("usage: show stats|workers|config|listeners")
		}
		switch args[1] {
		case "stats":
			return s.showStats(), nil
		case "workers":
			return s.showWorkers(), nil
		case "config":
			return s.master.Config(), nil
		case "listeners":
			return s.showListeners(), nil
		}
		return nil, fmt.Errorf("show %q: want stats, workers, config or listeners", args[1])
	case "worker":
		return s.worker(ctx, args[1:])
	case "reload":
		if err := s.do(ctx, args, 1, supervisor.Command{Op: "reload"}); err != nil {
			return nil, err
		}
		return Done{Message: "reloading: new workers start, the old ones drain"}, nil
	case "reopen":
		if err := s.do(ctx, args, 1, supervisor.Command{Op: "reopen"}); err != nil {
			return nil, err
		}
		return Done{Message: "log files reopened"}, nil
	case "shutdown":
		graceful := len(args) == 2 && args[1] == "--graceful"
		if len(args) > 2 || len(args) == 2 && !graceful {
			return nil, errors.New("usage: shutdown [--graceful]")
		}
		if err := s.master.Do(ctx, supervisor.Command{Op: "shutdown", Graceful: graceful}); err != nil {
			return nil, err
		}
		if graceful {
			return Done{Message: "graceful shutdown: workers finish their requests within --graceful-timeout"}, nil
		}
		return Done{Message: "shutting down now"}, nil
	}
	return nil, fmt.Errorf("unknown command %q", args[0])
}

func (s *Server) do(ctx context.Context, args []string, n int, c supervisor.Command) error {
	if len(args) != n {
		return fmt.Errorf("%s takes no arguments", args[0])
	}
	return s.master.Do(ctx, c)
}

func (s *Server) worker(ctx context.Context, args []string) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, errors.New("usage: worker add [N] | worker remove [N] | worker kill PID")
	}
	n := 1
	if len(args) == 2 {
		v, err := strconv.Atoi(args[1])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("worker %s: %q is not a positive number", args[0], args[1])
		}
		n = v
	}
	switch args[0] {
	case "add", "remove":
		if err := s.master.Do(ctx, supervisor.Command{Op: args[0], N: n}); err != nil {
			return nil, err
		}
		target := s.master.Status().Target
		verb := map[string]string{"add": "added", "remove": "removed"}[args[0]]
		return Done{Message: fmt.Sprintf("%s %d; the master now keeps %d workers", verb, n, target), Workers: target}, nil
	case "kill":
		if len(args) != 2 {
			return nil, errors.New("usage: worker kill PID")
		}
		if err := s.master.Do(ctx, supervisor.Command{Op: "kill", PID: n}); err != nil {
			return nil, err
		}
		return Done{Message: fmt.Sprintf("worker %d told to stop (TERM); a new one replaces it", n)}, nil
	}
	return nil, fmt.Errorf("worker %q: want add, remove or kill", args[0])
}

func (s *Server) showStats() Stats {
	st := s.master.Status()
	t := s.hub.Total()
	out := Stats{
		MasterPID: st.PID, Uptime: time.Since(st.StartedAt).Seconds(),
		WorkersTarget: st.Target, WorkersAlive: st.Alive(), WorkersBusy: s.hub.Busy(&st),
		Requests: t.TotalRequests(), ByClass: map[string]uint64{}, ByProtocol: map[string]uint64{},
		InFlight: t.InFlight(), OpenConns: map[string]int64{}, Timeouts: map[string]uint64{},
		PoolRejections: t.PoolRejected(), Rejected: map[string]uint64{}, Restarts: s.hub.Restarts(),
	}
	var durSum uint64
	for p, proto := range stats.ProtocolNames {
		p := stats.Protocol(p)
		var n uint64
		for m := range stats.MethodNames {
			for cl, class := range stats.ClassNames {
				v := t.Requests(m, cl, p)
				n += v
				out.ByClass[class] += v
			}
		}
		out.ByProtocol[proto] = n
		out.OpenConns[proto] = t.OpenConns(p)
		durSum += t.DurationSum(p)
	}
	if out.Requests > 0 {
		out.MeanDuration = time.Duration(durSum / out.Requests).Seconds()
	}
	for i, name := range stats.TimeoutNames {
		out.Timeouts[name] = t.Timeouts(i)
	}
	for code := 100; code < 600; code++ {
		if v := t.Rejected(code); v > 0 {
			out.Rejected[strconv.Itoa(code)] = v
		}
	}
	return out
}

func (s *Server) showWorkers() []Worker {
	st := s.master.Status()
	now := time.Now()
	out := make([]Worker, 0, len(st.Workers))
	for _, w := range st.Workers {
		row := Worker{PID: w.PID, ID: w.ID, Generation: w.Generation, State: w.State, Ready: w.Ready,
			Age: now.Sub(w.StartedAt).Seconds(), Served: w.Served, LastBeat: -1}
		if !w.LastBeat.IsZero() {
			row.LastBeat = now.Sub(w.LastBeat).Seconds()
		}
		if sample, ok := s.hub.Worker(w.ID); ok {
			row.InFlight = sample.InFlight()
		}
		if rss, err := supervisor.RSS(w.PID); err == nil {
			row.RSS = rss
		}
		out = append(out, row)
	}
	return out
}

func (s *Server) showListeners() []Listener {
	queues := metrics.ListenQueues(s.listeners)
	out := make([]Listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		row := Listener{Spec: l.Spec, Protocol: l.Protocol, Address: l.Addr, Queue: -1}
		if q, ok := queues[l.Spec]; ok {
			row.Queue = int64(q)
		}
		out = append(out, row)
	}
	return out
}
