package bench

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/bench/internal/tools"
)

// Known load generators, run against the same in-process server, check that the
// package's own generator is not the bottleneck and give numbers people can compare
// with elsewhere: wrk for HTTP/1.1 (keep-alive, and pipelined with the Lua script
// below), h2load for h2c.

// ToolOptions describe one run of wrk or h2load.
type ToolOptions struct {
	// Tool is "wrk" or "h2load".
	Tool string
	// Workload is KeepAlive or Pipelined for wrk, H2C for h2load.
	Workload Workload
	// Conns is the number of connections. Default 64 for wrk, 16 for h2load.
	Conns int
	// Depth is the pipeline depth (wrk, default 16) or the concurrent streams per
	// connection (h2load, default 32).
	Depth int
	// Duration of the measured run. Default $GONICORN_BENCH_DURATION or 5s.
	Duration time.Duration
	// Warmup is a run of this length first, not measured. Default 1s; negative: none.
	Warmup time.Duration
	// Path is the request target. Default "/".
	Path string
	// WantBody is checked on a few requests sent before the run, since wrk and
	// h2load only count statuses. Nil: not checked.
	WantBody []byte
	// NoPin and ServerProcs are as in Options.
	NoPin       bool
	ServerProcs int
}

// pipelineLua makes wrk send depth requests per write and wait for all of them: the
// same script as wrk's own examples/pipeline.lua, with the depth as an argument.
const pipelineLua = `init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
   end
   req = table.concat(r)
end

request = function()
   return req
end
`

// RunTool runs wrk or h2load against h served by start and reports the same
// metrics as RunServer. The tool must be installed; a missing tool skips the
// benchmark unless GONICORN_REQUIRE_TOOLS=1, which fails it.
func RunTool(b *testing.B, start StartFunc, h http.Handler, o ToolOptions) *Result {
	b.Helper()
	bin, err := exec.LookPath(o.Tool)
	if err != nil {
		if os.Getenv("GONICORN_REQUIRE_TOOLS") == "1" {
			b.Fatalf("required tool %q not found", o.Tool)
		}
		b.Skipf("tool %q not installed", o.Tool)
	}
	r, err := MeasureTool(bin, start, h, o, b, b.TempDir())
	if errors.Is(err, ErrUnsupported) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	r.Report(b)
	return r
}

// MeasureTool is RunTool without the testing.B: bin is the tool's path, dir a scratch
// directory for wrk's script.
func MeasureTool(bin string, start StartFunc, h http.Handler, o ToolOptions, timer benchTimer, dir string) (*Result, error) {
	if o.Duration <= 0 {
		o.Duration = DurationFromEnv(5 * time.Second)
	}
	switch {
	case o.Warmup == 0:
		o.Warmup = time.Second
	case o.Warmup < 0:
		o.Warmup = 0
	}
	if o.Path == "" {
		o.Path = "/"
	}
	var parse func(string) (*toolOutput, error)
	switch o.Tool {
	case "wrk":
		if o.Workload == "" {
			o.Workload = KeepAlive
		}
		if o.Workload != KeepAlive && o.Workload != Pipelined {
			return nil, fmt.Errorf("bench: wrk runs %s or %s, not %s", KeepAlive, Pipelined, o.Workload)
		}
		o.Conns = cmp0(o.Conns, 64)
		o.Depth = cmp0(o.Depth, 16)
		parse = parseWrk
	case "h2load":
		o.Workload = H2C
		o.Conns = cmp0(o.Conns, 16)
		o.Depth = cmp0(o.Depth, 32)
		parse = parseH2load
	default:
		return nil, fmt.Errorf("bench: unknown tool %q", o.Tool)
	}
	opts := Options{Workload: o.Workload, NoPin: o.NoPin, ServerProcs: o.ServerProcs}
	loadCPU, unpin, err := pinServer(&opts)
	if err != nil {
		return nil, err
	}
	defer unpin()
	addr, stop, err := start(h, ServerEnv{Workload: o.Workload, OneCPU: loadCPU >= 0})
	if err != nil {
		return nil, err
	}
	defer stop()
	// wrk and h2load count statuses only: check a few bodies with our own client.
	if _, err := measureAt(addr, &Options{Workload: o.Workload, Conns: 2, Depth: 2, Requests: 8, Warmup: -1,
		Path: o.Path, WantBody: o.WantBody, NoPin: true}, -1, nil); err != nil {
		return nil, fmt.Errorf("bench: checking responses before %s: %w", o.Tool, err)
	}
	url := "http://" + addr + o.Path
	args := func(d time.Duration) []string {
		secs := strconv.Itoa(max(int(d.Round(time.Second)/time.Second), 1))
		if o.Tool == "h2load" {
			return []string{"-c", strconv.Itoa(o.Conns), "-m", strconv.Itoa(o.Depth), "-t", "1", "-D", secs, url}
		}
		a := []string{"-t1", "-c" + strconv.Itoa(o.Conns), "-d" + secs + "s", "--latency", "--timeout", "10s"}
		if o.Workload == Pipelined {
			script := filepath.Join(dir, "pipeline.lua")
			if err := os.WriteFile(script, []byte(pipelineLua), 0o644); err == nil {
				a = append(a, "-s", script)
			}
			return append(a, url, "--", strconv.Itoa(o.Depth))
		}
		return append(a, url)
	}
	command := func(d time.Duration) *exec.Cmd {
		a := args(d)
		if loadCPU >= 0 {
			if ts, err := exec.LookPath("taskset"); err == nil {
				return exec.Command(ts, append([]string{"-c", strconv.Itoa(loadCPU), bin}, a...)...)
			}
		}
		return exec.Command(bin, a...)
	}
	if o.Warmup > 0 {
		if out, err := command(o.Warmup).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: %s warm-up: %v\n%s", o.Tool, err, out)
		}
	}
	cmd := command(o.Duration)
	cpu0 := processCPU()
	if timer != nil {
		timer.ResetTimer()
	}
	out, err := cmd.CombinedOutput()
	cpu := processCPU() - cpu0
	if timer != nil {
		timer.StopTimer()
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %v\n%s", o.Tool, err, out)
	}
	t, err := parse(string(out))
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w\n%s", o.Tool, err, out)
	}
	r := &Result{
		Workload:  o.Workload,
		Requests:  t.requests,
		Elapsed:   t.elapsed,
		P50:       t.p50,
		P99:       t.p99,
		Mean:      t.mean,
		ServerCPU: cpu,
		Pinned:    loadCPU >= 0,
		Generator: o.Tool,
	}
	if ps := cmd.ProcessState; ps != nil {
		r.LoadCPU = ps.UserTime() + ps.SystemTime()
	}
	return r, nil
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// toolOutput is what a tool printed.
type toolOutput struct {
	requests int64
	elapsed  time.Duration
	p50, p99 time.Duration // wrk --latency; 0 from h2load
	mean     time.Duration
}

// parseWrk reads wrk --latency output; socket errors or non-2xx responses are errors.
func parseWrk(out string) (*toolOutput, error) {
	o, err := tools.ParseWrk(out)
	if err != nil {
		return nil, err
	}
	return &toolOutput{requests: o.Requests, elapsed: o.Elapsed, p50: o.P50, p99: o.P99, mean: o.Mean}, nil
}

// parseH2load reads h2load's summary; failed, errored, timed-out or non-2xx requests
// are errors.
func parseH2load(out string) (*toolOutput, error) {
	o, err := tools.ParseH2load(out)
	if err != nil {
		return nil, err
	}
	return &toolOutput{requests: o.Requests, elapsed: o.Elapsed, mean: o.Mean}, nil
}
