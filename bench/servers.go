package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn"
	"github.com/gonicorn/gonicorn/engine"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/engineconf"
)

// ErrUnsupported is returned by a StartFunc for a workload its server cannot serve
// (uWSGI on net/http, say); Run and RunServer skip such a benchmark.
var ErrUnsupported = errors.New("bench: the server does not serve this workload")

// ServerEnv tells a StartFunc what the benchmark needs.
type ServerEnv struct {
	// Workload is the traffic the server will get.
	Workload Workload
	// OneCPU is set when this process is pinned to one CPU (GOMAXPROCS 1): a server
	// with its own event loops should run one.
	OneCPU bool
}

// A StartFunc serves h on a fresh loopback address in this process and returns the
// address and a function that stops the server and waits until it has stopped.
type StartFunc func(h http.Handler, env ServerEnv) (addr string, stop func() error, err error)

// DemoHandler returns the demo application of cmd/gonicorn (see DESIGN.md), so that
// benchmarks of other servers, in other modules, serve exactly the same handler.
func DemoHandler() http.Handler { return demo.Handler() }

// HelloBody is what the demo application answers to GET /.
var HelloBody = []byte("Hello, World!")

// Gonicorn serves with gonicorn's engine, as one worker process would: cfg (nil for
// the defaults) with one event loop when the process is pinned to one CPU. uWSGI
// workloads get a uWSGI listener.
func Gonicorn(cfg *gonicorn.Config) StartFunc {
	return func(h http.Handler, env ServerEnv) (string, func() error, error) {
		c := config.Default()
		if cfg != nil {
			c = config.Config(*cfg)
		}
		if env.OneCPU && c.EventLoops == 0 {
			c.EventLoops = 1
		}
		proto := "http"
		if env.Workload == UWSGI {
			proto = "uwsgi"
		}
		srv, err := engine.New(h, engineconf.Options(&c, zerolog.Nop(), nil))
		if err != nil {
			return "", nil, fmt.Errorf("bench: gonicorn engine: %w", err)
		}
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("bench: listen: %w", err)
		}
		addr := nl.Addr().String()
		served := make(chan error, 1)
		go func() {
			served <- srv.Serve([]*engine.Listener{{Listener: nl, Protocol: proto, Spec: addr}})
		}()
		stop := func() error {
			srv.Close()
			select {
			case err := <-served:
				return err
			case <-time.After(10 * time.Second):
				return errors.New("bench: gonicorn did not stop within 10s")
			}
		}
		return addr, stop, nil
	}
}

// NetHTTP serves HTTP/1.1 with a plain net/http Server.
func NetHTTP() StartFunc {
	return netHTTP(false)
}

// NetHTTPH2C serves with a net/http Server that speaks HTTP/1.1 and unencrypted
// HTTP/2 with prior knowledge (http.Server.Protocols with SetUnencryptedHTTP2).
func NetHTTPH2C() StartFunc {
	return netHTTP(true)
}

func netHTTP(h2c bool) StartFunc {
	return func(h http.Handler, env ServerEnv) (string, func() error, error) {
		if env.Workload == UWSGI || (env.Workload == H2C && !h2c) {
			return "", nil, ErrUnsupported
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
		if h2c {
			var p http.Protocols
			p.SetHTTP1(true)
			p.SetUnencryptedHTTP2(true)
			srv.Protocols = &p
		}
		nl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, fmt.Errorf("bench: listen: %w", err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(nl) }()
		stop := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			srv.Close()
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
		return nl.Addr().String(), stop, nil
	}
}
