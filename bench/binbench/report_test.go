package binbench

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/binary.json is a real run's report (make bench on the 2-core machine).
func loadReport(t *testing.T) *Report {
	t.Helper()
	b, err := os.ReadFile("testdata/binary.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestSummariesAreMediansOfPassingRuns(t *testing.T) {
	r := loadReport(t)
	r.Results = append(r.Results, Result{Scenario: "keepalive", Server: Gonicorn, Round: 4, Err: "wrk: boom"})
	s, ok := find(r.Summaries(), "keepalive", Gonicorn)
	if !ok || s.Runs != 3 || s.Failed != 1 || s.FirstErr != "wrk: boom" {
		t.Fatalf("summary %+v", s)
	}
	var cpus []float64
	for _, x := range r.Results {
		if x.Scenario == "keepalive" && x.Server == Gonicorn && x.Err == "" {
			cpus = append(cpus, x.CPUPerReq)
		}
	}
	if s.CPUPerReq != median(cpus) || s.CPUMin > s.CPUPerReq || s.CPUMax < s.CPUPerReq {
		t.Errorf("CPU %v (%v–%v), runs %v", s.CPUPerReq, s.CPUMin, s.CPUMax, cpus)
	}
	if !r.Failed() {
		t.Error("a failed run does not fail the report")
	}
}

// TestContendedRunsLeaveTheMedian: a run during which other work took a pinned CPU
// counts only when no cleaner run exists.
func TestContendedRunsLeaveTheMedian(t *testing.T) {
	r := &Report{Results: []Result{
		{Scenario: "keepalive", Server: Gonicorn, ReqPerSec: 1000, CPUPerReq: 30, OtherServerCPU: 80, OtherLoadCPU: 5},
		{Scenario: "keepalive", Server: Gonicorn, ReqPerSec: 90000, CPUPerReq: 11, OtherServerCPU: 2, OtherLoadCPU: 4},
		{Scenario: "keepalive", Server: NetHTTP, ReqPerSec: 2000, CPUPerReq: 20, OtherServerCPU: 50, OtherLoadCPU: 1},
	}}
	g, _ := find(r.Summaries(), "keepalive", Gonicorn)
	if g.ReqPerSec != 90000 || g.Used != 1 || g.Contended != 1 || g.Other != 4 {
		t.Errorf("gonicorn: %+v, want the clean run alone", g)
	}
	n, _ := find(r.Summaries(), "keepalive", NetHTTP)
	if n.ReqPerSec != 2000 || n.Used != 1 || n.Contended != 1 {
		t.Errorf("net/http: %+v, want its only run, contended", n)
	}
}

func TestTargetsAndTables(t *testing.T) {
	r := loadReport(t)
	got := map[string]Target{}
	for _, tg := range r.Targets() {
		got[tg.Name] = tg
	}
	// In this run: uwsgi_pass 79.6 vs 30.6 µs/req, 32.6 syscalls; h2c 3.09x.
	for name, met := range map[string]bool{
		"nginx uwsgi_pass tcp":                       false,
		"system calls per uwsgi request (uwsgi-tcp)": false,
		"h2c": false,
	} {
		if tg, ok := got[name]; !ok || !tg.Known || tg.Met != met {
			t.Errorf("%s: %+v, want known, met=%v", name, tg, met)
		}
	}
	// Keep-alive says which core was full and the ratio by CPU per request.
	if ka := got["keep-alive, wrk -c64"]; !strings.Contains(ka.Measured, "% busy, load core ") || !strings.Contains(ka.Measured, "by CPU per request") {
		t.Errorf("keep-alive target: %q lacks the busy cores and the CPU ratio", ka.Measured)
	}
	var md, sum strings.Builder
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| uWSGI 2.0 + Python | 4,669 | 1.00x | 30.60 |", "| **total** | **32.62** | **5.01** |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	for _, want := range []string{"nginx `uwsgi_pass` TCP", "uWSGI 2.0 + Python: 4,669 req/s, 30.6 µs", "| 2.60x |", "system calls per `uwsgi_pass` request (tcp, strace) | 32.6"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
}

// TestRoundRatiosPairEachRound: the round-by-round ratios pair the two servers'
// runs of the same round, skip rounds where either failed, and appear beside a
// ratio target without changing its verdict (the ratio of the medians).
func TestRoundRatiosPairEachRound(t *testing.T) {
	r := &Report{Results: []Result{
		{Scenario: "keepalive", Server: Gonicorn, Round: 1, ReqPerSec: 150},
		{Scenario: "keepalive", Server: NetHTTP, Round: 1, ReqPerSec: 100},
		{Scenario: "keepalive", Server: Gonicorn, Round: 2, ReqPerSec: 90},
		{Scenario: "keepalive", Server: NetHTTP, Round: 2, ReqPerSec: 60},
		{Scenario: "keepalive", Server: Gonicorn, Round: 3, ReqPerSec: 130},
		{Scenario: "keepalive", Server: NetHTTP, Round: 3, Err: "wrk: boom"},
		{Scenario: "keepalive", Server: NetHTTP, Round: 4, ReqPerSec: 100},
		{Scenario: "keepalive", Server: Gonicorn, Round: 4, ReqPerSec: 140},
	}}
	got := r.roundRatios("keepalive", Gonicorn, NetHTTP, reqPerSec)
	if want := []float64{1.5, 1.5, 1.4}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("round ratios %v, want %v", got, want)
	}
	for _, tg := range r.Targets() {
		if tg.Name != "keep-alive, wrk -c64" {
			continue
		}
		// Medians: gonicorn 135 (of 150, 90, 130, 140), net/http 100: 1.35x, not met.
		if tg.Met || !strings.Contains(tg.Measured, "1.35x") || !strings.Contains(tg.Measured, "round by round 1.50, 1.50, 1.40 (median 1.50x)") {
			t.Errorf("target %+v", tg)
		}
		return
	}
	t.Fatal("no keep-alive target")
}

// TestUWSGITargetShowsEachRound: the uwsgi_pass targets show the per-round ratios
// of both figures they judge, CPU per request and req/s, and their verdict stays
// the one the medians give.
func TestUWSGITargetShowsEachRound(t *testing.T) {
	r := &Report{Results: []Result{
		{Scenario: "uwsgi-unix", Server: Gonicorn, Round: 1, ReqPerSec: 100, CPUPerReq: 9},
		{Scenario: "uwsgi-unix", Server: UWSGI, Round: 1, ReqPerSec: 100, CPUPerReq: 10},
		{Scenario: "uwsgi-unix", Server: Gonicorn, Round: 2, ReqPerSec: 90, CPUPerReq: 16},
		{Scenario: "uwsgi-unix", Server: UWSGI, Round: 2, ReqPerSec: 100, CPUPerReq: 20},
		{Scenario: "uwsgi-unix", Server: Gonicorn, Round: 3, ReqPerSec: 110, CPUPerReq: 22},
		{Scenario: "uwsgi-unix", Server: UWSGI, Round: 3, ReqPerSec: 100, CPUPerReq: 11},
	}}
	for _, tg := range r.Targets() {
		if tg.Name != "nginx uwsgi_pass unix" {
			continue
		}
		// Medians: gonicorn 16 µs and 100 req/s, uWSGI 11 µs and 100 req/s: not met,
		// although two rounds of three had gonicorn's CPU lower.
		for _, want := range []string{"16.0 vs 11.0 µs/req", "round by round CPU/req 0.90, 0.80, 2.00 (median 0.90x)",
			"round by round req/s 1.00, 0.90, 1.10 (median 1.00x)"} {
			if !strings.Contains(tg.Measured, want) {
				t.Errorf("measured %q lacks %q", tg.Measured, want)
			}
		}
		if tg.Met {
			t.Errorf("met on the round-by-round figures: %+v", tg)
		}
		return
	}
	t.Fatal("no uwsgi_pass unix target")
}
