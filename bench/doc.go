// Package bench is a load generator and a set of `go test -bench` benchmarks that
// serve an http.Handler with gonicorn, over real loopback sockets, side by side with
// other servers serving the same handler.
//
// Run benchmarks a handler of your own:
//
//	func BenchmarkMyHandler(b *testing.B) {
//		bench.Run(b, myHandler, bench.Options{
//			Workload: bench.KeepAlive, // or Pipelined, ConnPerRequest, H2C, UWSGI
//			Path:     "/",
//			WantBody: []byte("Hello, World!"),
//		})
//	}
//
//	go test -run '^$' -bench MyHandler -benchtime 1x
//
// and reports requests/s, p50 and p99 latency (µs), the server's CPU time per
// request (srv-cpu-µs/req), the generator's (gen-cpu-µs/req), and the server's heap
// allocations per request (srv-allocs/req, srv-B/req).
//
// # How it measures
//
// The server runs in the benchmark process; the generator runs in a child process,
// the same test binary re-executed with GONICORN_BENCH_ROLE set (the package's init
// function recognises it and never returns). The server's CPU time is therefore the
// benchmark process's own getrusage(RUSAGE_SELF) delta over the measured load, and
// the generator's is its own. On a machine where the process may use two CPUs or
// more, the server process is pinned to the first allowed CPU with GOMAXPROCS 1 and
// the generator to the second (sched_setaffinity on every thread); Options.NoPin or
// GONICORN_BENCH_PIN=0 turns that off. With both on one small machine, requests/s is
// bounded by the generator as much as by the server: CPU time per request is the
// figure that compares servers fairly.
//
// The generator is built like wrk: one single-threaded edge-triggered epoll loop per
// thread over raw non-blocking sockets, requests serialised once before the run, a
// response parser that only frames responses (Content-Length, chunked, close) and
// checks status and body, a fixed-bucket latency histogram, and no allocation per
// request. h2c uses x/net/http2's Framer and hpack over the loop's own buffers. uWSGI
// packets carry the variables of nginx's uwsgi_params, one connection per request.
// Every run is bounded by a duration and optionally a request count, each request by
// a timeout; any error, unexpected status or wrong body fails the benchmark.
//
// RunTool drives the same in-process server with wrk or h2load instead, to compare
// the generator with them; MeasureIdle measures the server's resident memory per idle
// keep-alive connection.
//
// The package is Linux-only (epoll, sched_setaffinity, /proc). It owns load
// generation and measurement; it must never change how the servers it measures
// behave beyond choosing their event-loop count for one CPU.
package bench
