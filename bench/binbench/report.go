package binbench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gonicorn/gonicorn/bench/internal/report"
)

// Summary is the median of one server's passing runs in one scenario.
type Summary struct {
	Scenario, Server string
	Runs, Failed     int
	FirstErr         string
	ReqPerSec        float64
	CPUPerReq        float64
	NginxCPUPerReq   float64
	LoadCPUPerReq    float64
	P50, P99         float64
	// CPUMin and CPUMax are the extremes of CPUPerReq over the runs.
	CPUMin, CPUMax float64
	// Contended is the number of passing runs during which other work took more
	// than ContendedPct of the server's or the load's CPU. The medians leave them
	// out when at least one run was not contended (Used is the count kept).
	Contended, Used int
	// Other is the median share (%) of the busier of the two CPUs that other work
	// took in the runs kept; -1 when not known.
	Other float64
}

// ContendedPct is the share of a pinned CPU that other processes may take during a
// run before the run counts as contended.
const ContendedPct = 10

// otherPct is the larger of the run's two other-work shares (-1: unknown).
func (x Result) otherPct() float64 { return max(x.OtherServerCPU, x.OtherLoadCPU) }

// Summaries returns the median of every scenario/server's passing runs, in the
// order of Scenarios and their servers.
func (r *Report) Summaries() []Summary {
	var out []Summary
	for _, sc := range Scenarios {
		for _, srv := range serversOf(sc, r.Results) {
			var runs []Result
			s := Summary{Scenario: sc.Name, Server: srv}
			seen := false
			for _, x := range r.Results {
				if x.Scenario != sc.Name || x.Server != srv {
					continue
				}
				seen = true
				if x.Err != "" {
					s.Failed++
					if s.FirstErr == "" {
						s.FirstErr = x.Err
					}
					continue
				}
				runs = append(runs, x)
			}
			if !seen {
				continue
			}
			s.Runs = len(runs)
			var clean []Result
			for _, x := range runs {
				if x.otherPct() > ContendedPct {
					s.Contended++
				} else {
					clean = append(clean, x)
				}
			}
			if len(clean) > 0 {
				runs = clean
			}
			s.Used = len(runs)
			s.Other = med2(runs, func(x Result) float64 { return x.otherPct() })
			med := func(f func(Result) float64) float64 { return med2(runs, f) }
			s.ReqPerSec = med(func(x Result) float64 { return x.ReqPerSec })
			s.CPUPerReq = med(func(x Result) float64 { return x.CPUPerReq })
			s.NginxCPUPerReq = med(func(x Result) float64 { return x.NginxCPUPerReq })
			s.LoadCPUPerReq = med(func(x Result) float64 { return x.LoadCPUPerReq })
			s.P50 = med(func(x Result) float64 { return x.P50 })
			s.P99 = med(func(x Result) float64 { return x.P99 })
			for i, x := range runs {
				if i == 0 || x.CPUPerReq < s.CPUMin {
					s.CPUMin = x.CPUPerReq
				}
				s.CPUMax = max(s.CPUMax, x.CPUPerReq)
			}
			out = append(out, s)
		}
	}
	return out
}

// serversOf is sc's servers followed by any other server results name for sc
// (gonicorn-b), in order of appearance.
func serversOf(sc Scenario, results []Result) []string {
	out := append([]string{}, sc.Servers...)
	for _, x := range results {
		if x.Scenario == sc.Name && !slices.Contains(out, x.Server) {
			out = append(out, x.Server)
		}
	}
	return out
}

// med2 is the median of f over runs.
func med2(runs []Result, f func(Result) float64) float64 {
	var v []float64
	for _, x := range runs {
		v = append(v, f(x))
	}
	return median(v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// find returns the summary of scenario/server with numbers.
func find(ss []Summary, scenario, server string) (Summary, bool) {
	for _, s := range ss {
		if s.Scenario == scenario && s.Server == server && s.Runs > 0 {
			return s, true
		}
	}
	return Summary{}, false
}

// Target is one of issue 9's goals, judged on a report.
type Target struct {
	Name, Goal, Measured string
	Met, Known           bool
}

// Targets judges issue 9's goals on the summaries and syscall counts.
func (r *Report) Targets() []Target {
	ss := r.Summaries()
	var out []Target
	pair := func(sc, peer string) (Summary, Summary, bool) {
		g, ok1 := find(ss, sc, Gonicorn)
		p, ok2 := find(ss, sc, peer)
		return g, p, ok1 && ok2
	}
	for _, sc := range []string{"uwsgi-tcp", "uwsgi-unix"} {
		t := Target{Name: "nginx " + strings.Replace(sc, "uwsgi-", "uwsgi_pass ", 1),
			Goal: "CPU/req ≤ uWSGI's and req/s ≥ uWSGI's (moonshot: ½ uWSGI's CPU)"}
		if g, p, ok := pair(sc, UWSGI); ok {
			t.Known = true
			t.Met = g.CPUPerReq <= p.CPUPerReq && g.ReqPerSec >= p.ReqPerSec
			t.Measured = fmt.Sprintf("%.1f vs %.1f µs/req; %s vs %s req/s", g.CPUPerReq, p.CPUPerReq,
				report.Thousands(g.ReqPerSec), report.Thousands(p.ReqPerSec))
			if g.CPUPerReq*2 <= p.CPUPerReq {
				t.Measured += " (moonshot met)"
			}
			t.Measured += r.roundByRound(sc, UWSGI, cpuPerReq, "CPU/req") + r.roundByRound(sc, UWSGI, reqPerSec, "req/s")
		}
		out = append(out, t)
	}
	for _, sc := range []string{"syscalls-uwsgi-tcp", "syscalls-uwsgi-unix"} {
		t := Target{Name: "system calls per uwsgi request (" + strings.TrimPrefix(sc, "syscalls-") + ")",
			Goal: "≤ 10, futex + nanosleep < 1"}
		for _, s := range r.Syscalls {
			if s.Scenario != sc || s.Server != Gonicorn || s.Err != "" {
				continue
			}
			total, fn := perRequest(s, "")
			t.Known = true
			t.Met = total <= 10 && fn < 1
			t.Measured = fmt.Sprintf("%.1f per request, futex + nanosleep %.2f", total, fn)
		}
		out = append(out, t)
	}
	ratio := func(name, sc, peer, goal string, want float64, byCPU bool) {
		t := Target{Name: name, Goal: goal}
		if g, p, ok := pair(sc, peer); ok {
			t.Known = true
			if byCPU {
				t.Met = g.CPUPerReq <= p.CPUPerReq
				t.Measured = fmt.Sprintf("%.1f vs %.1f µs/req", g.CPUPerReq, p.CPUPerReq) + r.roundByRound(sc, peer, cpuPerReq, "CPU/req")
			} else {
				x := g.ReqPerSec / p.ReqPerSec
				t.Met = x >= want
				t.Measured = fmt.Sprintf("%.2fx (%s vs %s req/s; %.1f vs %.1f µs/req)", x,
					report.Thousands(g.ReqPerSec), report.Thousands(p.ReqPerSec), g.CPUPerReq, p.CPUPerReq)
				t.Measured += r.roundByRound(sc, peer, reqPerSec, "")
			}
		}
		out = append(out, t)
	}
	for _, sc := range []string{"reload-uwsgi-tcp", "reload-uwsgi-unix"} {
		t := Target{Name: "HUP reloads under load (" + strings.TrimPrefix(sc, "reload-") + ")", Goal: "zero failed requests"}
		var runs, hups int
		var requests int64
		for _, x := range r.Results {
			if x.Scenario != sc || x.Server != Gonicorn {
				continue
			}
			t.Known = true
			if x.Err != "" {
				t.Measured = oneLine(clip(x.Err, 200))
				runs = -1
				break
			}
			runs++
			hups += x.Reloads
			requests += x.Requests
		}
		if runs > 0 {
			t.Met = true
			t.Measured = fmt.Sprintf("%s requests through nginx across %d reloads, none failed", report.Thousands(float64(requests)), hups)
		}
		out = append(out, t)
	}
	ratio("new connection per request", "close", NetHTTP, "CPU/req ≤ net/http's", 0, true)
	ratio("keep-alive, wrk -c64", "keepalive", NetHTTP, "≥ 1.5x net/http req/s", 1.5, false)
	if g, p, ok := pair("keepalive", NetHTTP); ok && g.CPUPerReq > 0 {
		// Requests/s is the lesser of what the server and the load generator can
		// do on their one core each: say which one was full, and what the server's
		// CPU per request alone would allow.
		out[len(out)-1].Measured += fmt.Sprintf("; server core %.0f%% busy, load core %.0f%% (wrk); by CPU per request %.2fx",
			busyPct(g.ReqPerSec, g.CPUPerReq), busyPct(g.ReqPerSec, g.LoadCPUPerReq), p.CPUPerReq/g.CPUPerReq)
	}
	if g, f, ok := pair("keepalive", FastHTTP); ok {
		out[len(out)-1].Measured += fmt.Sprintf("; moonshot fasthttp's CPU: %.1f vs %.1f µs/req", g.CPUPerReq, f.CPUPerReq)
	}
	ratio("pipelined 16 deep", "pipelined", NetHTTP, "≥ 4x net/http req/s", 4, false)
	ratio("h2c", "h2c", NetHTTPH2C, "≥ 4x net/http h2c req/s", 4, false)
	return out
}

// reqPerSec and cpuPerReq are the figures a round-by-round ratio compares.
func reqPerSec(x Result) float64 { return x.ReqPerSec }
func cpuPerReq(x Result) float64 { return x.CPUPerReq }

// roundByRound is "; round by round [what ]r1, r2, ... (median m)": gonicorn's
// figure over peer's in each round, or "" with fewer than two rounds.
func (r *Report) roundByRound(scenario, peer string, figure func(Result) float64, what string) string {
	pr := r.roundRatios(scenario, Gonicorn, peer, figure)
	if len(pr) < 2 {
		return ""
	}
	if what != "" {
		what += " "
	}
	return fmt.Sprintf("; round by round %s%s (median %.2fx)", what, joinRatios(pr), median(slices.Clone(pr)))
}

// roundRatios is server's figure (req/s, CPU per request) over peer's in each
// round both passed, in round order. The two runs of a round are adjacent in
// time, so they share the machine's speed of the moment, which a ratio of
// medians over all rounds does not: the report shows these beside the verdict,
// which stays the ratio of the medians.
func (r *Report) roundRatios(scenario, server, peer string, figure func(Result) float64) []float64 {
	byRound := map[int]map[string]float64{}
	var rounds []int
	for _, x := range r.Results {
		if x.Scenario != scenario || x.Err != "" || figure(x) <= 0 || (x.Server != server && x.Server != peer) {
			continue
		}
		if byRound[x.Round] == nil {
			byRound[x.Round] = map[string]float64{}
			rounds = append(rounds, x.Round)
		}
		byRound[x.Round][x.Server] = figure(x)
	}
	sort.Ints(rounds)
	var out []float64
	for _, n := range rounds {
		if a, b := byRound[n][server], byRound[n][peer]; a > 0 && b > 0 {
			out = append(out, a/b)
		}
	}
	return out
}

func joinRatios(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, ", ")
}

// busyPct is the share of one core that reqPerSec requests of cpuPerReq µs each take.
func busyPct(reqPerSec, cpuPerReq float64) float64 { return reqPerSec * cpuPerReq / 1e4 }

// perRequest returns s's system calls per request, and futex plus nanosleep per
// request; with name, only that call's.
func perRequest(s Syscalls, name string) (total, futexSleep float64) {
	var n, fn int64
	for _, c := range s.Counts {
		if name != "" && c.Name != name {
			continue
		}
		n += c.Calls
		if c.Name == "futex" || c.Name == "nanosleep" || c.Name == "clock_nanosleep" {
			fn += c.Calls
		}
	}
	return float64(n) / float64(s.Requests), float64(fn) / float64(s.Requests)
}

// serverNames are the servers as the tables name them.
var serverNames = map[string]string{
	Gonicorn:   "gonicorn",
	GonicornB:  "gonicorn B",
	NetHTTP:    "net/http",
	NetHTTPH2C: "net/http h2c",
	FastHTTP:   "fasthttp",
	UWSGI:      "uWSGI 2.0 + Python",
}

// WriteMarkdown writes the tables: targets, one table per scenario, the syscall
// counts, and failures.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	ss := r.Summaries()
	fmt.Fprintf(&b, "Binary as run: %s.\n\n", r.Config)
	fmt.Fprintf(&b, "*Other work on the CPUs* is the share of the busier pinned CPU that processes other than the server, the load tool and nginx ran on during the run (from /proc/stat): the machine is shared. Runs where it passed %d%% are left out of the medians when a run below it exists.\n\n", ContendedPct)
	b.WriteString("### Targets (issue 9)\n\n| target | goal | measured | |\n|---|---|---|---|\n")
	for _, t := range r.Targets() {
		verdict := "not measured"
		switch {
		case t.Known && t.Met:
			verdict = "met"
		case t.Known:
			verdict = "**not met**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, t.Goal, orDash(t.Measured), verdict)
	}
	b.WriteString("\n")
	for _, sc := range Scenarios {
		var rows []Summary
		for _, s := range ss {
			if s.Scenario == sc.Name {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		base, hasBase := find(ss, sc.Name, sc.Baseline)
		if sc.Baseline == "" {
			hasBase = false
		}
		fmt.Fprintf(&b, "### %s — %s\n\n%s", sc.Title, sc.Load.describe(), scenarioNote(sc))
		b.WriteString("| server | req/s | vs " + serverNames[sc.Baseline] + " | server CPU µs/req | CPU vs " +
			serverNames[sc.Baseline] + " |")
		if sc.Nginx != "" {
			b.WriteString(" nginx CPU µs/req |")
		}
		b.WriteString(" p50 | p99 | load CPU µs/req | other work on the CPUs | runs (CPU µs/req range) |\n|---|--:|--:|--:|--:|")
		if sc.Nginx != "" {
			b.WriteString("--:|")
		}
		b.WriteString("--:|--:|--:|--:|--:|\n")
		for _, s := range rows {
			if s.Runs == 0 {
				fmt.Fprintf(&b, "| %s | failed |", serverNames[s.Server])
				n := 9
				if sc.Nginx != "" {
					n++
				}
				b.WriteString(strings.Repeat(" |", n-1) + "\n")
				continue
			}
			rate, cpu := "–", "–"
			if hasBase && base.ReqPerSec > 0 && s.CPUPerReq > 0 {
				rate = fmt.Sprintf("%.2fx", s.ReqPerSec/base.ReqPerSec)
				cpu = fmt.Sprintf("%.2fx", s.CPUPerReq/base.CPUPerReq)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s |", serverNames[s.Server], report.Thousands(s.ReqPerSec), rate, s.CPUPerReq, cpu)
			if sc.Nginx != "" {
				fmt.Fprintf(&b, " %.2f |", s.NginxCPUPerReq)
			}
			runs := fmt.Sprint(s.Runs)
			if s.Runs > 1 {
				runs += fmt.Sprintf(" (%.1f–%.1f)", s.CPUMin, s.CPUMax)
			}
			if s.Contended > 0 && s.Used < s.Runs {
				runs += fmt.Sprintf("; %d contended left out", s.Contended)
			} else if s.Contended > 0 {
				runs += "; all contended"
			}
			other := "–"
			if s.Other >= 0 {
				other = fmt.Sprintf("%.0f%%", s.Other)
			}
			if s.Failed > 0 {
				runs += fmt.Sprintf(" (+%d failed)", s.Failed)
			}
			fmt.Fprintf(&b, " %s | %s | %.2f | %s | %s |\n", usText(s.P50), usText(s.P99), s.LoadCPUPerReq, other, runs)
		}
		b.WriteString("\n")
	}
	if len(r.Syscalls) > 0 {
		r.writeSyscalls(&b)
	}
	var fails []string
	for _, x := range r.Results {
		if x.Err != "" {
			fails = append(fails, fmt.Sprintf("| %s/%s round %d | %s |", x.Scenario, x.Server, x.Round, oneLine(x.Err)))
		}
	}
	for _, x := range r.Syscalls {
		if x.Err != "" {
			fails = append(fails, fmt.Sprintf("| %s/%s | %s |", x.Scenario, x.Server, oneLine(x.Err)))
		}
	}
	if len(fails) > 0 {
		b.WriteString("### Failed runs\n\nA failed run has no numbers.\n\n| run | reason |\n|---|---|\n")
		b.WriteString(strings.Join(fails, "\n") + "\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func scenarioNote(sc Scenario) string {
	if sc.Reloads {
		return "wrk → nginx → `uwsgi_pass` → `gonicorn -w 1`, with SIGHUP sent to the master every second of the run: each starts a new worker and stops the old one gracefully. Any failed request (nginx answers 502) fails the run.\n\n"
	}
	switch sc.Nginx {
	case "uwsgi":
		return "wrk → nginx (one worker, pinned with wrk) → `uwsgi_pass` (a new upstream connection per request) → the server.\n\n"
	case "proxy":
		return "wrk → nginx (one worker, pinned with wrk) → `proxy_pass` over HTTP/1.1 with `keepalive 32` → the server.\n\n"
	}
	return ""
}

// WriteSyscalls writes the system-call table alone, with strace's own tables
// after it.
func (r *Report) WriteSyscalls(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# System calls per request\n\n")
	fmt.Fprintf(&b, "Measured %s UTC by bench/binbench (`make bench`; this table alone: `BENCH_ONLY='syscalls-*' scripts/bench-binary.sh`); %s.\n\n", r.Start.Format("2006-01-02 15:04"), r.Config)
	r.writeSyscalls(&b)
	for _, s := range r.Syscalls {
		if s.Raw != "" {
			fmt.Fprintf(&b, "## strace -c -f: %s, %s, %d requests\n\n```\n%s\n```\n\n", serverNames[s.Server],
				strings.TrimPrefix(s.Scenario, "syscalls-"), s.Requests, strings.TrimRight(s.Raw, "\n"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSyscalls writes the strace table: per request, every call any server made
// at least 0.05 times per request.
func (r *Report) writeSyscalls(b *strings.Builder) {
	b.WriteString("### System calls per request (strace -c -f on the worker, nginx uwsgi_pass)\n\n")
	var cols []Syscalls
	for _, s := range r.Syscalls {
		if s.Err == "" {
			cols = append(cols, s)
		}
	}
	if len(cols) == 0 {
		b.WriteString("No count succeeded.\n\n")
		return
	}
	fmt.Fprintf(b, "Attached to gonicorn's worker process (all threads) and to the uWSGI process for %d requests sent by `h2load --h1 -c32` through nginx; the counts divided by the requests.\n\n", cols[0].Requests)
	names := map[string]float64{}
	for _, s := range cols {
		for _, c := range s.Counts {
			names[c.Name] = math.Max(names[c.Name], float64(c.Calls)/float64(s.Requests))
		}
	}
	var order []string
	for n, v := range names {
		if v >= 0.05 {
			order = append(order, n)
		}
	}
	sort.Slice(order, func(i, j int) bool {
		if names[order[i]] != names[order[j]] {
			return names[order[i]] > names[order[j]]
		}
		return order[i] < order[j]
	})
	b.WriteString("| system call |")
	for _, s := range cols {
		fmt.Fprintf(b, " %s, %s |", serverNames[s.Server], strings.TrimPrefix(s.Scenario, "syscalls-"))
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(cols)) + "\n")
	for _, n := range order {
		fmt.Fprintf(b, "| %s |", n)
		for _, s := range cols {
			v, _ := perRequest(s, n)
			fmt.Fprintf(b, " %s |", trim2(v))
		}
		b.WriteString("\n")
	}
	b.WriteString("| **total** |")
	for _, s := range cols {
		v, _ := perRequest(s, "")
		fmt.Fprintf(b, " **%s** |", trim2(v))
	}
	b.WriteString("\n| futex + nanosleep |")
	for _, s := range cols {
		_, fn := perRequest(s, "")
		fmt.Fprintf(b, " %s |", trim2(fn))
	}
	b.WriteString("\n\n")
}

func trim2(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", v)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	return clip(s, 400)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// WriteBenchLines writes the runs the summaries keep as `go test -bench` lines
// (BenchmarkBinary/SCENARIO/SERVER), so that bench/cmd/benchreport can chart them
// beside the in-process benchmarks.
func (r *Report) WriteBenchLines(w io.Writer) error {
	var b strings.Builder
	// The runs the summaries keep: contended runs leave when a cleaner one exists.
	hasClean := map[string]bool{}
	for _, x := range r.Results {
		if x.Err == "" && x.otherPct() <= ContendedPct {
			hasClean[x.Scenario+"/"+x.Server] = true
		}
	}
	for _, x := range r.Results {
		if strings.HasPrefix(x.Scenario, "reload-") {
			continue // a check, not a speed
		}
		if x.Err == "" && x.otherPct() > ContendedPct && hasClean[x.Scenario+"/"+x.Server] {
			continue
		}
		if x.Err != "" {
			fmt.Fprintf(&b, "--- FAIL: BenchmarkBinary/%s/%s\n    %s\n", x.Scenario, x.Server, oneLine(x.Err))
			continue
		}
		fmt.Fprintf(&b, "BenchmarkBinary/%s/%s \t       1\t         0 ns/op\t%12.0f req/s\t%8.2f srv-cpu-µs/req", x.Scenario, x.Server, x.ReqPerSec, x.CPUPerReq)
		if x.NginxCPUPerReq > 0 {
			fmt.Fprintf(&b, "\t%8.2f nginx-cpu-µs/req", x.NginxCPUPerReq)
		}
		if x.P50 > 0 {
			fmt.Fprintf(&b, "\t%8.0f p50-µs", x.P50)
		}
		if x.P99 > 0 {
			fmt.Fprintf(&b, "\t%8.0f p99-µs", x.P99)
		}
		fmt.Fprintf(&b, "\t%8.2f gen-cpu-µs/req\n", x.LoadCPUPerReq)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSummary writes the short table the README shows: one row per comparison,
// gonicorn beside its peer from the same run, with issue 9's target.
func (r *Report) WriteSummary(w io.Writer) error {
	ss := r.Summaries()
	targets := map[string]Target{}
	for _, t := range r.Targets() {
		targets[t.Name] = t
	}
	verdict := func(name string) string {
		if name == "moonshot" {
			g, ok1 := find(ss, "keepalive", Gonicorn)
			f, ok2 := find(ss, "keepalive", FastHTTP)
			if !ok1 || !ok2 {
				return ""
			}
			if g.CPUPerReq <= f.CPUPerReq {
				return "moonshot, CPU/req ≤ fasthttp's: met"
			}
			return "moonshot, CPU/req ≤ fasthttp's: not met"
		}
		t, ok := targets[name]
		switch {
		case !ok || !t.Known:
			return ""
		case t.Met:
			return t.Goal + ": met"
		}
		return t.Goal + ": **not met**"
	}
	var b strings.Builder
	b.WriteString("| path | gonicorn | peer (same run) | gonicorn/peer req/s | gonicorn/peer CPU per request | target (issue 9) |\n|---|--:|--:|--:|--:|---|\n")
	row := func(label, sc, peer, target string) {
		g, ok1 := find(ss, sc, Gonicorn)
		p, ok2 := find(ss, sc, peer)
		if !ok1 || !ok2 {
			return
		}
		cell := func(s Summary) string {
			c := fmt.Sprintf("%s req/s, %.1f µs", report.Thousands(s.ReqPerSec), s.CPUPerReq)
			if s.P99 > 0 {
				c += ", p99 " + usText(s.P99)
			}
			return c
		}
		fmt.Fprintf(&b, "| %s | %s | %s: %s | %.2fx | %.2fx | %s |\n", label, cell(g), serverNames[peer], cell(p),
			g.ReqPerSec/p.ReqPerSec, g.CPUPerReq/p.CPUPerReq, verdict(target))
	}
	row("keep-alive, `wrk -c64`", "keepalive", NetHTTP, "keep-alive, wrk -c64")
	row("keep-alive, `wrk -c64`", "keepalive", FastHTTP, "moonshot")
	row("pipelined 16 deep, `wrk -c64`", "pipelined", NetHTTP, "pipelined 16 deep")
	row("pipelined 16 deep, `wrk -c64`", "pipelined", FastHTTP, "")
	row("new connection per request, `wrk -c64`", "close", NetHTTP, "new connection per request")
	row("h2c, `h2load -c16 -m32`", "h2c", NetHTTPH2C, "h2c")
	row("nginx `uwsgi_pass` TCP, `wrk -c32`", "uwsgi-tcp", UWSGI, "nginx uwsgi_pass tcp")
	row("nginx `uwsgi_pass` unix, `wrk -c32`", "uwsgi-unix", UWSGI, "nginx uwsgi_pass unix")
	row("nginx `proxy_pass` keepalive, `wrk -c32`", "proxy", NetHTTP, "")
	for _, t := range r.Targets() {
		if strings.HasPrefix(t.Name, "HUP reloads") && t.Known {
			v := "met"
			if !t.Met {
				v = "**not met**"
			}
			fmt.Fprintf(&b, "| %s, nginx `uwsgi_pass` | %s | | | | %s: %s |\n", t.Name, t.Measured, t.Goal, v)
		}
	}
	for _, mode := range []string{"uwsgi-tcp", "uwsgi-unix"} {
		var g, u *Syscalls
		for i := range r.Syscalls {
			s := &r.Syscalls[i]
			if s.Scenario == "syscalls-"+mode && s.Err == "" {
				if s.Server == Gonicorn {
					g = s
				} else if s.Server == UWSGI {
					u = s
				}
			}
		}
		if g == nil || u == nil {
			continue
		}
		gt, gf := perRequest(*g, "")
		ut, _ := perRequest(*u, "")
		fmt.Fprintf(&b, "| system calls per `uwsgi_pass` request (%s, strace) | %.1f (futex + nanosleep %.1f) | uWSGI: %.1f | | | %s |\n",
			strings.TrimPrefix(mode, "uwsgi-"), gt, gf, ut, verdict("system calls per uwsgi request ("+mode+")"))
	}
	var contended, runs int
	for _, s := range ss {
		contended += s.Contended
		runs += s.Runs
	}
	if contended > 0 {
		fmt.Fprintf(&b, "\nIn %d of %d runs other processes took more than %d%% of a pinned CPU; the medians leave such runs out where a cleaner one exists (results.md has the shares).\n", contended, runs, ContendedPct)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
