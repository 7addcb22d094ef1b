package e2e

// Benchmarks of the herd, run only with -bench (each sub-benchmark is one bounded
// wrk run or one bounded storm; use -benchtime=1x):
//
//	go test ./e2e -run '^$' -bench Supervisor -benchtime=1x
//
// BenchmarkSupervisorWorkers: requests/s of 1, 2 and 4 workers under wrk -t1 -c32
// -d5s, keep-alive and connection-per-request ("Connection: close").
// BenchmarkSupervisorReloadStorm: 10 HUPs in 10 s under load, counting failures.

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

var (
	svWrkRate   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	svWrkTotal  = regexp.MustCompile(`(\d+) requests in`)
	svWrkErrors = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	svWrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// svWrkResult is what one wrk run counted.
type svWrkResult struct {
	rate                                  float64
	total                                 int
	connect, read, write, timeout, non2xx int
}

func (r svWrkResult) errors() int { return r.connect + r.read + r.write + r.timeout + r.non2xx }

// svRunWrk runs wrk against url for d with 32 connections on one thread.
func svRunWrk(b *testing.B, url string, d time.Duration, connClose bool) svWrkResult {
	b.Helper()
	wrk := testutil.RequireTool(b, "wrk")
	args := []string{"-t1", "-c32", "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--timeout", "5s"}
	if connClose {
		args = append(args, "-H", "Connection: close")
	}
	out, err := exec.Command(wrk, append(args, url)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	var r svWrkResult
	m := svWrkRate.FindStringSubmatch(text)
	n := svWrkTotal.FindStringSubmatch(text)
	if m == nil || n == nil {
		b.Fatalf("cannot read wrk's output:\n%s", text)
	}
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	r.total, _ = strconv.Atoi(n[1])
	if e := svWrkErrors.FindStringSubmatch(text); e != nil {
		r.connect, _ = strconv.Atoi(e[1])
		r.read, _ = strconv.Atoi(e[2])
		r.write, _ = strconv.Atoi(e[3])
		r.timeout, _ = strconv.Atoi(e[4])
	}
	if e := svWrkNon2xx.FindStringSubmatch(text); e != nil {
		r.non2xx, _ = strconv.Atoi(e[1])
	}
	b.Logf("wrk %s:\n%s", strings.Join(args, " "), text)
	return r
}

func BenchmarkSupervisorWorkers(b *testing.B) {
	testutil.RequireTool(b, "wrk")
	for _, workers := range []int{1, 2, 4} {
		for _, connClose := range []bool{false, true} {
			mode := "keepalive"
			if connClose {
				mode = "conn-per-request"
			}
			b.Run(fmt.Sprintf("workers=%d/%s", workers, mode), func(b *testing.B) {
				h := startHerd(b, nil, "-w", strconv.Itoa(workers))
				h.waitReady(1, 30*time.Second)
				b.ResetTimer()
				r := svRunWrk(b, "http://"+h.tcp+"/", 5*time.Second, connClose)
				b.StopTimer()
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(r.rate, "req/s")
				b.ReportMetric(float64(r.errors()), "errors")
				h.stop()
			})
		}
	}
}

// BenchmarkSupervisorReloadStorm sends 10 HUPs, one a second, while load runs, and
// reports failed requests. "loadgen" uses supervisortest clients (keep-alive clients
// retry a request the server's close of an idle connection cut, as RFC 9112 allows
// and real clients do; per-request clients never retry) over TCP and unix; the wrk
// variants count every socket error wrk sees, wrk never retrying anything.
func BenchmarkSupervisorReloadStorm(b *testing.B) {
	storm := func(h *herd) {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; i < 10; i++ {
			<-t.C
			h.signal(syscall.SIGHUP)
		}
		h.waitReady(11, 30*time.Second)
	}
	b.Run("loadgen", func(b *testing.B) {
		h := startHerd(b, nil, "-w", "2")
		h.waitReady(1, 30*time.Second)
		ls := h.load(4, 4)
		b.ResetTimer()
		storm(h)
		b.StopTimer()
		var ok, failed, resets, retried uint64
		for _, l := range ls {
			r := l.Stop()
			b.Logf("%v", r)
			ok, failed, resets, retried = ok+r.OK, failed+r.Failed, resets+r.Resets, retried+r.Retried
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(ok), "ok")
		b.ReportMetric(float64(failed), "failed")
		b.ReportMetric(float64(resets), "resets")
		b.ReportMetric(float64(retried), "retried")
		h.stop()
	})
	for _, connClose := range []bool{true, false} {
		name := "wrk-keepalive"
		if connClose {
			name = "wrk-conn-per-request"
		}
		b.Run(name, func(b *testing.B) {
			h := startHerd(b, nil, "-w", "2")
			h.waitReady(1, 30*time.Second)
			done := make(chan svWrkResult, 1)
			b.ResetTimer()
			go func() { done <- svRunWrk(b, "http://"+h.tcp+"/", 12*time.Second, connClose) }()
			storm(h)
			r := <-done
			b.StopTimer()
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(r.total), "requests")
			b.ReportMetric(float64(r.errors()), "errors")
			b.ReportMetric(r.rate, "req/s")
			h.stop()
		})
	}
}
