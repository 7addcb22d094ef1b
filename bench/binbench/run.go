// Package binbench benchmarks gonicorn's binary as users run it, side by side in
// one run with its peers: net/http and fasthttp (bench/peers/cmd/peerserver),
// net/http's h2c, and, behind a real nginx, uWSGI 2.0 with a Python hello-world app.
//
// Every server runs as its own process pinned to the server CPU (taskset -c 0);
// gonicorn is `gonicorn -w 1` (a master and one worker). The load generator (wrk or
// h2load) and nginx, when there is one, run pinned to the load CPU (taskset -c 1).
// The server's CPU time is utime+stime of its whole process tree from /proc, read
// before and after the measured run, divided by the requests served. Every wrk
// response's status is counted and its length checked against a probe's (whose
// status and body are checked before and after each run), h2load's statuses and
// body bytes are checked, and a few responses are checked with Go's client before
// each run: a run with any wrong answer, error or timeout has no numbers.
//
// It also counts system calls per request (strace -c -f attached to gonicorn's
// worker and to uWSGI, under a fixed number of requests through nginx uwsgi_pass).
//
// cmd/binbench is the command; scripts/bench-binary.sh and `make bench` run it.
package binbench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Tools are the programs the harness runs.
type Tools struct {
	Gonicorn    string // bin/gonicorn, the demo app
	GonicornB   string // optional: another build, measured beside it as gonicorn-b
	PeerServer  string // bench/peers/cmd/peerserver
	UWSGI       string // uwsgi (Debian uwsgi-core, with uwsgi-plugin-python3)
	Nginx       string
	UWSGIParams string // nginx's uwsgi_params file
	Wrk         string
	H2load      string
	Strace      string
}

// Config is one harness run.
type Config struct {
	Tools Tools
	// Duration of each measured run (whole seconds; wrk and h2load count in seconds).
	Duration time.Duration
	// Warmup is a run of the same load before each measured one, not counted; 0: none.
	Warmup time.Duration
	// Rounds is how many times each scenario runs; reports show medians.
	Rounds int
	// Only, when not empty, keeps the runs whose "scenario/server" or scenario
	// matches one of these path.Match patterns ("uwsgi-tcp", "*/gonicorn",
	// "syscalls-*").
	Only []string
	// StraceRequests is the number of requests counted under strace.
	StraceRequests int
	// ServerCPU and LoadCPU are the CPUs servers and load (wrk, h2load, nginx,
	// strace) are pinned to; -1: not pinned.
	ServerCPU, LoadCPU int
	// Log gets a line per run as it ends.
	Log io.Writer
}

// Scenario is one comparison: a load against several servers, directly or through
// nginx.
type Scenario struct {
	Name  string
	Title string
	Load  Load
	// Mode is what the servers speak: http, uwsgi-tcp or uwsgi-unix.
	Mode string
	// Nginx is "" (the load hits the server), "uwsgi" (uwsgi_pass) or "proxy"
	// (proxy_pass with upstream keepalive).
	Nginx string
	// Servers run in this order in the first round (rotated in later ones);
	// Baseline is the one ratios are taken against.
	Servers  []string
	Baseline string
	// Reloads sends SIGHUP to gonicorn's master every second of the measured run
	// (a new worker each time, the old one stopping gracefully): a check that no
	// request fails, run in the first round only.
	Reloads bool
}

// Scenarios are every comparison `make bench` makes.
var Scenarios = []Scenario{
	{Name: "keepalive", Title: "HTTP/1.1 keep-alive", Load: Load{Tool: "wrk", Conns: 64},
		Mode: modeHTTP, Servers: []string{Gonicorn, NetHTTP, FastHTTP}, Baseline: NetHTTP},
	{Name: "pipelined", Title: "HTTP/1.1 pipelined 16 deep", Load: Load{Tool: "wrk", Conns: 64, Depth: 16},
		Mode: modeHTTP, Servers: []string{Gonicorn, NetHTTP, FastHTTP}, Baseline: NetHTTP},
	{Name: "close", Title: "HTTP/1.1 new connection per request", Load: Load{Tool: "wrk", Conns: 64, Close: true},
		Mode: modeHTTP, Servers: []string{Gonicorn, NetHTTP, FastHTTP}, Baseline: NetHTTP},
	{Name: "h2c", Title: "h2c (prior knowledge)", Load: Load{Tool: "h2load", Conns: 16, Depth: 32},
		Mode: modeHTTP, Servers: []string{Gonicorn, NetHTTPH2C}, Baseline: NetHTTPH2C},
	{Name: "uwsgi-tcp", Title: "nginx uwsgi_pass over TCP", Load: Load{Tool: "wrk", Conns: 32},
		Mode: modeUWSGITCP, Nginx: "uwsgi", Servers: []string{Gonicorn, UWSGI}, Baseline: UWSGI},
	{Name: "uwsgi-unix", Title: "nginx uwsgi_pass over a unix socket", Load: Load{Tool: "wrk", Conns: 32},
		Mode: modeUWSGIUnix, Nginx: "uwsgi", Servers: []string{Gonicorn, UWSGI}, Baseline: UWSGI},
	{Name: "proxy", Title: "nginx proxy_pass, upstream keepalive", Load: Load{Tool: "wrk", Conns: 32},
		Mode: modeHTTP, Nginx: "proxy", Servers: []string{Gonicorn, NetHTTP}, Baseline: NetHTTP},
	{Name: "reload-uwsgi-tcp", Title: "HUP reloads under load, nginx uwsgi_pass over TCP", Load: Load{Tool: "wrk", Conns: 32},
		Mode: modeUWSGITCP, Nginx: "uwsgi", Servers: []string{Gonicorn}, Reloads: true},
	{Name: "reload-uwsgi-unix", Title: "HUP reloads under load, nginx uwsgi_pass over a unix socket", Load: Load{Tool: "wrk", Conns: 32},
		Mode: modeUWSGIUnix, Nginx: "uwsgi", Servers: []string{Gonicorn}, Reloads: true},
}

// SyscallScenarios are the strace runs: nginx uwsgi_pass to each server.
var SyscallScenarios = []Scenario{
	{Name: "syscalls-uwsgi-tcp", Title: "nginx uwsgi_pass over TCP", Mode: modeUWSGITCP, Nginx: "uwsgi",
		Servers: []string{Gonicorn, UWSGI}, Baseline: UWSGI},
	{Name: "syscalls-uwsgi-unix", Title: "nginx uwsgi_pass over a unix socket", Mode: modeUWSGIUnix, Nginx: "uwsgi",
		Servers: []string{Gonicorn, UWSGI}, Baseline: UWSGI},
}

// Result is one measured run of one server in one scenario.
type Result struct {
	Scenario  string  `json:"scenario"`
	Server    string  `json:"server"`
	Round     int     `json:"round"`
	Requests  int64   `json:"requests"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"req_per_s"`
	// CPUPerReq is the server process tree's CPU µs per request.
	CPUPerReq float64 `json:"server_cpu_us_per_req"`
	// NginxCPUPerReq is nginx's (master and worker) CPU µs per request, if any.
	NginxCPUPerReq float64 `json:"nginx_cpu_us_per_req,omitempty"`
	// LoadCPUPerReq is the load generator's own CPU µs per request.
	LoadCPUPerReq float64 `json:"load_cpu_us_per_req"`
	// P50 and P99 are latencies in µs (wrk); 0 when unknown.
	P50 float64 `json:"p50_us,omitempty"`
	P99 float64 `json:"p99_us,omitempty"`
	// Reloads is the number of SIGHUPs sent during the run (Scenario.Reloads).
	Reloads int `json:"reloads,omitempty"`
	// OtherServerCPU and OtherLoadCPU are the share (%) of the run's wall time
	// that other processes ran on the server's CPU and on the load's (CPU time
	// /proc/stat counts there minus what the server, or the load tool and nginx,
	// used): other work on a shared machine. -1: not known (CPUs not pinned).
	OtherServerCPU float64 `json:"other_server_cpu_pct"`
	OtherLoadCPU   float64 `json:"other_load_cpu_pct"`
	// Err is why the run has no numbers.
	Err string `json:"error,omitempty"`
}

// Syscalls is one strace count.
type Syscalls struct {
	Scenario string         `json:"scenario"`
	Server   string         `json:"server"`
	Requests int64          `json:"requests"`
	Counts   []SyscallCount `json:"counts"`
	// Raw is strace's own table.
	Raw string `json:"raw,omitempty"`
	Err string `json:"error,omitempty"`
}

// Report is everything a harness run measured.
type Report struct {
	Start     time.Time  `json:"start"`
	Config    string     `json:"config"`
	Results   []Result   `json:"results"`
	Syscalls  []Syscalls `json:"syscalls"`
	Scenarios []Scenario `json:"-"`
}

// Failed reports whether any run failed.
func (r *Report) Failed() bool {
	for _, x := range r.Results {
		if x.Err != "" {
			return true
		}
	}
	for _, x := range r.Syscalls {
		if x.Err != "" {
			return true
		}
	}
	return false
}

// selected reports whether the run scenario/server is wanted.
func (c *Config) selected(scenario, server string) bool {
	if len(c.Only) == 0 {
		return true
	}
	for _, p := range c.Only {
		if ok, _ := path.Match(p, scenario+"/"+server); ok {
			return true
		}
		if ok, _ := path.Match(p, scenario); ok {
			return true
		}
	}
	return false
}

// Run runs every selected scenario Rounds times (servers in a rotated order each
// round), then the selected strace counts. A failed run is recorded with its reason
// and the others go on.
func (c *Config) Run() (*Report, error) {
	if c.Rounds < 1 {
		c.Rounds = 1
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	rep := &Report{Start: time.Now().UTC(), Config: c.describe()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			rep.Config += ", load average before " + strings.Join(f[:3], " ")
		}
	}
	for _, sc := range c.withB(Scenarios) {
		if c.anySelected(sc) {
			rep.Scenarios = append(rep.Scenarios, sc)
		}
	}
	for round := 1; round <= c.Rounds; round++ {
		for _, sc := range rep.Scenarios {
			if sc.Reloads && round > 1 {
				continue
			}
			n := len(sc.Servers)
			for i := range n {
				srv := sc.Servers[(i+round-1)%n]
				if !c.selected(sc.Name, srv) || stopped.Load() {
					continue
				}
				r := c.measure(sc, srv, round)
				rep.Results = append(rep.Results, r)
				c.logResult(r)
			}
		}
	}
	for _, sc := range c.withB(SyscallScenarios) {
		for _, srv := range sc.Servers {
			if !c.selected(sc.Name, srv) || stopped.Load() {
				continue
			}
			s := c.countSyscalls(sc, srv)
			rep.Syscalls = append(rep.Syscalls, s)
			if s.Err != "" {
				fmt.Fprintf(c.Log, "%-20s %-12s FAILED: %s\n", s.Scenario, s.Server, s.Err)
			} else {
				var total int64
				for _, x := range s.Counts {
					total += x.Calls
				}
				fmt.Fprintf(c.Log, "%-20s %-12s %.1f system calls per request (%d requests)\n",
					s.Scenario, s.Server, float64(total)/float64(s.Requests), s.Requests)
			}
		}
	}
	if len(rep.Results) == 0 && len(rep.Syscalls) == 0 {
		return rep, fmt.Errorf("no benchmark matches %q", strings.Join(c.Only, ","))
	}
	return rep, nil
}

// withB returns scs with gonicorn-b after gonicorn when a second build is given.
func (c *Config) withB(scs []Scenario) []Scenario {
	if c.Tools.GonicornB == "" {
		return scs
	}
	out := make([]Scenario, len(scs))
	for i, sc := range scs {
		sc.Servers = append([]string{Gonicorn, GonicornB}, sc.Servers[1:]...)
		out[i] = sc
	}
	return out
}

func (c *Config) anySelected(sc Scenario) bool {
	for _, s := range sc.Servers {
		if c.selected(sc.Name, s) {
			return true
		}
	}
	return false
}

func (c *Config) describe() string {
	return fmt.Sprintf("duration %v, warm-up %v, %d round(s), servers on CPU %d, load and nginx on CPU %d, %d requests under strace",
		c.Duration, c.Warmup, c.Rounds, c.ServerCPU, c.LoadCPU, c.StraceRequests)
}

func (c *Config) logResult(r Result) {
	if r.Err != "" {
		fmt.Fprintf(c.Log, "%-12s %-12s round %d: FAILED: %s\n", r.Scenario, r.Server, r.Round, r.Err)
		return
	}
	ng := ""
	if r.NginxCPUPerReq > 0 {
		ng = fmt.Sprintf(", nginx %.1f µs", r.NginxCPUPerReq)
	}
	if r.Reloads > 0 {
		ng += fmt.Sprintf(", %d reloads, no request failed", r.Reloads)
	}
	if r.OtherServerCPU >= 0 {
		ng += fmt.Sprintf("  (other work: %.0f%% of CPU %d, %.0f%% of CPU %d)", r.OtherServerCPU, c.ServerCPU, r.OtherLoadCPU, c.LoadCPU)
	}
	fmt.Fprintf(c.Log, "%-12s %-12s round %d: %9.0f req/s  server CPU %6.2f µs/req  p99 %s%s\n",
		r.Scenario, r.Server, r.Round, r.ReqPerSec, r.CPUPerReq, usText(r.P99), ng)
}

// setup starts srv (and nginx in front of it, if sc has one) in a fresh temp dir
// and returns the URL the load goes to and a function that stops it all and
// removes the dir.
func (c *Config) setup(sc Scenario, srv string) (s *server, ng *proc, dir, url string, cleanup func() error, err error) {
	dir, err = os.MkdirTemp("", "gonicorn-binbench-")
	if err != nil {
		return nil, nil, "", "", nil, err
	}
	cleanup = func() error {
		var errs []error
		if ng != nil {
			errs = append(errs, ng.stop(syscall.SIGTERM))
		}
		if s != nil {
			errs = append(errs, s.stop())
		}
		errs = append(errs, os.RemoveAll(dir))
		return errors.Join(errs...)
	}
	fail := func(e error) (*server, *proc, string, string, func() error, error) {
		cleanup()
		return nil, nil, "", "", nil, e
	}
	if s, err = c.startServer(dir, srv, sc.Mode); err != nil {
		return fail(err)
	}
	url = "http://" + s.upstream + "/"
	if sc.Nginx != "" {
		var addr string
		if ng, addr, err = c.startNginx(dir, s.upstream, sc.Nginx == "proxy"); err != nil {
			return fail(err)
		}
		url = "http://" + addr + "/"
	}
	if err = checkSample(url, sc.Load.Tool == "h2load"); err != nil {
		if ng != nil {
			err = fmt.Errorf("%w\nnginx error.log: %s", err, nginxErrors(dir+"/nginx"))
		}
		return fail(fmt.Errorf("%w\n%s output: %s", err, srv, clip(s.proc.out.String(), 2000)))
	}
	return s, ng, dir, url, cleanup, nil
}

// measure runs sc's load against srv once: warm-up, then the measured run between
// two reads of the CPU clocks.
func (c *Config) measure(sc Scenario, srv string, round int) (res Result) {
	res = Result{Scenario: sc.Name, Server: srv, Round: round}
	s, ng, dir, url, cleanup, err := c.setup(sc, srv)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer func() {
		if err := cleanup(); err != nil && res.Err == "" {
			res.Err = "stopping: " + err.Error()
		}
	}()
	if c.Warmup > 0 {
		if _, err := c.runLoad(dir, url, sc.Load, c.Warmup); err != nil {
			res.Err = "warm-up: " + err.Error()
			return res
		}
	}
	cpu0, err := treeCPU(s.proc.pid())
	if err != nil {
		res.Err = err.Error()
		return res
	}
	var ng0 time.Duration
	if ng != nil {
		ng0, _ = treeCPU(ng.pid())
	}
	busy0, _ := cpuBusy()
	var reloaded func() (int, error)
	if sc.Reloads {
		if reloaded, err = c.reloadEverySecond(s); err != nil {
			res.Err = err.Error()
			return res
		}
	}
	t, err := c.runLoad(dir, url, sc.Load, c.Duration)
	if reloaded != nil {
		n, rerr := reloaded()
		res.Reloads = n
		if err == nil && rerr != nil {
			err = rerr
		}
		if err != nil {
			err = fmt.Errorf("across %d reloads: %w", n, err)
		}
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	cpu1, err := treeCPU(s.proc.pid())
	if err != nil {
		res.Err = err.Error()
		return res
	}
	busy1, _ := cpuBusy()
	var ngCPU time.Duration
	if ng != nil {
		ng1, _ := treeCPU(ng.pid())
		ngCPU = ng1 - ng0
	}
	res.OtherServerCPU, res.OtherLoadCPU = -1, -1
	other := func(cpu int, ours time.Duration) float64 {
		d := busy1[cpu] - busy0[cpu] - ours
		return max(0, 100*d.Seconds()/t.elapsed.Seconds())
	}
	if c.ServerCPU >= 0 && c.LoadCPU >= 0 && busy0 != nil && busy1 != nil {
		res.OtherServerCPU = other(c.ServerCPU, cpu1-cpu0)
		res.OtherLoadCPU = other(c.LoadCPU, t.cpu+ngCPU)
	}
	n := float64(t.requests)
	res.Requests = t.requests
	res.Seconds = t.elapsed.Seconds()
	res.ReqPerSec = n / t.elapsed.Seconds()
	res.CPUPerReq = float64((cpu1 - cpu0).Microseconds()) / n
	res.LoadCPUPerReq = float64(t.cpu.Microseconds()) / n
	res.P50 = float64(t.p50.Microseconds())
	res.P99 = float64(t.p99.Microseconds())
	if ng != nil {
		res.NginxCPUPerReq = float64(ngCPU.Microseconds()) / n
	}
	if s.proc.exited() {
		res.Err = fmt.Sprintf("%s exited during the run: %s", srv, clip(s.proc.out.String(), 2000))
	}
	return res
}

// reloadEverySecond sends SIGHUP to s's master every second (every half of a
// shorter run), leaving the run's last interval without one. The returned function
// stops the signals and returns how many were sent, and an error unless the worker
// serving before them is gone within 30 s (the reloads happened).
func (c *Config) reloadEverySecond(s *server) (func() (int, error), error) {
	first, err := s.worker(10 * time.Second)
	if err != nil {
		return nil, err
	}
	every := min(time.Second, c.Duration/2)
	count := max(int(c.Duration/every)-1, 1)
	stop, done := make(chan struct{}), make(chan int, 1)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		n := 0
		for n < count {
			select {
			case <-stop:
				done <- n
				return
			case <-t.C:
			}
			if s.proc.cmd.Process.Signal(syscall.SIGHUP) == nil {
				n++
			}
		}
		done <- n
	}()
	return func() (int, error) {
		close(stop)
		n := <-done
		if n == 0 {
			return 0, errors.New("the run ended before a SIGHUP was sent")
		}
		deadline := time.Now().Add(30 * time.Second)
		for slices.Contains(descendants(s.proc.pid()), first) {
			if time.Now().After(deadline) {
				return n, fmt.Errorf("worker %d still serves 30 s after %d SIGHUPs", first, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return n, nil
	}, nil
}

// countSyscalls counts the system calls of srv's worker under c.StraceRequests
// requests through nginx.
func (c *Config) countSyscalls(sc Scenario, srv string) (res Syscalls) {
	res = Syscalls{Scenario: sc.Name, Server: srv, Requests: int64(c.StraceRequests)}
	s, _, dir, url, cleanup, err := c.setup(sc, srv)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer func() {
		if err := cleanup(); err != nil && res.Err == "" {
			res.Err = "stopping: " + err.Error()
		}
	}()
	// A short warm-up: the worker's threads and connections exist before counting.
	if _, err := c.runLoad(dir, url, Load{Tool: "wrk", Conns: 32}, time.Second); err != nil {
		res.Err = "warm-up: " + err.Error()
		return res
	}
	pid, err := s.worker(10 * time.Second)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	// nginx may still be passing the warm-up's last requests: count none of them.
	waitQuiet(pid, 3*time.Second)
	counts, raw, err := c.traceRequests(dir, pid, url, c.StraceRequests)
	res.Raw = raw
	if err != nil {
		res.Err = err.Error()
		return res
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i].Calls > counts[j].Calls })
	res.Counts = counts
	return res
}

func usText(us float64) string {
	switch {
	case us <= 0:
		return "–"
	case us >= 1000:
		return fmt.Sprintf("%.1f ms", us/1000)
	}
	return fmt.Sprintf("%.0f µs", us)
}
