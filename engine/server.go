package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/gonicorn/gonicorn/internal/allow"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/pool"
)

// Server serves one process's share of the listeners: it accepts connections, runs
// them on gnet event loops, and runs handlers on its pool.
type Server struct {
	cfg     *Options
	handler http.Handler
	log     zerolog.Logger
	access  *logs.AccessLog
	stats   *stats.Counters
	pool    *pool.Pool
	client  *gnet.Client
	date    dateCache

	uwsgiAllow     *allow.List
	forwardedAllow *allow.List
	h1, h2c        bool // protocols served on http listeners

	proxy proxySettings // --proxy-protocol, --proxy-allow-from

	// baseCtx carries http.ServerContextKey; each listener adds LocalAddrContextKey.
	baseCtx context.Context

	conns    connSet // every open connection, for the clock and drain
	nconns   atomic.Int64
	inflight atomic.Int64
	served   atomic.Uint64
	lastTurn atomic.Int64 // monoNow when every loop last answered the clock

	maxConns int64 // open connections allowed: --worker-connections, below RLIMIT_NOFILE
	inline   bool  // no P beside the loops: a loop yields to the handler it readied (loopHandler.OnTraffic)
	draining atomic.Bool
	stopOnce sync.Once
	stopped  chan struct{}
	serving  chan struct{} // closed once the event loops accept
	lns      []*listenerFD // the sockets the event loops accept from
	atCap    atomic.Bool   // accepting is paused: the connection cap is reached
	evicted  evictStats    // idle connections closed at the cap (evict.go)
	// waitingWriters counts the handlers waiting for a slow reader's queue to drain
	// (outbound.go).
	waitingWriters atomic.Int64

	drainMu      sync.Mutex
	drainWaiters map[*conn]struct{}
	drainKick    chan struct{}
}

// New builds a Server serving h with o. It starts nothing until Serve.
func New(h http.Handler, o Options) (*Server, error) {
	cfg := &o
	s := &Server{
		cfg:          cfg,
		handler:      h,
		log:          o.Log,
		access:       o.Access,
		stats:        o.Stats,
		stopped:      make(chan struct{}),
		serving:      make(chan struct{}),
		drainWaiters: make(map[*conn]struct{}),
		drainKick:    make(chan struct{}, 1),
	}
	for _, p := range cfg.HTTPProtocols {
		switch p {
		case "h1":
			s.h1 = true
		case "h2c":
			s.h2c = true
		}
	}
	if !s.h1 && !s.h2c {
		return nil, fmt.Errorf("engine: --http-protocols enables neither h1 nor h2c")
	}
	al, err := allow.Parse(cfg.UWSGIAllowFrom)
	if err != nil {
		return nil, fmt.Errorf("engine: --uwsgi-allow-from: %w", err)
	}
	s.uwsgiAllow = al
	if s.forwardedAllow, err = allow.Parse(cfg.ForwardedAllowIPs); err != nil {
		return nil, fmt.Errorf("engine: --forwarded-allow-ips: %w", err)
	}
	if s.proxy, err = newProxySettings(cfg); err != nil {
		return nil, err
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = 1024
	}
	s.pool, err = pool.New(threads, cfg.Timeout, s.log)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	s.pool.SetLimits(pool.DefaultParkedPerSlot*threads, cfg.MaxQueuedStreams)
	s.date.refresh(time.Now())
	s.baseCtx = context.Background()
	return s, nil
}

// Serve accepts connections on ls until Shutdown or Close, and returns once every
// connection is gone. The listeners are closed when Serve returns.
func (s *Server) Serve(ls []*Listener) error {
	if len(ls) == 0 {
		return errors.New("engine: no listeners")
	}
	s.maxConns = connectionCap(s.cfg.WorkerConnections, raiseNoFile(s.cfg.WorkerConnections, s.log))
	loops := s.cfg.EventLoops
	if loops <= 0 {
		loops = runtime.GOMAXPROCS(0)
	}
	// No P to spare beside the loops: an idle event loop parks in Go's own
	// poller (third_party/gnet, PATCHES.md) instead of blocking its thread in
	// epoll_wait, so handlers and timers run on its P at once. A spare P made the
	// scheduler spin on a one-core worker (a nanosleep and a futex per request).
	s.inline = runtime.GOMAXPROCS(0) <= loops
	cli, err := gnet.NewClient(&loopHandler{s: s},
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(loops),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReadBufferCap(64<<10),
		gnet.WithWriteBufferCap(64<<10),
		gnet.WithLogger(gnetLogger{s.log}),
		gnet.WithLogLevel(logging.ErrorLevel),
	)
	if err != nil {
		return fmt.Errorf("engine: gnet client: %w", err)
	}
	if err := cli.Start(); err != nil {
		return fmt.Errorf("engine: starting event loops: %w", err)
	}
	s.client = cli
	s.baseCtx = context.WithValue(context.Background(), http.ServerContextKey, (*http.Server)(nil))
	err = s.adopt(ls)
	if err == nil {
		go s.clock()
		go s.drainWatcher()
		close(s.serving)
		<-s.stopped
	}
	if err := cli.Stop(); err != nil {
		s.log.Debug().Err(err).Msg("stopping event loops")
	}
	for _, l := range s.lns {
		_ = unix.Close(l.fd)
	}
	s.pool.Close()
	return err
}

// listenerFD is one listening socket as the event loops accept from it: the
// initial gnet context of every connection accepted there.
type listenerFD struct {
	fd    int
	ln    *Listener
	lctx  context.Context // carries http.LocalAddrContextKey
	uwsgi bool
}

// adopt hands every listener's socket to the event loops, which accept on
// their own goroutines: no accept goroutine, no hand-off, no second registration
// in Go's poller. Each listener's net.Listener is closed here (its socket stays
// open in the loops, and in the master and the other workers sharing it).
func (s *Server) adopt(ls []*Listener) error {
	for _, l := range ls {
		fd, err := listen.DupFD(l.Listener)
		if err != nil {
			return fmt.Errorf("engine: listener %s: %w", l.Spec, err)
		}
		lf := &listenerFD{fd: fd, ln: l, uwsgi: l.Protocol == "uwsgi",
			lctx: context.WithValue(s.baseCtx, http.LocalAddrContextKey, l.Addr())}
		s.lns = append(s.lns, lf)
		if _, tcp := l.Addr().(*net.TCPAddr); tcp {
			// Accepted sockets inherit TCP_NODELAY from the listening one: one
			// setsockopt here instead of one per connection.
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		if ul, ok := l.Listener.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false) // the socket file is still served
		}
		_ = l.Listener.Close()
		if err := s.client.AdoptListener(fd, lf); err != nil {
			return fmt.Errorf("engine: listener %s: %w", l.Spec, err)
		}
	}
	return nil
}

// holdTime bounds how long a finished response waits for the pipelined
// requests behind it before the clock writes it anyway.
const holdTime = 50 * time.Millisecond

// stopAccepting takes the listeners out of the event loops after they have
// accepted every connection already queued: a client whose connection was
// queued did nothing wrong. The sockets stay open (in the master and the other
// workers too) until Serve returns, so what arrives later waits in the shared
// backlog for another process instead of being reset.
func (s *Server) stopAccepting() {
	if s.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.client.StopAccepting(ctx, true); err != nil {
		s.log.Debug().Err(err).Msg("stopping accepting")
	}
}

// admitted counts a new connection and pauses accepting at the cap, leaving new
// connections in the shared backlog for other workers. It runs on a loop.
func (s *Server) admitted() {
	if n := s.nconns.Add(1); s.maxConns > 0 && n >= s.maxConns && s.atCap.CompareAndSwap(false, true) {
		s.client.PauseAccepting()
	}
}

// released uncounts a closed connection and resumes accepting below the cap.
func (s *Server) released() {
	if n := s.nconns.Add(-1); n < s.maxConns && s.atCap.Load() && s.atCap.CompareAndSwap(true, false) {
		s.client.ResumeAccepting()
	}
}

// clock runs the server's timers: the Date header, connection deadlines, and the
// event-loop liveness probe behind Healthy.
func (s *Server) clock() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var probes atomic.Int64
	for {
		select {
		case <-s.stopped:
			return
		case now := <-t.C:
			s.date.refresh(now)
			nowNano := monoOf(now)
			s.conns.each(func(c *conn) bool {
				if d := c.deadline.Load(); d != 0 && d <= nowNano {
					_ = c.gc.Wake(onExpireWake)
				}
				if h, r := c.heldAt.Load(), c.readySince.Load(); h != 0 && nowNano-h > int64(holdTime) ||
					r != 0 && nowNano-r > int64(holdTime) {
					_ = c.gc.Wake(onFlushHeldWake)
				}
				return true
			})
			s.pool.ExpireQueued(now)
			s.evictIdle(nowNano)
			s.probeLoops(nowNano, &probes)
		}
	}
}

// probeLoops asks each event loop to run a no-op; when all have answered, the
// loops are known to turn.
func (s *Server) probeLoops(now int64, pending *atomic.Int64) {
	if pending.Load() > 0 {
		return // the last probe has not come back: a loop is stuck or slow
	}
	loops := s.loops()
	if len(loops) == 0 {
		s.lastTurn.Store(now)
		return
	}
	pending.Store(int64(len(loops)))
	for _, el := range loops {
		err := el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			if pending.Add(-1) == 0 {
				s.lastTurn.Store(monoNow())
			}
			return nil
		}))
		if err != nil {
			pending.Add(-1)
		}
	}
}

// loops returns the event loops that hold at least one connection.
func (s *Server) loops() []gnet.EventLoop {
	seen := map[gnet.EventLoop]bool{}
	var out []gnet.EventLoop
	s.conns.each(func(c *conn) bool {
		if el := c.loop; el != nil && !seen[el] {
			seen[el] = true
			out = append(out, el)
		}
		return len(out) < 64
	})
	return out
}

// Healthy reports whether this server can still make progress: its event loops
// turn, and not every pool slot is held by a handler past its deadline.
func (s *Server) Healthy() bool {
	last := s.lastTurn.Load()
	if last != 0 && monoNow()-last > int64(5*time.Second) {
		return false
	}
	return s.pool.Healthy()
}

// Parked returns how many handlers wait on their clients without a pool slot.
func (s *Server) Parked() int { return s.pool.Parked() }

// QueuedStreams returns how many h2 streams wait for a pool slot.
func (s *Server) QueuedStreams() int { return s.pool.Queued() }

// InFlight returns how many requests are being handled now.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// Served returns how many requests this server has completed.
func (s *Server) Served() uint64 { return s.served.Load() }

// Stuck lists the requests whose handlers run past their deadline.
func (s *Server) Stuck() []pool.Stuck { return s.pool.Stuck() }

// Shutdown stops accepting, lets in-flight requests finish, closes idle
// connections, and returns when every connection is gone or ctx ends (then the
// rest are closed at once).
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.draining.CompareAndSwap(false, true) {
		return nil
	}
	s.stopAccepting()
	s.conns.each(func(c *conn) bool {
		_ = c.gc.Wake(onDrainWake)
		return true
	})
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
	for s.nconns.Load() > 0 {
		select {
		case <-ctx.Done():
			err = fmt.Errorf("engine: graceful stop: %d connections still open: %w", s.nconns.Load(), ctx.Err())
			s.stop()
			return err
		case <-tick.C:
			// Connections idle at the moment of the first wake may have become idle
			// since: wake them again.
			s.conns.each(func(c *conn) bool {
				_ = c.gc.Wake(onDrainWake)
				return true
			})
		}
	}
	s.stop()
	return nil
}

// Close stops the server at once: every connection is closed.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.stop()
	return nil
}

func (s *Server) stop() {
	s.stopOnce.Do(func() { close(s.stopped) })
}

// Serving is closed once the server accepts connections: its event loops run and
// every listener has an accept loop.
func (s *Server) Serving() <-chan struct{} { return s.serving }

// Done is closed when the server has been told to stop.
func (s *Server) Done() <-chan struct{} { return s.stopped }

func (s *Server) beginRequest() { s.inflight.Add(1) }

func (s *Server) endRequest() {
	s.inflight.Add(-1)
	s.served.Add(1)
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit and returns it: gnet
// stops its whole engine on EMFILE, so the accept loop caps connections below it.
func raiseNoFile(want int, log zerolog.Logger) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn().Err(err).Msg("raising RLIMIT_NOFILE")
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	if want > 0 && uint64(want)+fdReserve > lim.Cur {
		log.Warn().Uint64("nofile", lim.Cur).Int("worker_connections", want).
			Msg("RLIMIT_NOFILE is below --worker-connections: connections are capped below the limit")
	}
	return lim.Cur
}

// fdReserve is what the cap leaves for listeners, logs, pipes and the handlers' own
// files. Each connection holds two descriptors for a moment while it is enrolled.
const fdReserve = 128

// connectionCap is the number of connections a worker keeps open at most.
func connectionCap(want int, nofile uint64) int64 {
	c := int64(want)
	if nofile > 0 {
		byLimit := (int64(nofile) - fdReserve)
		if c <= 0 || byLimit < c {
			c = max(byLimit, 1)
		}
	}
	return c
}

type gnetLogger struct{ log zerolog.Logger }

func (l gnetLogger) Debugf(f string, a ...any) { l.log.Debug().Msgf("gnet: "+f, a...) }
func (l gnetLogger) Infof(f string, a ...any)  { l.log.Debug().Msgf("gnet: "+f, a...) }
func (l gnetLogger) Warnf(f string, a ...any)  { l.log.Warn().Msgf("gnet: "+f, a...) }
func (l gnetLogger) Errorf(f string, a ...any) { l.log.Error().Msgf("gnet: "+f, a...) }
func (l gnetLogger) Fatalf(f string, a ...any) { l.log.Error().Msgf("gnet: "+f, a...) }

// requestStart is monoNow's reading for a request read now, or 0 when neither
// the metrics nor an access log will ask how long it took (recordRequest): a
// clock read fewer per request.
func (s *Server) requestStart() int64 {
	if !s.recording() {
		return 0
	}
	return monoNow()
}

// recording reports whether finished requests are counted or logged
// (recordRequest does something).
func (s *Server) recording() bool { return s.stats != nil || s.access != nil }

// recordRequest counts a finished request for the metrics and writes its access
// log line; both writers (HTTP/1-uWSGI and h2) report here. start is monoNow's
// reading when the request was read: the wall clock is read only for a log line.
func (s *Server) recordRequest(p stats.Protocol, r *http.Request, start int64, status int, bodyBytes int64, respHeader http.Header) {
	if !s.recording() {
		return
	}
	d := time.Duration(monoNow() - start)
	if s.stats != nil {
		s.stats.Request(p, r.Method, status, d, r.ContentLength, bodyBytes)
	}
	if s.access == nil {
		return
	}
	e := logs.AccessEntry{
		RemoteAddr: r.RemoteAddr,
		Method:     r.Method,
		RequestURI: r.RequestURI,
		Proto:      r.Proto,
		Host:       r.Host,
		Status:     status,
		BodyBytes:  bodyBytes,
		Start:      time.Now().Add(-d),
		Duration:   d,
		ReqHeader:  r.Header,
		RespHeader: respHeader,
	}
	s.access.Log(&e)
}
