// Package report turns the output of the gonicorn benchmarks (go test -bench lines)
// into the markdown tables and the PNG chart of bench/results. It only reads text
// and draws pixels: it never runs a benchmark, opens a socket or reads a clock.
package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Row is one benchmark result.
type Row struct {
	// Group is the benchmark function without "Benchmark": Hello, Wrk, H2load,
	// IdleConns, or Binary for the binary-as-run lines of bench/binbench.
	Group string
	// Workload is the middle name part (h1-keepalive, …); "idle" for IdleConns.
	Workload string
	// Server is the last name part: gonicorn, nethttp, nethttp-h2c, fasthttp, nbio.
	Server string
	// Metrics maps a unit ("req/s", "srv-cpu-µs/req", …) to its value: the median
	// over Runs runs when the benchmark ran more than once (go test -count).
	Metrics map[string]float64
	// Runs is the number of runs the row summarises.
	Runs int
}

// Metric returns the value of unit and whether the row has it.
func (r Row) Metric(unit string) (float64, bool) {
	v, ok := r.Metrics[unit]
	return v, ok
}

// Generator names the load generator of the row's group.
func (r Row) Generator() string {
	switch r.Group {
	case "Wrk":
		return "wrk"
	case "H2load":
		return "h2load"
	case "IdleConns":
		return "-"
	case "Binary":
		switch r.Workload {
		case "h2c":
			return "binary, h2load"
		case "uwsgi-tcp", "uwsgi-unix", "proxy":
			return "binary, wrk via nginx"
		}
		return "binary, wrk"
	}
	return "gonicorn-bench"
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// Failure is a benchmark that failed in at least one run, with the first line of its
// first message.
type Failure struct {
	Name   string
	Reason string
}

// failedName finds "--- FAIL: BenchmarkX/y/z-N" at the start of line, or after a
// benchmark name that go test printed before the failure.
func failedName(line string) (string, bool) {
	i := strings.Index(line, "--- FAIL: ")
	if i < 0 || (i > 0 && !strings.HasPrefix(line, "Benchmark")) {
		return "", false
	}
	f := strings.Fields(line[i+len("--- FAIL: "):])
	if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", false
	}
	return procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""), true
}

// Parse reads go test -bench output and returns its benchmark rows in order of
// first appearance, each metric the median of the benchmark's passing runs, and the
// benchmarks that failed (parents of failed sub-benchmarks left out, repeats merged).
// Other lines (headers, logs, SKIP lines) are ignored.
func Parse(r io.Reader) ([]Row, []Failure, error) {
	var rows []Row
	var runs [][]Row
	var fails []Failure
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	awaitReason := false
	for sc.Scan() {
		line := sc.Text()
		if name, ok := failedName(line); ok {
			awaitReason = false
			known := false
			for i := range fails {
				// A failure is printed twice (inline and in the summary), and its
				// parents fail with it: list each failing leaf once.
				if fails[i].Name == name || strings.HasPrefix(fails[i].Name, name+"/") {
					known = true
				}
			}
			if !known {
				fails = append(fails, Failure{Name: name})
				awaitReason = true
			}
			continue
		}
		if awaitReason {
			if t := strings.TrimSpace(line); t != "" && strings.HasPrefix(line, " ") {
				if _, msg, ok := strings.Cut(t, ": "); ok && strings.Contains(t[:strings.Index(t, ": ")], ".go:") {
					t = msg
				}
				fails[len(fails)-1].Reason = t
			}
			awaitReason = false
		}
		row, ok, err := parseLine(line)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		key := row.Group + "/" + row.Workload + "/" + row.Server
		i, seen := index[key]
		if !seen {
			i = len(runs)
			index[key] = i
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], row)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("report: reading benchmark output: %w", err)
	}
	for _, rs := range runs {
		rows = append(rows, median(rs))
	}
	return rows, fails, nil
}

// median merges runs of one benchmark: each metric is the median of the runs that
// report it (the mean of the middle two for an even count).
func median(rs []Row) Row {
	out := Row{Group: rs[0].Group, Workload: rs[0].Workload, Server: rs[0].Server,
		Metrics: map[string]float64{}, Runs: len(rs)}
	units := map[string][]float64{}
	for _, r := range rs {
		for u, v := range r.Metrics {
			units[u] = append(units[u], v)
		}
	}
	for u, vs := range units {
		sort.Float64s(vs)
		m := vs[len(vs)/2]
		if len(vs)%2 == 0 {
			m = (vs[len(vs)/2-1] + m) / 2
		}
		out.Metrics[u] = m
	}
	return out
}

// parseLine parses "BenchmarkGroup/workload/server-N  1  v unit  v unit …".
func parseLine(line string) (Row, bool, error) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return Row{}, false, nil
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return Row{}, false, nil
	}
	parts := strings.Split(procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""), "/")
	row := Row{Group: parts[0], Metrics: map[string]float64{}, Runs: 1}
	switch len(parts) {
	case 2:
		row.Workload, row.Server = "idle", parts[1]
	case 3:
		row.Workload, row.Server = parts[1], parts[2]
	default:
		return Row{}, false, nil
	}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Row{}, false, fmt.Errorf("report: value %q in %q: %w", f[i], line, err)
		}
		row.Metrics[f[i+1]] = v
	}
	return row, true, nil
}

// Find returns the row of group, workload and server.
func Find(rows []Row, group, workload, server string) (Row, bool) {
	for _, r := range rows {
		if r.Group == group && r.Workload == workload && r.Server == server {
			return r, true
		}
	}
	return Row{}, false
}
