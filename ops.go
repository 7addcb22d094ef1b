package gonicorn

import (
	"os"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/metrics"
	"github.com/gonicorn/gonicorn/supervisor"
)

// ops is the master's observability and control: the Hub that adds up the
// workers' reports, the /metrics server and the statsd push. The zero value (all
// off) is valid.
type ops struct {
	hub     *metrics.Hub
	metrics *metrics.Server
	statsd  *metrics.Statsd
	stop    chan struct{}
}

// startOps starts what cfg asks for. It runs before the master supervises, so
// that a bad --metrics-bind fails the start rather than a later scrape.
func startOps(cfg *config.Config, lns []*listen.Listener, files []*os.File, log zerolog.Logger) (*ops, error) {
	o := &ops{stop: make(chan struct{})}
	if !cfg.Counting() {
		return o, nil
	}
	o.hub = metrics.NewHub(log)
	if cfg.MetricsBind != "" {
		mls := make([]metrics.Listener, 0, len(lns))
		for i, l := range lns {
			mls = append(mls, metrics.Listener{Spec: l.Spec, File: files[i]})
		}
		reg, err := metrics.Registry(metrics.NewCollector(o.hub, mls))
		if err != nil {
			return nil, err
		}
		if o.metrics, err = metrics.Listen(cfg.MetricsBind, reg, log); err != nil {
			return nil, err
		}
		go o.metrics.Serve()
		log.Info().Str("listen", o.metrics.Addr().String()).Msg("serving Prometheus metrics at /metrics")
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

// observer is the supervisor's Observer, nil when nothing counts.
func (o *ops) observer() supervisor.Observer {
	if o.hub == nil {
		return nil
	}
	return o.hub
}

// attach gives the ops the running master.
func (o *ops) attach(m *supervisor.Master) {
	if o.hub != nil {
		o.hub.SetStatus(m.Status)
	}
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
	if o.statsd != nil {
		o.statsd.Close()
	}
	if o.metrics != nil {
		o.metrics.Close()
	}
}
