package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/tools/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseWrkReadsTotalsAndPercentiles(t *testing.T) {
	got, err := parseWrk(readTestdata(t, "wrk-keepalive.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := toolOutput{requests: 46357, elapsed: 1100 * time.Millisecond, p50: 122 * time.Microsecond,
		p99: 90640 * time.Microsecond, mean: 3150 * time.Microsecond}
	if *got != want {
		t.Fatalf("got %+v\nwant %+v", *got, want)
	}
}

func TestParseWrkLeavesUnprintedPercentilesUnknown(t *testing.T) {
	out := "    Latency    24.98ms   24.93ms 147.86ms   73.36%\n  Latency Distribution\n     50%   23.37ms\n     99%    0.00us\n  140016 requests in 2.08s, 15.36MB read\n"
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.p50 != 23370*time.Microsecond || got.p99 != 0 || got.mean != 24980*time.Microsecond || got.requests != 140016 {
		t.Fatalf("got %+v", *got)
	}
}

func TestParseWrkRejectsFailedRuns(t *testing.T) {
	for _, tt := range []struct{ file, want string }{
		{"wrk-non2xx.txt", "non-2xx"},
		{"wrk-refused.txt", "no request total"},
	} {
		if _, err := parseWrk(readTestdata(t, tt.file)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.file, err, tt.want)
		}
	}
	errs := "  10 requests in 1.00s, 1KB read\n  Socket errors: connect 0, read 3, write 0, timeout 0\n     50%  1ms\n     99%  2ms\n"
	if _, err := parseWrk(errs); err == nil || !strings.Contains(err.Error(), "socket errors") {
		t.Errorf("socket errors: err = %v", err)
	}
}

func TestParseH2loadReadsTotalsAndMean(t *testing.T) {
	got, err := parseH2load(readTestdata(t, "h2load.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := toolOutput{requests: 130002, elapsed: time.Second, mean: 213 * time.Microsecond}
	if *got != want {
		t.Fatalf("got %+v\nwant %+v", *got, want)
	}
}

func TestParseH2loadRejectsFailedRequests(t *testing.T) {
	if _, err := parseH2load(readTestdata(t, "h2load-4xx.txt")); err == nil || !strings.Contains(err.Error(), "failures") {
		t.Fatalf("err = %v, want a failures error", err)
	}
	if _, err := parseH2load("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
}
