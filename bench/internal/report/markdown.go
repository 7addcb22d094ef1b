package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Env describes where and how the benchmarks ran, for the report's header.
type Env struct {
	Date      string   // of the run
	Machine   string   // CPU model and count, memory
	OS        string   // kernel
	Go        string   // go version
	LoadAvg   string   // /proc/loadavg before the run: other work on the machine skews numbers
	Duration  string   // of each measured run
	Commands  []string // the command lines that produced the numbers
	ChartFile string   // the PNG beside the markdown, if any
	// Binary is bench/binbench's markdown (binary.md): the binary-as-run tables,
	// shown first as the headline. Empty: none.
	Binary string
}

// Target is one performance goal and whether the run met it.
type Target struct {
	Name     string
	Want     string
	Measured string
	Met      bool
	Known    bool // false when the rows needed were missing
}

// baseline names the server a workload's ratios are taken against.
func baseline(workload string) string {
	switch workload {
	case "h2c":
		return "nethttp-h2c"
	case "uwsgi", "idle":
		return ""
	}
	return "nethttp"
}

func ratio(rows []Row, group, workload, unit string, inverse bool) (float64, float64, float64, bool) {
	g, ok1 := Find(rows, group, workload, "gonicorn")
	n, ok2 := Find(rows, group, workload, baseline(workload))
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	a, ok1 := g.Metric(unit)
	b, ok2 := n.Metric(unit)
	if !ok1 || !ok2 || a == 0 || b == 0 {
		return 0, 0, 0, false
	}
	if inverse {
		return b / a, a, b, true
	}
	return a / b, a, b, true
}

// Targets evaluates the goals: with wrk (HTTP/1.1) and h2load (h2c) as the
// issues specify, server pinned to one core and the tool on the other.
func Targets(rows []Row) []Target {
	var ts []Target
	speed := func(name, group, workload, base string, want float64) {
		t := Target{Name: name, Want: fmt.Sprintf("≥ %.1fx %s req/s", want, base)}
		if r, a, b, ok := ratio(rows, group, workload, "req/s", false); ok {
			t.Known, t.Met = true, r >= want
			t.Measured = fmt.Sprintf("%.2fx (%s vs %s req/s)", r, Thousands(a), Thousands(b))
			if c, ca, cb, ok := ratio(rows, group, workload, "srv-cpu-µs/req", true); ok {
				t.Measured += fmt.Sprintf("; server CPU/req %.2fx less (%.2f vs %.2f µs)", c, ca, cb)
			}
		}
		ts = append(ts, t)
	}
	speed("HTTP/1.1 keep-alive, wrk -c64", "Wrk", "h1-keepalive", "net/http", 1.5)
	speed("HTTP/1.1 pipelined 16 deep, wrk -c64", "Wrk", "h1-pipelined", "net/http", 4)
	t := Target{Name: "10,000 idle keep-alive connections", Want: "≤ 2.4 KiB RSS each"}
	if r, ok := Find(rows, "IdleConns", "idle", "gonicorn"); ok {
		if v, ok := r.Metric("KiB/conn"); ok {
			t.Known, t.Met = true, v <= 2.4
			t.Measured = fmt.Sprintf("%.2f KiB/conn", v)
			if n, ok := Find(rows, "IdleConns", "idle", "nethttp"); ok {
				if nv, ok := n.Metric("KiB/conn"); ok {
					t.Measured += fmt.Sprintf(" (net/http %.2f)", nv)
				}
			}
		}
	}
	ts = append(ts, t)
	speed("h2c, h2load -c16 -m32", "H2load", "h2c", "net/http h2c", 4)
	return ts
}

// WriteMarkdown writes the report: header, targets, one table per workload and
// generator, idle connections, and the generator against wrk and h2load.
func WriteMarkdown(w io.Writer, env Env, rows []Row, fails []Failure) error {
	var b strings.Builder
	b.WriteString("# gonicorn benchmarks\n\n")
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- OS: %s\n- Go: %s\n", env.Date, env.Machine, env.OS, env.Go)
	if env.LoadAvg != "" {
		fmt.Fprintf(&b, "- Load average before the run: %s\n", env.LoadAvg)
	}
	if env.Duration != "" {
		fmt.Fprintf(&b, "- Each measured run: %s; the in-process figures are medians of %d run(s), the binary-as-run ones say their own rounds\n", env.Duration, maxRuns(rows))
	}
	b.WriteString("- Other engineers' compiles and tests may have run on the same machine (the benchmarks themselves never ran two at once: /tmp/gonicorn-bench.lock).\n")
	b.WriteString("- The demo app's `GET /` (`Hello, World!`); a run with any error, unexpected status or wrong body has no numbers.\n")
	if len(env.Commands) > 0 {
		b.WriteString("\nCommands:\n\n```\n")
		for _, c := range env.Commands {
			b.WriteString(c + "\n")
		}
		b.WriteString("```\n")
	}
	if env.ChartFile != "" {
		fmt.Fprintf(&b, "\n![requests/s and server CPU per request](%s)\n", env.ChartFile)
	}

	if env.Binary != "" {
		b.WriteString("\n## The binary as users run it\n\n")
		b.WriteString("Each server is its own process started as users start it (`gonicorn -w 1`: a master and one worker; net/http, fasthttp and net/http h2c from `bench/peers/cmd/peerserver`; uWSGI 2.0 with the python3 plugin and a hello-world WSGI app, one process), pinned to CPU 0 with `taskset`; wrk or h2load, and nginx (one worker) when there is one, pinned to CPU 1. Server CPU is utime+stime of the server's whole process tree (/proc) over the measured run, per request; nginx's is reported beside it. Every wrk response's status and body is checked by a Lua script, h2load's statuses and body bytes, and a few responses with Go's client before each run. Ratios are taken in the same run.\n\n")
		b.WriteString(strings.TrimPrefix(strings.ReplaceAll("\n"+strings.TrimSpace(env.Binary), "\n### ", "\n#### "), "\n") + "\n")
		b.WriteString("\n## In-process benchmarks\n\nThe server inside the benchmark process (package `bench`), pinned to CPU 0 with GOMAXPROCS 1 and one event loop; its load generator (`gonicorn-bench`, a child process checking every status and body, or wrk/h2load) pinned to CPU 1. These add allocations per request and idle-connection memory to the headline numbers above.\n")
	}
	var known []Target
	for _, t := range Targets(rows) {
		if t.Known {
			known = append(known, t)
		}
	}
	if len(known) > 0 {
		b.WriteString("\n### Targets\n\n| target | goal | measured | |\n|---|---|---|---|\n")
	}
	for _, t := range known {
		verdict := "**not met**"
		if t.Met {
			verdict = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Want, orDash(t.Measured), verdict)
	}

	if len(fails) > 0 {
		b.WriteString("\n### Failed benchmarks\n\nA run with errors, unexpected statuses or wrong bodies has no numbers; the tables below summarise the runs that passed, if any.\n\n| benchmark | runs that passed | first reason |\n|---|--:|---|\n")
		for _, f := range fails {
			passed := 0
			if parts := strings.Split(f.Name, "/"); len(parts) == 3 {
				if r, ok := Find(rows, parts[0], parts[1], parts[2]); ok {
					passed = r.Runs
				}
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", f.Name, passed, strings.ReplaceAll(orDash(f.Reason), "|", "\\|"))
		}
	}

	b.WriteString("\n### Results\n\nServer CPU µs/req is the figure that compares servers fairly: on two cores, requests/s is bounded by the load generator as much as by the server. Ratios are against net/http (net/http h2c for h2c).\n")
	for _, sec := range sections(rows) {
		if sec.group == "Binary" {
			continue // in the headline's own tables
		}
		fmt.Fprintf(&b, "\n#### %s — %s\n\n", sec.workload, sec.generator)
		b.WriteString("| server | req/s | vs net/http | server CPU µs/req | vs net/http | p50 µs | p99 µs | allocs/req | generator CPU µs/req |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		base, hasBase := Find(rows, sec.group, sec.workload, baseline(sec.workload))
		for _, r := range sec.rows {
			rps, _ := r.Metric("req/s")
			cpu, _ := r.Metric("srv-cpu-µs/req")
			vsRPS, vsCPU := "", ""
			if hasBase {
				if b, ok := base.Metric("req/s"); ok && b > 0 {
					vsRPS = fmt.Sprintf("%.2fx", rps/b)
				}
				if b, ok := base.Metric("srv-cpu-µs/req"); ok && cpu > 0 {
					vsCPU = fmt.Sprintf("%.2fx less", b/cpu)
				}
			}
			p50, p99 := metricText(r, "p50-µs", "%.0f"), metricText(r, "p99-µs", "%.0f")
			if p50 == "" {
				p50 = metricText(r, "mean-µs", "%.0f (mean)")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s | %s | %s | %s | %s |\n",
				r.Server, Thousands(rps), orDash(vsRPS), cpu, orDash(vsCPU), orDash(p50), orDash(p99),
				orDash(metricText(r, "srv-allocs/req", "%.1f")), orDash(metricText(r, "gen-cpu-µs/req", "%.2f")))
		}
	}

	idle := rowsOf(rows, "IdleConns")
	if len(idle) > 0 {
		b.WriteString("\n### Idle keep-alive connections\n\n10,000 connections, each served one `GET /` and then left open; the server's RSS (VmRSS) before and after.\n\n")
		b.WriteString("| server | KiB per connection | RSS before MiB | RSS after MiB |\n|---|--:|--:|--:|\n")
		for _, r := range idle {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Server, metricText(r, "KiB/conn", "%.2f"),
				metricText(r, "rss-before-MiB", "%.1f"), metricText(r, "rss-after-MiB", "%.1f"))
		}
	}

	b.WriteString("\n### The load generator against wrk and h2load\n\nSame server, same connections and depth. A generator that needs less CPU per request than the server cannot be what limits the run.\n\n")
	b.WriteString("| workload | server | gonicorn-bench req/s | tool | tool req/s | ratio | gonicorn-bench CPU µs/req | tool CPU µs/req |\n|---|---|--:|---|--:|--:|--:|--:|\n")
	for _, r := range rows {
		if r.Group != "Wrk" && r.Group != "H2load" {
			continue
		}
		ours, ok := Find(rows, "Hello", r.Workload, r.Server)
		if !ok {
			continue
		}
		a, _ := ours.Metric("req/s")
		t, _ := r.Metric("req/s")
		ratioText := ""
		if t > 0 {
			ratioText = fmt.Sprintf("%.2f", a/t)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Workload, r.Server, Thousands(a), r.Generator(),
			Thousands(t), orDash(ratioText), orDash(metricText(ours, "gen-cpu-µs/req", "%.2f")), orDash(metricText(r, "gen-cpu-µs/req", "%.2f")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxRuns is the most runs an in-process row summarises.
func maxRuns(rows []Row) int {
	n := 1
	for _, r := range rows {
		if r.Group != "Binary" {
			n = max(n, r.Runs)
		}
	}
	return n
}

type section struct {
	group, workload, generator string
	rows                       []Row
}

// workloadOrder is the order sections appear in.
var workloadOrder = []string{"h1-keepalive", "h1-pipelined", "h1-close", "h2c", "uwsgi"}
var groupOrder = []string{"Hello", "Wrk", "H2load"}

// binaryOrder is the order of the binary-as-run scenarios (bench/binbench).
var binaryOrder = []string{"keepalive", "pipelined", "close", "h2c", "uwsgi-tcp", "uwsgi-unix", "proxy"}

func rank(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return len(list)
}

// sections groups the load rows by workload and generator, gonicorn first in each.
func sections(rows []Row) []section {
	var out []section
	for _, r := range rows {
		if r.Group == "IdleConns" {
			continue
		}
		i := -1
		for j := range out {
			if out[j].group == r.Group && out[j].workload == r.Workload {
				i = j
			}
		}
		if i < 0 {
			out = append(out, section{group: r.Group, workload: r.Workload, generator: r.Generator()})
			i = len(out) - 1
		}
		out[i].rows = append(out[i].rows, r)
	}
	sort.SliceStable(out, func(a, b int) bool {
		ba, bb := out[a].group == "Binary", out[b].group == "Binary"
		if ba != bb {
			return ba
		}
		if ba {
			return rank(binaryOrder, out[a].workload) < rank(binaryOrder, out[b].workload)
		}
		wa, wb := rank(workloadOrder, out[a].workload), rank(workloadOrder, out[b].workload)
		if wa != wb {
			return wa < wb
		}
		return rank(groupOrder, out[a].group) < rank(groupOrder, out[b].group)
	})
	for _, s := range out {
		sort.SliceStable(s.rows, func(a, b int) bool {
			return (s.rows[a].Server == "gonicorn") && s.rows[b].Server != "gonicorn"
		})
	}
	return out
}

func rowsOf(rows []Row, group string) []Row {
	var out []Row
	for _, r := range rows {
		if r.Group == group {
			out = append(out, r)
		}
	}
	return out
}

func metricText(r Row, unit, format string) string {
	v, ok := r.Metric(unit)
	if !ok {
		return ""
	}
	return fmt.Sprintf(format, v)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// Thousands formats v rounded to an integer with comma separators.
func Thousands(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
