// Command peerserver serves the demo application (bench.DemoHandler, the handler of
// cmd/gonicorn) with another Go server, as its own process, so that the binary-as-run
// benchmarks (bench/binbench, scripts/bench-binary.sh) can start it pinned to a CPU
// beside gonicorn:
//
//	peerserver -server nethttp|nethttp-h2c|fasthttp -addr 127.0.0.1:9000
//
// nethttp is a plain net/http Server (HTTP/1.1), nethttp-h2c the same with
// unencrypted HTTP/2 by prior knowledge (http.Server.Protocols), fasthttp is
// fasthttp serving the handler through fasthttpadaptor. It stops on SIGTERM or
// SIGINT within 10 s.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/gonicorn/gonicorn/bench"
)

func main() {
	server := flag.String("server", "nethttp", "nethttp, nethttp-h2c or fasthttp")
	addr := flag.String("addr", "127.0.0.1:8000", "TCP address to listen on")
	flag.Parse()
	if err := run(*server, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "peerserver:", err)
		os.Exit(1)
	}
}

func run(server, addr string) error {
	nl, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	var serve func() error
	var shutdown func(context.Context) error
	switch server {
	case "nethttp", "nethttp-h2c":
		srv := &http.Server{Handler: bench.DemoHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
		if server == "nethttp-h2c" {
			var p http.Protocols
			p.SetHTTP1(true)
			p.SetUnencryptedHTTP2(true)
			srv.Protocols = &p
		}
		serve = func() error { return srv.Serve(nl) }
		shutdown = srv.Shutdown
	case "fasthttp":
		srv := &fasthttp.Server{
			Handler:               fasthttpadaptor.NewFastHTTPHandler(bench.DemoHandler()),
			ReadTimeout:           30 * time.Second,
			IdleTimeout:           60 * time.Second,
			NoDefaultServerHeader: true,
		}
		serve = func() error { return srv.Serve(nl) }
		shutdown = srv.ShutdownWithContext
	default:
		nl.Close()
		return fmt.Errorf("unknown server %q (nethttp, nethttp-h2c, fasthttp)", server)
	}
	served := make(chan error, 1)
	go func() { served <- serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
