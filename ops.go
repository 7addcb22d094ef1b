package gonicorn

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/control"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/metrics"
	"github.com/gonicorn/gonicorn/supervisor"
)

// ops is the master's observability and control: the Hub that adds up the
// workers' reports, the /metrics server and the statsd push. The zero value (all
// off) is valid.
type ops struct {
	cfg       *config.Config
	log       zerolog.Logger
	listeners []metrics.Listener
	hub       *metrics.Hub
	statsd    *metrics.Statsd
	control   *control.Server
	stop      chan struct{}

	mu      sync.Mutex
	metrics *metrics.Server // set late when the old master held the port (USR2)
}

// startOps starts what cfg asks for. It runs before the master supervises, so
// that a bad --metrics-bind fails the start rather than a later scrape. upgraded:
// this master was started by USR2, and the old one may still hold the
// --metrics-bind port until it exits.
func startOps(cfg *config.Config, lns []*listen.Listener, files []*os.File, upgraded bool, log zerolog.Logger) (*ops, error) {
	o := &ops{cfg: cfg, log: log, stop: make(chan struct{})}
	if !cfg.Counting() {
		return o, nil
	}
	o.hub = metrics.NewHub(log)
	for i, l := range lns {
		o.listeners = append(o.listeners, metrics.Listener{Spec: l.Spec, Protocol: l.Protocol, Addr: l.Addr().String(), File: files[i]})
	}
	if cfg.MetricsBind != "" {
		reg, err := metrics.Registry(metrics.NewCollector(o.hub, o.listeners))
		if err != nil {
			return nil, err
		}
		srv, err := metrics.Listen(cfg.MetricsBind, reg, log)
		switch {
		case err == nil:
			o.serveMetrics(srv)
		case upgraded && errors.Is(err, syscall.EADDRINUSE):
			log.Warn().Err(err).Msg("--metrics-bind is held by the old master; serving /metrics once it lets go")
			go o.retryMetrics(reg)
		default:
			return nil, err
		}
	}
	if cfg.StatsdHost != "" {
		s, err := metrics.DialStatsd(cfg.StatsdHost, cfg.StatsdPrefix, o.hub, log)
		if err != nil {
			o.close()
			return nil, err
		}
		o.statsd = s
		go s.Run(o.stop, metrics.StatsdInterval)
		log.Info().Str("statsd", cfg.StatsdHost).Msg("pushing statsd metrics")
	}
	return o, nil
}

// serveMetrics starts serving /metrics on srv, unless the ops are closed.
func (o *ops) serveMetrics(srv *metrics.Server) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case <-o.stop:
		srv.Close()
		return
	default:
	}
	o.metrics = srv
	go srv.Serve()
	o.log.Info().Str("listen", srv.Addr().String()).Msg("serving Prometheus metrics at /metrics")
}

// retryMetrics binds --metrics-bind every second until it is free (the old
// master exited) or the ops close.
func (o *ops) retryMetrics(reg *prometheus.Registry) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		srv, err := metrics.Listen(o.cfg.MetricsBind, reg, o.log)
		if err == nil {
			o.serveMetrics(srv)
			return
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			o.log.Error().Err(err).Msg("--metrics-bind: giving up")
			return
		}
	}
}

// observer is the supervisor's Observer, nil when nothing counts.
func (o *ops) observer() supervisor.Observer {
	if o.hub == nil {
		return nil
	}
	return o.hub
}

// attach gives the ops the master, before it runs, and opens the control
// socket, which needs it. upgraded: the master was started by USR2 and takes the
// control socket over from the old one.
func (o *ops) attach(m *supervisor.Master, upgraded bool) error {
	if o.hub == nil {
		return nil
	}
	o.hub.SetStatus(m.Status)
	if o.cfg.ControlSocket == "" {
		return nil
	}
	c, err := control.Listen(o.cfg.ControlSocket, upgraded, m, o.hub, o.listeners, o.log)
	if err != nil {
		return err
	}
	o.control = c
	go c.Serve()
	o.log.Info().Str("control_socket", o.cfg.ControlSocket).Msg("answering gonicorn ctl")
	return nil
}

// close stops everything started; a last statsd push sends what the final
// reports added.
func (o *ops) close() {
	select {
	case <-o.stop:
		return
	default:
		close(o.stop)
	}
	if o.control != nil {
		o.control.Close()
	}
	if o.statsd != nil {
		o.statsd.Close()
	}
	o.mu.Lock()
	m := o.metrics
	o.mu.Unlock()
	if m != nil {
		m.Close()
	}
}
