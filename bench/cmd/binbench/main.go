// Command binbench runs gonicorn's binary-as-run benchmarks (package
// bench/binbench): gonicorn -w 1, net/http, fasthttp, net/http h2c and, behind
// nginx, uWSGI 2.0 with Python, each pinned to one CPU with the load on the other,
// side by side in one run; then the system calls per uwsgi request under strace.
// scripts/bench-binary.sh builds what it needs and runs it; its flags default to the
// environment variables that script documents.
//
//	binbench -gonicorn bin/gonicorn -peer bin/peerserver -out bench/results/tmp
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/bench/binbench"
)

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func main() {
	dur, _ := time.ParseDuration(env("GONICORN_BENCH_DURATION", "5s"))
	warm, _ := time.ParseDuration(env("BENCH_WARMUP", "1s"))
	var (
		gonicorn = flag.String("gonicorn", env("GONICORN_BIN", "bin/gonicorn"), "gonicorn binary (the demo app)")
		peer     = flag.String("peer", env("PEERSERVER_BIN", "bin/peerserver"), "bench/peers/cmd/peerserver binary")
		out      = flag.String("out", env("BENCH_OUT", "bench/results/tmp"), "directory for binary.md, binary-summary.md, binary.json, raw-binary.txt and syscalls.md; empty: none")
		duration = flag.Duration("duration", dur, "length of each measured run ($GONICORN_BENCH_DURATION)")
		warmup   = flag.Duration("warmup", warm, "warm-up before each measured run, 0 for none ($BENCH_WARMUP)")
		rounds   = flag.Int("rounds", envInt("BENCH_ROUNDS", 3), "runs of each scenario; tables show medians ($BENCH_ROUNDS)")
		only     = flag.String("only", os.Getenv("BENCH_ONLY"), "comma-separated patterns of SCENARIO or SCENARIO/SERVER to run ($BENCH_ONLY)")
		nstrace  = flag.Int("strace-requests", envInt("BENCH_STRACE_REQUESTS", 20000), "requests counted under strace ($BENCH_STRACE_REQUESTS)")
		srvCPU   = flag.Int("server-cpu", envInt("BENCH_SERVER_CPU", 0), "CPU the servers are pinned to, -1 none")
		loadCPU  = flag.Int("load-cpu", envInt("BENCH_LOAD_CPU", 1), "CPU the load, nginx and strace are pinned to, -1 none")
		lock     = flag.String("lock", env("BENCH_LOCK", "/tmp/gonicorn-bench.lock"), "flock(2) file held during the run; empty: none")
		lockWait = flag.Duration("lock-wait", 15*time.Minute, "how long to wait for the lock")
		list     = flag.Bool("list", false, "list the scenarios and servers, and exit")
		held     = flag.Bool("lock-held", false, "exit 0 if an ancestor process holds the -lock file, 1 if not")
		render   = flag.String("render", "", "write the tables of this binary.json again (into -out) instead of running")
	)
	flag.Parse()
	if *render != "" {
		if err := rerender(*render, *out); err != nil {
			fmt.Fprintln(os.Stderr, "binbench:", err)
			os.Exit(1)
		}
		return
	}
	if *held {
		if *lock != "" && binbench.AncestorHolds(*lock) {
			return
		}
		os.Exit(1)
	}
	if *list {
		for _, sc := range append(append([]binbench.Scenario{}, binbench.Scenarios...), binbench.SyscallScenarios...) {
			fmt.Printf("%-20s %s (%s)\n", sc.Name, sc.Title, strings.Join(sc.Servers, ", "))
		}
		return
	}
	c := &binbench.Config{
		Duration: *duration, Warmup: *warmup, Rounds: *rounds, StraceRequests: *nstrace,
		ServerCPU: *srvCPU, LoadCPU: *loadCPU, Log: os.Stderr,
	}
	if *only != "" {
		c.Only = strings.Split(*only, ",")
	}
	if err := run(c, *gonicorn, *peer, *out, *lock, *lockWait); err != nil {
		fmt.Fprintln(os.Stderr, "binbench:", err)
		os.Exit(1)
	}
}

func run(c *binbench.Config, gonicorn, peer, out, lock string, lockWait time.Duration) error {
	tools, err := binbench.FindTools(gonicorn, peer)
	if err != nil {
		return err
	}
	c.Tools = *tools
	if lock != "" {
		fmt.Fprintf(os.Stderr, "binbench: waiting for %s\n", lock)
		release, err := binbench.Lock(lock, lockWait)
		if err != nil {
			return err
		}
		defer release()
	}
	// Stop cleanly on ^C: every run stops the processes it started.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "binbench: interrupted; stopping after the current run")
		c.Stop()
	}()
	rep, err := c.Run()
	if err != nil {
		return err
	}
	if err := write(rep, out); err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("some runs failed (see the tables)")
	}
	return nil
}

// rerender reads a binary.json and writes its tables again.
func rerender(path, out string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep binbench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return write(&rep, out)
}

// write prints the markdown and, with out, writes binary.md, binary-summary.md,
// binary.json and raw-binary.txt there.
func write(rep *binbench.Report, out string) error {
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		return err
	}
	fmt.Print(md.String())
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		js, _ := json.MarshalIndent(rep, "", "  ")
		var lines, summary, sys strings.Builder
		rep.WriteBenchLines(&lines)
		rep.WriteSummary(&summary)
		files := map[string][]byte{}
		if len(rep.Syscalls) > 0 {
			rep.WriteSyscalls(&sys)
			files["syscalls.md"] = []byte(sys.String())
		}
		files["binary.md"] = []byte(md.String())
		files["binary.json"] = append(js, '\n')
		files["raw-binary.txt"] = []byte(lines.String())
		files["binary-summary.md"] = []byte(summary.String())
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "binbench: wrote %s\n", filepath.Join(out, "binary.md"))
	}
	return nil
}
