// Package peers starts third-party Go HTTP servers — fasthttp (through its
// fasthttpadaptor, serving a net/http handler) and nbio's nbhttp — as bench.StartFuncs,
// so that the gonicorn benchmarks can measure them serving the same handler in the
// same way. It lives in its own module so that gonicorn's go.mod does not carry
// these dependencies; it must never be imported by gonicorn itself.
package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/gonicorn/gonicorn/bench"
)

// FastHTTP serves HTTP/1.1 with fasthttp, the handler adapted by fasthttpadaptor.
func FastHTTP() bench.StartFunc {
	return func(h http.Handler, env bench.ServerEnv) (string, func() error, error) {
		if env.Workload == bench.H2C || env.Workload == bench.UWSGI {
			return "", nil, bench.ErrUnsupported
		}
		srv := &fasthttp.Server{
			Handler:               fasthttpadaptor.NewFastHTTPHandler(h),
			ReadTimeout:           30 * time.Second,
			IdleTimeout:           30 * time.Second,
			MaxConnsPerIP:         0,
			Concurrency:           0,
			NoDefaultServerHeader: true,
		}
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("peers: listen: %w", err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(nl) }()
		stop := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.ShutdownWithContext(ctx); err != nil {
				return fmt.Errorf("peers: fasthttp shutdown: %w", err)
			}
			return <-served
		}
		return nl.Addr().String(), stop, nil
	}
}

// NBIO serves HTTP/1.1 with nbio's nbhttp engine (non-blocking I/O mode), with one
// poller when the process is pinned to one CPU.
func NBIO() bench.StartFunc {
	return func(h http.Handler, env bench.ServerEnv) (string, func() error, error) {
		if env.Workload == bench.H2C || env.Workload == bench.UWSGI {
			return "", nil, bench.ErrUnsupported
		}
		logging.SetLevel(logging.LevelNone)
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("peers: listen: %w", err)
		}
		addr := nl.Addr().String()
		cfg := nbhttp.Config{
			Network: "tcp",
			Addrs:   []string{addr},
			Handler: h,
			Listen: func(string, string) (net.Listener, error) {
				return nl, nil
			},
			MaxLoad: 100000,
		}
		if env.OneCPU {
			cfg.NPoller = 1
		}
		engine := nbhttp.NewEngine(cfg)
		if err := engine.Start(); err != nil {
			nl.Close()
			return "", nil, fmt.Errorf("peers: nbio start: %w", err)
		}
		stop := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := engine.Shutdown(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("peers: nbio did not stop within 10s")
			}
			return nil
		}
		return addr, stop, nil
	}
}
