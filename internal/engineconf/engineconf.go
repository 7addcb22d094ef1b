// Package engineconf maps gonicorn's configuration to the engine's options: the one
// place that knows which settings the engine reads, so that engine never depends on
// the configuration package and serves programs outside this module as well.
package engineconf

import (
	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/engine"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logs"
)

// Options returns the engine options of cfg, logging to log and access (nil: no
// access log).
func Options(cfg *config.Config, log zerolog.Logger, access *logs.AccessLog) engine.Options {
	return engine.Options{
		Threads:                   cfg.Threads,
		WorkerConnections:         cfg.WorkerConnections,
		EventLoops:                cfg.EventLoops,
		Timeout:                   cfg.Timeout,
		KeepAlive:                 cfg.KeepAlive,
		HeaderTimeout:             cfg.HeaderTimeout,
		BodyTimeout:               cfg.BodyTimeout,
		WriteTimeout:              cfg.WriteTimeout,
		MinResponseRate:           cfg.MinResponseRate,
		MinRequestRate:            cfg.MinRequestRate,
		MinRateGrace:              cfg.MinRateGrace,
		MaxQueuedStreams:          cfg.MaxQueuedStreams,
		LimitRequestLine:          cfg.LimitRequestLine,
		LimitRequestFields:        cfg.LimitRequestFields,
		LimitRequestFieldSize:     cfg.LimitRequestFieldSize,
		BodyBufferSize:            cfg.BodyBufferSize,
		HTTPProtocols:             cfg.HTTPProtocols,
		HTTP2MaxConcurrentStreams: cfg.HTTP2MaxConcurrentStreams,
		HTTP2InitialWindowSize:    cfg.HTTP2InitialWindowSize,
		HTTP2MaxFrameSize:         cfg.HTTP2MaxFrameSize,
		HTTP2MaxHeaderListSize:    cfg.HTTP2MaxHeaderListSize,
		UWSGIAllowFrom:            cfg.UWSGIAllowFrom,
		ForwardedAllowIPs:         cfg.ForwardedAllowIPs,
		ForwardedForRemoteAddr:    cfg.ForwardedForRemoteAddr,
		ProxyProtocol:             cfg.ProxyProtocol,
		ProxyAllowFrom:            cfg.ProxyAllowFrom,
		Log:                       log,
		Access:                    access,
	}
}

// Listeners returns the engine's view of bound listeners.
func Listeners(ls []*listen.Listener) []*engine.Listener {
	out := make([]*engine.Listener, len(ls))
	for i, l := range ls {
		out[i] = &engine.Listener{Listener: l.Listener, Protocol: l.Protocol, Spec: l.Spec}
	}
	return out
}
