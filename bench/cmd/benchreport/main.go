// Command benchreport turns the output of the gonicorn benchmarks into
// bench/results/results.md and bench/results/chart.png. scripts/bench.sh runs it
// after the benchmarks:
//
//	benchreport -out bench/results -loadavg "$(cat /proc/loadavg)" -binary binary.md -cmd '…' raw.txt…
//
// binary.md and raw-binary.txt (BenchmarkBinary/… lines) come from bench/binbench,
// the binary-as-run comparison: its tables lead the report and its rows lead the
// chart.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gonicorn/gonicorn/bench/internal/report"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	out := flag.String("out", "bench/results", "directory for results.md and chart.png")
	date := flag.String("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"), "date of the run")
	loadavg := flag.String("loadavg", "", "/proc/loadavg before the run")
	duration := flag.String("duration", "", "length of each measured run")
	binary := flag.String("binary", "", "bench/binbench's binary.md, shown first (optional)")
	var cmds listFlag
	flag.Var(&cmds, "cmd", "a command line that produced the numbers (repeatable)")
	flag.Parse()
	if err := run(*out, *date, *loadavg, *duration, *binary, cmds, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(out, date, loadavg, duration, binary string, cmds, inputs []string) error {
	if len(inputs) == 0 {
		return fmt.Errorf("no benchmark output files given")
	}
	var rows []report.Row
	var fails []report.Failure
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			return err
		}
		r, f, err := report.Parse(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		rows = append(rows, r...)
		fails = append(fails, f...)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no benchmark results in %v", inputs)
	}
	env := report.Env{
		Date:      date,
		Machine:   machine(),
		OS:        "Linux " + strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		Go:        runtime.Version(),
		LoadAvg:   loadavg,
		Duration:  duration,
		Commands:  cmds,
		ChartFile: "chart.png",
	}
	if binary != "" {
		b, err := os.ReadFile(binary)
		if err != nil {
			return err
		}
		env.Binary = string(b)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, env, rows, fails); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "results.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	var png bytes.Buffer
	caption := fmt.Sprintf("gonicorn benchmarks - %s - %s", date, env.Machine)
	if err := report.WriteChart(&png, rows, caption); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "chart.png"), png.Bytes(), 0o644)
}

// machine describes the CPU model, CPU count and memory.
func machine() string {
	model := "unknown CPU"
	for _, line := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			model = strings.TrimSpace(v)
			break
		}
	}
	mem := ""
	for _, line := range strings.Split(readFile("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			mem = fmt.Sprintf(", %d GiB RAM", (kb+(1<<19))>>20)
		}
	}
	return fmt.Sprintf("%s, %d CPUs%s", model, runtime.NumCPU(), mem)
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
