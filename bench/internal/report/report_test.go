package report

import (
	"bytes"
	"image/png"
	"os"
	"strings"
	"testing"
)

func loadRows(t *testing.T) ([]Row, []Failure) {
	t.Helper()
	var rows []Row
	var fails []Failure
	for _, f := range []string{"testdata/gonicorn.txt", "testdata/peers.txt"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, fl, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, fails = append(rows, r...), append(fails, fl...)
	}
	return rows, fails
}

func TestParseReadsNamesAndMetrics(t *testing.T) {
	rows, fails := loadRows(t)
	r, ok := Find(rows, "Hello", "h1-keepalive", "gonicorn")
	if !ok {
		t.Fatal("Hello/h1-keepalive/gonicorn missing")
	}
	if v, _ := r.Metric("req/s"); v != 59220 {
		t.Errorf("req/s = %v, want 59220", v)
	}
	if v, _ := r.Metric("srv-cpu-µs/req"); v != 9.748 {
		t.Errorf("srv-cpu-µs/req = %v, want 9.748", v)
	}
	if r, ok := Find(rows, "IdleConns", "idle", "nethttp"); !ok || r.Metrics["KiB/conn"] != 19.60 {
		t.Errorf("IdleConns/nethttp: %+v %v", r, ok)
	}
	if _, ok := Find(rows, "Wrk", "h1-keepalive", "nbio"); ok {
		t.Error("a failed benchmark has a row")
	}
	if len(fails) != 1 || fails[0].Name != "Wrk/h1-keepalive/nbio" || !strings.HasPrefix(fails[0].Reason, "bench: wrk: wrk saw socket errors") {
		t.Errorf("failures = %+v", fails)
	}
}

func TestParseTakesTheMedianOfRepeatedRunsAndSkipsNoise(t *testing.T) {
	in := `goos: linux
BenchmarkHello/h2c/gonicorn-2   1   5 ns/op   100 req/s
--- SKIP: BenchmarkHello/uwsgi/nethttp
    bench: the server does not serve this workload
BenchmarkHello/h2c/gonicorn-2   1   5 ns/op   300 req/s
BenchmarkIdleConns/gonicorn-8   1   2.5 KiB/conn
BenchmarkHello/h2c/gonicorn-2   1   5 ns/op   200 req/s
BenchmarkHello/h2c/nethttp-h2c-2   1   5 ns/op   10 req/s
BenchmarkHello/h2c/nethttp-h2c-2   1   5 ns/op   20 req/s
BenchmarkWrk/h1-keepalive/nbio-2   	--- FAIL: BenchmarkWrk/h1-keepalive/nbio
    peers_test.go:38: bench: wrk saw socket errors
--- FAIL: BenchmarkWrk/h1-keepalive/nbio-2
    peers_test.go:38: bench: wrk saw socket errors
--- FAIL: BenchmarkWrk
--- FAIL: BenchmarkWrk/h1-keepalive/nbio-2
    peers_test.go:38: bench: something else
--- FAIL: BenchmarkWrk
PASS
`
	rows, fails, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Metrics["req/s"] != 200 || rows[0].Runs != 3 || rows[1].Workload != "idle" ||
		rows[2].Metrics["req/s"] != 15 {
		t.Fatalf("rows = %+v", rows)
	}
	if len(fails) != 1 || fails[0].Name != "Wrk/h1-keepalive/nbio" || fails[0].Reason != "bench: wrk saw socket errors" {
		t.Fatalf("failures = %+v", fails)
	}
	if _, _, err := Parse(strings.NewReader("BenchmarkX/a/b-2 1 abc req/s\n")); err == nil {
		t.Fatal("a non-numeric value was accepted")
	}
}

func TestTargetsJudgeTheRatios(t *testing.T) {
	rows, _ := loadRows(t)
	got := map[string]Target{}
	for _, tg := range Targets(rows) {
		got[tg.Name] = tg
	}
	for name, met := range map[string]bool{
		"HTTP/1.1 keep-alive, wrk -c64":        false, // 25,106 / 18,612 = 1.35
		"HTTP/1.1 pipelined 16 deep, wrk -c64": false, // 82,886 / 50,208 = 1.65
		"10,000 idle keep-alive connections":   false, // 2.64 KiB > 2.4
		"h2c, h2load -c16 -m32":                true,  // 178,112 / 42,377 = 4.20
	} {
		tg, ok := got[name]
		if !ok || !tg.Known || tg.Met != met {
			t.Errorf("%s: %+v, want known and met=%v", name, tg, met)
		}
	}
	if tg := Targets(nil); tg[0].Known {
		t.Error("a target was judged without rows")
	}
}

func TestMarkdownHasEverySection(t *testing.T) {
	rows, fails := loadRows(t)
	var b bytes.Buffer
	if err := WriteMarkdown(&b, Env{Date: "today", Machine: "m", ChartFile: "chart.png", Commands: []string{"make bench"}}, rows, fails); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"### Targets", "### Failed benchmarks", "#### h1-keepalive — gonicorn-bench", "#### h2c — h2load",
		"| gonicorn | 59,220 | 1.78x | 9.75 | 1.24x less |", "### Idle keep-alive connections",
		"| h2c | gonicorn | 113,466 | h2load | 178,112 | 0.64 |", "![requests/s and server CPU per request](chart.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// TestBinaryLeadsTheReport: bench/binbench's markdown comes first, its rows lead the
// chart's sections and stay out of the in-process tables.
func TestBinaryLeadsTheReport(t *testing.T) {
	rows, fails := loadRows(t)
	bin, _, err := Parse(strings.NewReader("BenchmarkBinary/keepalive/gonicorn \t 1\t 0 ns/op\t 80000 req/s\t 11.5 srv-cpu-µs/req\n" +
		"BenchmarkBinary/uwsgi-tcp/uwsgi \t 1\t 0 ns/op\t 14000 req/s\t 27.0 srv-cpu-µs/req\t 55.0 nginx-cpu-µs/req\n"))
	if err != nil || len(bin) != 2 {
		t.Fatalf("parse: %v %v", bin, err)
	}
	all := append(bin, rows...)
	secs := sections(all)
	if secs[0].group != "Binary" || secs[0].workload != "keepalive" || secs[1].workload != "uwsgi-tcp" {
		t.Errorf("sections start %+v %+v, want the binary ones", secs[0], secs[1])
	}
	if g := secs[1].rows[0].Generator(); g != "binary, wrk via nginx" {
		t.Errorf("generator %q", g)
	}
	var b bytes.Buffer
	env := Env{Date: "today", Binary: "### Targets (issue 9)\n\n| keep-alive | x |\n"}
	if err := WriteMarkdown(&b, env, all, fails); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	head, inproc, ok := strings.Cut(md, "## In-process benchmarks")
	if !ok || !strings.Contains(head, "## The binary as users run it") || !strings.Contains(head, "#### Targets (issue 9)") {
		t.Errorf("the binary section does not lead:\n%s", md)
	}
	if strings.Contains(inproc, "keepalive — binary") {
		t.Errorf("binary rows in the in-process tables:\n%s", inproc)
	}
}

func TestChartIsAPNGWithARowPerResult(t *testing.T) {
	rows, _ := loadRows(t)
	var b bytes.Buffer
	if err := WriteChart(&b, rows, "caption"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	load := 0
	for _, r := range rows {
		if r.Group != "IdleConns" {
			load++
		}
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 2*panelW || h < titleH+load*rowH {
		t.Fatalf("chart is %dx%d for %d rows", w, h, load)
	}
	if err := WriteChart(&b, nil, ""); err == nil {
		t.Fatal("a chart without rows was drawn")
	}
}

func TestThousandsGroupsDigits(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", -4200: "-4,200"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
