package bench

import (
	"testing"
)

// The benchmarks of `make bench`. Each runs a fixed-length load whatever b.N is:
//
//	go test ./bench -run '^$' -bench . -benchtime 1x
//
// GONICORN_BENCH_DURATION (a Go duration, default 5s) sets the length of each run.
// The server runs in the test process pinned to the first CPU, the load generator
// (this package's, wrk or h2load) in a child process pinned to the second.

type namedServer struct {
	name  string
	start StartFunc
}

var helloServers = []namedServer{
	{"gonicorn", Gonicorn(nil)},
	{"nethttp", NetHTTP()},
	{"nethttp-h2c", NetHTTPH2C()},
}

// serversFor lists the servers compared on w: net/http for HTTP/1.1, net/http with
// h2c for h2c, gonicorn alone for uWSGI.
func serversFor(w Workload) []namedServer {
	switch w {
	case H2C:
		return []namedServer{helloServers[0], helloServers[2]}
	case UWSGI:
		return helloServers[:1]
	}
	return helloServers[:2]
}

// BenchmarkHello: the demo app's GET / under every workload, driven by this
// package's generator.
func BenchmarkHello(b *testing.B) {
	for _, w := range Workloads {
		for _, s := range serversFor(w) {
			b.Run(string(w)+"/"+s.name, func(b *testing.B) {
				RunServer(b, s.start, DemoHandler(), Options{Workload: w, WantBody: HelloBody})
			})
		}
	}
}

// BenchmarkWrk: the same GET / driven by wrk, keep-alive (64 connections) and
// pipelined 16 deep.
func BenchmarkWrk(b *testing.B) {
	for _, w := range []Workload{KeepAlive, Pipelined} {
		for _, s := range serversFor(w) {
			b.Run(string(w)+"/"+s.name, func(b *testing.B) {
				RunTool(b, s.start, DemoHandler(), ToolOptions{Tool: "wrk", Workload: w, WantBody: HelloBody})
			})
		}
	}
}

// BenchmarkH2load: GET / over h2c driven by h2load -c16 -m32.
func BenchmarkH2load(b *testing.B) {
	for _, s := range serversFor(H2C) {
		b.Run("h2c/"+s.name, func(b *testing.B) {
			RunTool(b, s.start, DemoHandler(), ToolOptions{Tool: "h2load", WantBody: HelloBody})
		})
	}
}

// BenchmarkIdleConns: the server's resident memory per idle keep-alive connection,
// over 10,000 connections that each served one request.
func BenchmarkIdleConns(b *testing.B) {
	for _, server := range []string{ServerGonicorn, ServerNetHTTP} {
		b.Run(server, func(b *testing.B) {
			r, err := MeasureIdle(server, 10000)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(r.BytesPerConn/1024, "KiB/conn")
			b.ReportMetric(float64(r.RSSBefore)/(1<<20), "rss-before-MiB")
			b.ReportMetric(float64(r.RSSAfter)/(1<<20), "rss-after-MiB")
		})
	}
}
