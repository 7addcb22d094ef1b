package binbench

import (
	"strings"
	"testing"
	"time"
)

func TestParseStraceSummary(t *testing.T) {
	text := `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 40.00    0.004000           2      2000       100 futex
 30.00    0.003000           1      3000           epoll_pwait
 30.00    0.003000           1      1000           accept4
------ ----------- ----------- --------- --------- ----------------
100.00    0.010000           1      6000       100 total
`
	got, err := parseStraceSummary(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []SyscallCount{{"futex", 2000, 100}, {"epoll_pwait", 3000, 0}, {"accept4", 1000, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
	s := Syscalls{Requests: 1000, Counts: got}
	if total, fn := perRequest(s, ""); total != 6 || fn != 2 {
		t.Errorf("perRequest: %v, %v; want 6, 2", total, fn)
	}
	for _, bad := range []string{"", "strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n"} {
		if _, err := parseStraceSummary(bad); err == nil {
			t.Errorf("parseStraceSummary(%q) accepted", bad)
		}
	}
}

const wrkOut = `Running 1s test @ http://127.0.0.1:1/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   600.00us  100.00us   2.00ms   90.00%
  Latency Distribution
     50%  550.00us
     75%  600.00us
     90%  700.00us
     99%    1.50ms
  100000 requests in 1.00s, 12.00MB read
Requests/sec: 100000.00
Transfer/sec:     12.00MB
binbench-check requests=100000 bytes=12000600 status_errors=0
`

func TestParseWrk(t *testing.T) {
	// 100,000 responses of 120 bytes, and 5 cut by the end of the run.
	r, err := parseWrk(wrkOut, wireSize{size: 120}, 64)
	if err != nil {
		t.Fatal(err)
	}
	// A connection's last response may be shorter by "keep-alive" - "close".
	if _, err := parseWrk(strings.Replace(wrkOut, "bytes=12000600", "bytes=11999000", 1), wireSize{size: 120, shrink: 5}, 64); err != nil {
		t.Errorf("responses shortened by Connection: close: %v", err)
	}
	if r.requests != 100000 || r.elapsed != time.Second || r.p50 != 550*time.Microsecond || r.p99 != 1500*time.Microsecond {
		t.Errorf("got %+v", r)
	}
	for name, out := range map[string]string{
		"status errors":       strings.Replace(wrkOut, "status_errors=0", "status_errors=3", 1),
		"other request count": strings.Replace(wrkOut, "requests=100000", "requests=99999", 1),
		"shorter responses":   strings.Replace(wrkOut, "bytes=12000600", "bytes=11999999", 1),
		"longer responses":    strings.Replace(wrkOut, "bytes=12000600", "bytes=12100000", 1),
		"no check":            strings.Replace(wrkOut, "binbench-check", "x", 1),
		"non-2xx":             strings.Replace(wrkOut, "Requests/sec", "  Non-2xx or 3xx responses: 5\nRequests/sec", 1),
		"socket error":        strings.Replace(wrkOut, "Requests/sec", "  Socket errors: connect 0, read 1, write 0, timeout 0\nRequests/sec", 1),
	} {
		if _, err := parseWrk(out, wireSize{size: 120}, 64); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

const h2loadOut = `finished in 1.00s, 50000.00 req/s, 1.00MB/s
requests: 50000 total, 50100 started, 50000 done, 50000 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 50000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.00MB (2000000) total, 100.00KB (100000) headers (space savings 90.00%), 634.77KB (650000) data
`

func TestParseH2load(t *testing.T) {
	r, err := parseH2load(h2loadOut, 13)
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 50000 || r.elapsed != time.Second {
		t.Errorf("got %+v", r)
	}
	for name, out := range map[string]string{
		"failed":     strings.Replace(h2loadOut, "0 failed", "2 failed", 1),
		"4xx":        strings.Replace(h2loadOut, "0 4xx", "1 4xx", 1),
		"short body": strings.Replace(h2loadOut, "(650000) data", "(600000) data", 1),
		"long body":  strings.Replace(h2loadOut, "(650000) data", "(700000) data", 1),
	} {
		if _, err := parseH2load(out, 13); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSelected(t *testing.T) {
	c := &Config{Only: []string{"uwsgi-tcp", "keepalive/gonicorn", "syscalls-*"}}
	for _, tc := range []struct {
		scenario, server string
		want             bool
	}{
		{"uwsgi-tcp", "uwsgi", true},
		{"uwsgi-unix", "gonicorn", false},
		{"keepalive", "gonicorn", true},
		{"keepalive", "nethttp", false},
		{"syscalls-uwsgi-unix", "uwsgi", true},
	} {
		if got := c.selected(tc.scenario, tc.server); got != tc.want {
			t.Errorf("selected(%s, %s) = %v", tc.scenario, tc.server, got)
		}
	}
}
