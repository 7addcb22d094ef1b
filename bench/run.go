package bench

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// Result is what one benchmark run measured.
type Result struct {
	// Workload is the traffic that was sent.
	Workload Workload
	// Requests is the number of responses received and checked in the measured load.
	Requests int64
	// Elapsed runs from the start of the measured load to its last response.
	Elapsed time.Duration
	// Latency holds the time from sending each request (from connecting, for
	// per-request connections) to its complete response; nil for external tools.
	Latency *Histogram
	// P50, P99 and Mean summarise the latency; an external tool may leave P50 and
	// P99 zero (h2load prints no percentiles).
	P50, P99, Mean time.Duration
	// ServerCPU is the CPU time, user plus system, the server process used during
	// the measured load.
	ServerCPU time.Duration
	// LoadCPU is the generator's CPU time during the measured load.
	LoadCPU time.Duration
	// Allocs and AllocBytes count the server process's heap allocations during the
	// measured load (zero for a server in another process).
	Allocs, AllocBytes uint64
	// Connects counts connections opened; Reconnects counts persistent connections
	// the server closed between requests.
	Connects, Reconnects int64
	// Pinned tells whether server and generator ran on different dedicated CPUs.
	Pinned bool
	// Generator names the load generator: "gonicorn-bench", "wrk" or "h2load".
	Generator string
}

// RequestsPerSecond is the throughput of the measured load.
func (r *Result) RequestsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// ServerCPUPerRequest is the server's CPU time per request: the figure that
// compares servers fairly when the generator shares the machine.
func (r *Result) ServerCPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Requests)
}

// String summarises r on one line.
func (r *Result) String() string {
	return fmt.Sprintf("%s: %d requests in %v, %.0f req/s, p50 %v, p99 %v, server %.2f µs CPU/req, generator %.2f µs CPU/req",
		r.Workload, r.Requests, r.Elapsed.Round(time.Millisecond), r.RequestsPerSecond(),
		r.P50, r.P99, perReqMicros(r.ServerCPU, r.Requests), perReqMicros(r.LoadCPU, r.Requests))
}

func perReqMicros(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(n)
}

// Report reports r as metrics of b: req/s; ns/op, the wall time per request
// (1/throughput); p50-µs, p99-µs and mean-µs latency; srv-cpu-µs/req and
// gen-cpu-µs/req, the server's and the generator's CPU time per request; and
// srv-allocs/req and srv-B/req, the server process's heap allocations per request.
func (r *Result) Report(b *testing.B) {
	b.ReportMetric(float64(r.Elapsed.Nanoseconds())/float64(max(r.Requests, 1)), "ns/op")
	b.ReportMetric(r.RequestsPerSecond(), "req/s")
	if r.P50 > 0 {
		b.ReportMetric(float64(r.P50)/1e3, "p50-µs")
	}
	if r.P99 > 0 {
		b.ReportMetric(float64(r.P99)/1e3, "p99-µs")
	}
	if r.Mean > 0 {
		b.ReportMetric(float64(r.Mean)/1e3, "mean-µs")
	}
	b.ReportMetric(perReqMicros(r.ServerCPU, r.Requests), "srv-cpu-µs/req")
	b.ReportMetric(perReqMicros(r.LoadCPU, r.Requests), "gen-cpu-µs/req")
	if r.Allocs > 0 {
		b.ReportMetric(float64(r.Allocs)/float64(max(r.Requests, 1)), "srv-allocs/req")
		b.ReportMetric(float64(r.AllocBytes)/float64(max(r.Requests, 1)), "srv-B/req")
	}
}

// Run benchmarks h served by gonicorn (o.Config, or the defaults) under the load o
// describes, and reports requests/s, p50 and p99 latency, the server's and the
// generator's CPU time per request and the server's allocations per request. It
// ignores b.N: the load is bounded by o.Duration and o.Requests, so run it with
// -benchtime 1x. Errors, unexpected statuses and wrong bodies (when o.WantBody is set)
// fail the benchmark.
//
//	func BenchmarkHello(b *testing.B) {
//		bench.Run(b, myHandler, bench.Options{Path: "/", WantBody: []byte("hi")})
//	}
func Run(b *testing.B, h http.Handler, o Options) *Result {
	b.Helper()
	return RunServer(b, Gonicorn(o.Config), h, o)
}

// RunServer is Run against the server that start starts, so that other servers can
// be measured serving the same handler in the same way. A StartFunc returning
// ErrUnsupported skips the benchmark.
func RunServer(b *testing.B, start StartFunc, h http.Handler, o Options) *Result {
	b.Helper()
	r, err := Measure(start, h, o, b)
	if errors.Is(err, ErrUnsupported) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	r.Report(b)
	return r
}

// benchTimer is the part of testing.B that Measure drives.
type benchTimer interface {
	ResetTimer()
	StopTimer()
}

// Measure runs one load against h served by start and returns what it measured.
// The server runs in this process, the generator in a child process (this binary,
// re-executed); both are pinned to their own CPU unless o says otherwise. timer, when
// not nil, is reset when the measured load starts and stopped when it ends.
func Measure(start StartFunc, h http.Handler, o Options, timer benchTimer) (*Result, error) {
	pin, unpin, err := pinServer(&o)
	if err != nil {
		return nil, err
	}
	defer unpin()
	env := ServerEnv{Workload: o.Workload, OneCPU: pin >= 0}
	if env.Workload == "" {
		env.Workload = KeepAlive
	}
	addr, stop, err := start(h, env)
	if err != nil {
		return nil, err
	}
	res, err := measureAt(addr, &o, pin, timer)
	if serr := stop(); serr != nil && err == nil {
		err = fmt.Errorf("bench: stopping the server: %w", serr)
	}
	return res, err
}

// pinServer pins this process to its first allowed CPU with GOMAXPROCS
// o.ServerProcs (default 1), when o and the machine allow, and returns the CPU left for the generator (-1: none) and
// a function that undoes the pinning.
func pinServer(o *Options) (loadCPU int, unpin func(), err error) {
	if !o.pinAllowed() {
		return -1, func() {}, nil
	}
	orig, cpus, err := allowedCPUs()
	if err != nil || len(cpus) < 2 {
		return -1, func() {}, nil
	}
	if err := pinToCPU(cpus[0]); err != nil {
		return -1, nil, fmt.Errorf("bench: pinning the server: %w", err)
	}
	prev := runtime.GOMAXPROCS(max(o.ServerProcs, 1))
	return cpus[1], func() {
		runtime.GOMAXPROCS(prev)
		pinProcess(orig)
	}, nil
}

// measureAt runs the generator process against addr.
func measureAt(addr string, o *Options, loadCPU int, timer benchTimer) (*Result, error) {
	spec, err := o.resolve(addr)
	if err != nil {
		return nil, err
	}
	spec.CPU = loadCPU
	gen, err := startChild("load", spec)
	if err != nil {
		return nil, err
	}
	defer gen.stop(10 * time.Second)
	if _, err := gen.next(30*time.Second + 2*spec.Warmup + spec.Timeout); err != nil {
		return nil, fmt.Errorf("%w (workload %s against %s)", err, spec.Workload, addr)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	if timer != nil {
		timer.ResetTimer()
	}
	if _, err := gen.stdin.Write([]byte("go\n")); err != nil {
		return nil, fmt.Errorf("bench: starting the load: %w", err)
	}
	m, err := gen.next(spec.Duration + 2*spec.Timeout + 30*time.Second)
	cpu := processCPU() - cpu0
	if timer != nil {
		timer.StopTimer()
	}
	runtime.ReadMemStats(&ms1)
	if err != nil {
		return nil, fmt.Errorf("%w (workload %s against %s)", err, spec.Workload, addr)
	}
	if m.Result == nil {
		return nil, errors.New("bench: the generator sent no result")
	}
	lat, ok := m.Result.Hist.histogram()
	if !ok {
		return nil, errors.New("bench: the generator sent a malformed histogram")
	}
	r := &Result{
		Workload:   spec.Workload,
		Requests:   m.Result.Requests,
		Elapsed:    m.Result.Elapsed,
		Latency:    lat,
		P50:        lat.Quantile(0.5),
		P99:        lat.Quantile(0.99),
		Mean:       lat.Mean(),
		ServerCPU:  cpu,
		LoadCPU:    m.Result.CPU,
		Allocs:     ms1.Mallocs - ms0.Mallocs,
		AllocBytes: ms1.TotalAlloc - ms0.TotalAlloc,
		Connects:   m.Result.Connects,
		Reconnects: m.Result.Reconnects,
		Pinned:     loadCPU >= 0,
		Generator:  "gonicorn-bench",
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("bench: no request completed (workload %s against %s)", spec.Workload, addr)
	}
	return r, nil
}
