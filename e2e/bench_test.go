package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// The nginx benchmarks run wrk for a fixed time, whatever b.N is; run them with
// -benchtime 1x:
//
//	go test ./e2e -run XXX -bench Nginx -benchtime 1x
//
// Each reports requests/s, latency percentiles, and the CPU time the upstream server
// and nginx spent per request (from /proc/PID/stat, over all processes of their
// process groups, so gonicorn's master and workers count together).

const wrkDuration = 5 * time.Second

// BenchmarkNginxUWSGI: wrk → nginx → uwsgi_pass (a new TCP connection per request, as
// nginx does for uwsgi) → gonicorn -w 1.
func BenchmarkNginxUWSGI(b *testing.B) {
	addr := testutil.FreeAddr(b)
	g := startGonicorn(b, "tcp", addr, "--protocol", "uwsgi", "-b", addr, "-w", "1")
	ng := startNginx(b, nginxSite{
		HTTP:   `upstream app { server ` + addr + `; }`,
		Server: `location / { include /etc/nginx/uwsgi_params; uwsgi_pass app; }`,
	})
	runWrk(b, ng, g)
}

// BenchmarkNginxUWSGIUnix is BenchmarkNginxUWSGI over a unix socket.
func BenchmarkNginxUWSGIUnix(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "gonicorn.sock")
	g := startGonicorn(b, "unix", sock, "-b", "uwsgi+unix:"+sock, "-w", "1")
	ng := startNginx(b, nginxSite{
		HTTP:   `upstream app { server unix:` + sock + `; }`,
		Server: `location / { include /etc/nginx/uwsgi_params; uwsgi_pass app; }`,
	})
	runWrk(b, ng, g)
}

// BenchmarkNginxProxyNetHTTP: wrk → nginx → proxy_pass over kept-alive HTTP/1.1
// upstream connections → the demo app on a plain net/http server.
func BenchmarkNginxProxyNetHTTP(b *testing.B) {
	addr := testutil.FreeAddr(b)
	srv := testutil.Start(b, testutil.BuildPackage(b, "./e2e/testdata/nethttpserver"), "-addr", addr)
	testutil.WaitDial(b, srv, "tcp", addr, 20*time.Second)
	ng := startNginx(b, nginxSite{
		HTTP: `upstream app { server ` + addr + `; keepalive 32; }`,
		Server: `location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}`,
	})
	runWrk(b, ng, srv)
}

// BenchmarkNginxProxyGonicorn is BenchmarkNginxProxyNetHTTP with gonicorn -w 1 in
// HTTP mode as the upstream: what uwsgi_pass is to be weighed against.
func BenchmarkNginxProxyGonicorn(b *testing.B) {
	addr := testutil.FreeAddr(b)
	g := startGonicorn(b, "tcp", addr, "-b", addr, "-w", "1")
	ng := startNginx(b, nginxSite{
		HTTP: `upstream app { server ` + addr + `; keepalive 32; }`,
		Server: `location / {
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}`,
	})
	runWrk(b, ng, g)
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(\w+),`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
)

// runWrk runs wrk against ng's / once and reports its numbers and the CPU that the
// upstream process group and nginx spent per request.
func runWrk(b *testing.B, ng *nginx, upstream *testutil.Proc) {
	wrk := testutil.RequireTool(b, "wrk")
	// One request first: the route works and every process has started.
	if out, err := exec.Command("curl", "-sf", "-o", "/dev/null", ng.URL("/")).CombinedOutput(); err != nil {
		b.Fatalf("warm-up request failed: %v %s", err, out)
	}
	upCPU0, ngCPU0 := groupCPU(b, upstream.Pid()), groupCPU(b, ng.proc.Pid())
	b.ResetTimer()
	cmd := exec.Command(wrk, "-t1", "-c32", "-d"+strconv.Itoa(int(wrkDuration.Seconds()))+"s", "--latency", "--timeout", "5s", ng.URL("/"))
	out, err := cmd.CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	upCPU, ngCPU := groupCPU(b, upstream.Pid())-upCPU0, groupCPU(b, ng.proc.Pid())-ngCPU0
	if upCPU <= 0 || ngCPU <= 0 {
		b.Fatalf("no CPU time measured for the upstream (%v) or nginx (%v): wrong process groups?", upCPU, ngCPU)
	}
	text := string(out)
	if strings.Contains(text, "Non-2xx") || strings.Contains(text, "Socket errors") {
		b.Fatalf("wrk saw failed requests:\n%s", text)
	}
	m := wrkRequests.FindStringSubmatch(text)
	r := wrkRate.FindStringSubmatch(text)
	if m == nil || r == nil {
		b.Fatalf("cannot read wrk's output:\n%s", text)
	}
	requests, _ := strconv.ParseFloat(m[1], 64)
	rate, _ := strconv.ParseFloat(r[1], 64)
	if requests == 0 {
		b.Fatalf("wrk completed no request:\n%s", text)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64(upCPU.Microseconds())/requests, "upstream-cpu-µs/req")
	b.ReportMetric(float64(ngCPU.Microseconds())/requests, "nginx-cpu-µs/req")
	for _, l := range wrkLatency.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		switch l[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		b.ReportMetric(v, "p"+l[1]+"-ms")
	}
	b.Logf("wrk:\n%s", text)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// groupCPU returns the user+system CPU time of every live process in process group
// pgid, plus what the group leader has collected from children it reaped.
func groupCPU(b *testing.B, pgid int) time.Duration {
	b.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		b.Fatal(err)
	}
	var ticks int64
	for _, path := range dirs {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the process exited since the glob
		}
		// The command name may hold spaces and parentheses: fields start after the last ')'.
		s := string(raw)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0] is field 3 (state): pgrp is field 5, utime 14, stime 15, cutime 16, cstime 17.
		if len(f) < 15 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		for _, k := range []int{11, 12} {
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
		if filepath.Base(filepath.Dir(path)) == strconv.Itoa(pgid) {
			for _, k := range []int{13, 14} {
				v, _ := strconv.ParseInt(f[k], 10, 64)
				ticks += v
			}
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
