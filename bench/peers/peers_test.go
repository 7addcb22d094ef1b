package peers

import (
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/bench"
)

// The peers' half of `make bench`:
//
//	cd bench/peers && go test -run '^$' -bench . -benchtime 1x

var servers = []struct {
	name  string
	start bench.StartFunc
}{
	{"fasthttp", FastHTTP()},
	{"nbio", NBIO()},
}

var h1Workloads = []bench.Workload{bench.KeepAlive, bench.Pipelined, bench.ConnPerRequest}

func BenchmarkHello(b *testing.B) {
	for _, w := range h1Workloads {
		for _, s := range servers {
			b.Run(string(w)+"/"+s.name, func(b *testing.B) {
				bench.RunServer(b, s.start, bench.DemoHandler(), bench.Options{Workload: w, WantBody: bench.HelloBody})
			})
		}
	}
}

func BenchmarkWrk(b *testing.B) {
	for _, w := range []bench.Workload{bench.KeepAlive, bench.Pipelined} {
		for _, s := range servers {
			b.Run(string(w)+"/"+s.name, func(b *testing.B) {
				bench.RunTool(b, s.start, bench.DemoHandler(), bench.ToolOptions{Tool: "wrk", Workload: w, WantBody: bench.HelloBody})
			})
		}
	}
}

func TestPeersServeTheDemoHandler(t *testing.T) {
	for _, w := range h1Workloads {
		for _, s := range servers {
			t.Run(string(w)+"/"+s.name, func(t *testing.T) {
				r, err := bench.Measure(s.start, bench.DemoHandler(), bench.Options{
					Workload: w, Conns: 4, Depth: 4, Requests: 40, Warmup: -1,
					Duration: 10 * time.Second, Timeout: 5 * time.Second, WantBody: bench.HelloBody, NoPin: true,
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.Requests != 40 {
					t.Fatalf("%d requests, want 40", r.Requests)
				}
			})
		}
	}
}

func TestPeersRefuseWhatTheyDoNotSpeak(t *testing.T) {
	for _, s := range servers {
		for _, w := range []bench.Workload{bench.H2C, bench.UWSGI} {
			if _, _, err := s.start(bench.DemoHandler(), bench.ServerEnv{Workload: w}); err != bench.ErrUnsupported {
				t.Errorf("%s %s: err = %v, want ErrUnsupported", s.name, w, err)
			}
		}
	}
}
