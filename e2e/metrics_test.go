package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/net/http2"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// scrape fetches /metrics and parses it with the Prometheus text parser.
func scrape(t testing.TB, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// series flattens a family into "label=value,..." -> value (counters, gauges,
// and histograms by their sample count).
func series(mfs map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	mf := mfs[name]
	if mf == nil {
		return out
	}
	for _, m := range mf.Metric {
		var kv []string
		for _, l := range m.Label {
			kv = append(kv, l.GetName()+"="+l.GetValue())
		}
		key := strings.Join(kv, ",")
		switch {
		case m.Counter != nil:
			out[key] = m.Counter.GetValue()
		case m.Gauge != nil:
			out[key] = m.Gauge.GetValue()
		case m.Histogram != nil:
			out[key] = float64(m.Histogram.GetSampleCount())
		}
	}
	return out
}

// traffic is what a phase of the test sends, and what /metrics must then show.
type traffic struct {
	requests map[string]float64 // gonicorn_http_requests_total by labels
	rejected map[string]float64 // gonicorn_http_rejected_requests_total by labels
	respBody float64            // gonicorn_http_response_body_bytes_total{protocol="http1"}
	reqBody  float64
}

func (tr *traffic) add(o traffic) {
	if tr.requests == nil {
		tr.requests, tr.rejected = map[string]float64{}, map[string]float64{}
	}
	for k, v := range o.requests {
		tr.requests[k] += v
	}
	for k, v := range o.rejected {
		tr.rejected[k] += v
	}
	tr.respBody += o.respBody
	tr.reqBody += o.reqBody
}

// sendKnownTraffic sends GETs, POSTs with bodies, 404s, handler panics (500)
// and one malformed request, each on a new connection so that no retry can
// blur the count, and returns what it sent.
func sendKnownTraffic(t testing.TB, addr string, round int) traffic {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	do := func(method, path, body string, want int) int64 {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
		}
		return int64(len(b))
	}
	tr := traffic{requests: map[string]float64{}, rejected: map[string]float64{}}
	key := func(method, class string) string {
		return "method=" + method + ",protocol=http1,status_class=" + class
	}
	for range 5 + round {
		tr.respBody += float64(do("GET", "/", "", 200))
		tr.requests[key("GET", "2xx")]++
	}
	for range 3 {
		body := strings.Repeat("x", 100+round)
		tr.respBody += float64(do("POST", "/echo", body, 200))
		tr.reqBody += float64(len(body))
		tr.requests[key("POST", "2xx")]++
	}
	for range 2 {
		tr.respBody += float64(do("GET", "/no-such-page", "", 404))
		tr.requests[key("GET", "4xx")]++
	}
	for range 2 + round {
		tr.respBody += float64(do("GET", "/panic", "", 500))
		tr.requests[key("GET", "5xx")]++
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(b), "HTTP/1.1 400") {
		t.Fatalf("malformed request answered %q", b)
	}
	tr.rejected["status=400"]++
	return tr
}

// waitMetricsMatch polls /metrics until its counters equal want exactly, and
// fails at once if any counter ever exceeds it (counted twice) or the total ever
// drops below what was seen before (went backwards).
func waitMetricsMatch(t testing.TB, addr string, want traffic, floor *float64) map[string]*dto.MetricFamily {
	t.Helper()
	var last map[string]*dto.MetricFamily
	var got map[string]float64
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		last = scrape(t, addr)
		got = series(last, "gonicorn_http_requests_total")
		total := 0.0
		for k, v := range got {
			total += v
			if v > want.requests[k] {
				t.Fatalf("gonicorn_http_requests_total{%s} = %v, more than the %v sent", k, v, want.requests[k])
			}
		}
		if total < *floor {
			t.Fatalf("gonicorn_http_requests_total went backwards: %v after %v", total, *floor)
		}
		*floor = total
		if maps.Equal(got, want.requests) && maps.Equal(series(last, "gonicorn_http_rejected_requests_total"), want.rejected) {
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gonicorn_http_requests_total = %v\nwant %v\nrejected %v want %v", got, want.requests,
		series(last, "gonicorn_http_rejected_requests_total"), want.rejected)
	return nil
}

func checkTotals(t testing.TB, mfs map[string]*dto.MetricFamily, want traffic) {
	t.Helper()
	n := 0.0
	for _, v := range want.requests {
		n += v
	}
	if got := series(mfs, "gonicorn_http_request_duration_seconds")["protocol=http1"]; got != n {
		t.Errorf("duration histogram counts %v requests, want %v", got, n)
	}
	if got := series(mfs, "gonicorn_http_response_body_bytes_total")["protocol=http1"]; got != want.respBody {
		t.Errorf("response body bytes %v, want %v", got, want.respBody)
	}
	if got := series(mfs, "gonicorn_http_request_body_bytes_total")["protocol=http1"]; got != want.reqBody {
		t.Errorf("request body bytes %v, want %v", got, want.reqBody)
	}
	h := mfs["gonicorn_http_request_duration_seconds"].Metric[0].Histogram
	var bounds []float64
	for _, b := range h.Bucket {
		if !math.IsInf(b.GetUpperBound(), 1) {
			bounds = append(bounds, b.GetUpperBound())
		}
	}
	otel := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	if !slices.Equal(bounds, otel) {
		t.Errorf("duration buckets %v, want OpenTelemetry's %v", bounds, otel)
	}
	for _, name := range []string{"gonicorn_workers_target", "gonicorn_workers_alive", "gonicorn_workers_busy",
		"gonicorn_http_requests_in_flight", "gonicorn_pool_rejections_total", "gonicorn_handler_timeouts_total",
		"gonicorn_connections_open", "gonicorn_connections_total", "gonicorn_worker_restarts_total",
		"gonicorn_listen_queue_length", "go_goroutines", "process_resident_memory_bytes"} {
		if mfs[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// TestMetricsMatchTrafficAcrossReloadAndKill is issue 11's end-to-end check: the
// master's /metrics equals the traffic sent to two workers, exactly, before and
// after a HUP reload and after a worker is SIGKILLed, and never goes backwards.
func TestMetricsMatchTrafficAcrossReloadAndKill(t *testing.T) {
	maddr := testutil.FreeAddr(t)
	h := startHerd(t, nil, "-w", "2", "-t", "10", "--metrics-bind", maddr)
	h.waitReady(1, 30*time.Second)
	var floor float64
	var want traffic

	want.add(sendKnownTraffic(t, h.tcp, 0))
	mfs := waitMetricsMatch(t, maddr, want, &floor)
	checkTotals(t, mfs, want)
	if got := series(mfs, "gonicorn_workers_target")[""]; got != 2 {
		t.Errorf("gonicorn_workers_target = %v, want 2", got)
	}
	for _, l := range []string{h.tcp, "unix:" + h.unixPath} {
		if _, ok := series(mfs, "gonicorn_listen_queue_length")["listener="+l]; !ok {
			t.Errorf("no gonicorn_listen_queue_length{listener=%q}", l)
		}
	}

	// HUP: the old workers drain and report their last counts before exiting.
	h.signal(syscall.SIGHUP)
	h.waitReady(2, 30*time.Second)
	testutil.Eventually(t, 15*time.Second, func() bool {
		return series(scrape(t, maddr), "gonicorn_worker_restarts_total")["reason=reload"] == 2
	}, "two reload restarts")
	waitMetricsMatch(t, maddr, want, &floor)
	want.add(sendKnownTraffic(t, h.tcp, 1))
	mfs = waitMetricsMatch(t, maddr, want, &floor)
	checkTotals(t, mfs, want)

	// SIGKILL a worker once everything it served is reported: nothing is lost,
	// nothing goes backwards, and its successor's counts add up.
	pids := h.workers()
	if len(pids) != 2 {
		t.Fatalf("workers %v", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 15*time.Second, func() bool {
		ws := h.workers()
		return len(ws) == 2 && !slices.Contains(ws, pids[0])
	}, "killed worker replaced")
	testutil.Eventually(t, 15*time.Second, func() bool {
		return series(scrape(t, maddr), "gonicorn_worker_restarts_total")["reason=crash"] == 1
	}, "one crash restart")
	waitMetricsMatch(t, maddr, want, &floor)
	testutil.Eventually(t, 15*time.Second, func() bool {
		return series(scrape(t, maddr), "gonicorn_workers_alive")[""] == 2
	}, "two workers alive after the kill")
	want.add(sendKnownTraffic(t, h.tcp, 2))
	mfs = waitMetricsMatch(t, maddr, want, &floor)
	checkTotals(t, mfs, want)
	if got := series(mfs, "gonicorn_workers_alive")[""]; got != 2 {
		t.Errorf("gonicorn_workers_alive = %v, want 2", got)
	}
	t.Logf("final: %v requests", floor)
	h.stop()
}

// TestStatsdFromTheBinary: the master of two workers pushes Gunicorn's statsd
// names to a UDP socket on 127.0.0.1, and the counts add up to the traffic.
func TestStatsdFromTheBinary(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h := startHerd(t, nil, "-w", "2", "-t", "10", "--statsd-host", pc.LocalAddr().String(), "--statsd-prefix", "app")
	h.waitReady(1, 30*time.Second)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string, want int) {
		resp, err := c.Get("http://" + h.tcp + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	for range 4 {
		get("/", 200)
	}
	get("/panic", 500)
	counts := map[string]int{}
	sawWorkers, sawDuration := false, false
	buf := make([]byte, 65536)
	deadline := time.Now().Add(15 * time.Second)
	for counts["app.gunicorn.requests"] < 5 || counts["app.gunicorn.request.status.500"] < 1 || !sawWorkers || !sawDuration {
		if time.Now().After(deadline) {
			t.Fatalf("statsd received %v (workers gauge %v, duration %v)", counts, sawWorkers, sawDuration)
		}
		_ = pc.SetReadDeadline(deadline)
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("statsd read: %v (so far %v)", err, counts)
		}
		for _, line := range strings.Split(string(buf[:n]), "\n") {
			name, rest, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("bad statsd line %q", line)
			}
			switch {
			case strings.HasSuffix(rest, "|c|@1.0"):
				var v int
				if _, err := fmt.Sscanf(rest, "%d|c|@1.0", &v); err != nil {
					t.Fatalf("bad counter %q", line)
				}
				counts[name] += v
			case name == "app.gunicorn.workers" && strings.HasSuffix(rest, "|g"):
				sawWorkers = true
			case name == "app.gunicorn.request.duration" && strings.Contains(rest, "|ms"):
				sawDuration = true
			default:
				t.Fatalf("unexpected statsd line %q", line)
			}
		}
	}
	if counts["app.gunicorn.requests"] != 5 || counts["app.gunicorn.request.status.200"] != 4 {
		t.Fatalf("statsd counts %v, want 5 requests, 4 of them 200", counts)
	}
	h.stop()
}

// TestMetricsCountTimeoutsAndPoolRejections: a handler past --timeout is a 503
// (or a cut once its response started) and a full pool with no queue
// (--max-queued-streams 0) a 503 at once; each is counted where the metrics
// say, exactly once.
func TestMetricsCountTimeoutsAndPoolRejections(t *testing.T) {
	maddr := testutil.FreeAddr(t)
	h := startHerd(t, nil, "-w", "1", "-t", "3", "--threads", "1", "--max-queued-streams", "0", "--metrics-bind", maddr)
	h.waitReady(1, 30*time.Second)
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, error) {
		resp, err := c.Get("http://" + h.tcp + path)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, err
	}
	// A: runs past --timeout (3 s), ignoring its context, and holds the only
	// handler slot until it returns at 4.5 s (the worker stays healthy: 1.5 s
	// stuck is less than the 3 s heartbeat timeout).
	slow := make(chan int, 1)
	go func() {
		code, err := get("/hang?ms=4500")
		if err != nil {
			code = -1
		}
		slow <- code
	}()
	testutil.Eventually(t, 10*time.Second, func() bool {
		return series(scrape(t, maddr), "gonicorn_http_requests_in_flight")[""] == 1
	}, "the slow request in flight")
	// B: no slot free.
	if code, err := get("/"); code != 503 || err != nil {
		t.Fatalf("request to a full pool: %d, %v", code, err)
	}
	if code := <-slow; code != 503 {
		t.Fatalf("handler past --timeout answered %d, want 503", code)
	}
	// C, once A has returned: a streamed response cut by the timeout (its head
	// went out first).
	testutil.Eventually(t, 10*time.Second, func() bool {
		return series(scrape(t, maddr), "gonicorn_http_requests_in_flight")[""] == 0
	}, "the hung handler returned")
	if code, err := get("/stream?chunks=10&size=10&ms=500"); code != 200 || err == nil {
		t.Fatalf("streamed response past --timeout: %d, %v; want a 200 cut short", code, err)
	}
	want := map[string]map[string]float64{
		"gonicorn_http_requests_total":    {"method=GET,protocol=http1,status_class=5xx": 2},
		"gonicorn_pool_rejections_total":  {"": 1},
		"gonicorn_handler_timeouts_total": {"answer=503": 1, "answer=cut": 1},
	}
	testutil.Eventually(t, 15*time.Second, func() bool {
		mfs := scrape(t, maddr)
		for name, w := range want {
			if !maps.Equal(series(mfs, name), w) {
				return false
			}
		}
		return true
	}, "timeouts and rejections counted: want %v", want)
	h.stop()
}

// TestMetricsLabelProtocols: h2c (prior knowledge) and uWSGI requests are counted
// under their own protocol label, with their connections.
func TestMetricsLabelProtocols(t *testing.T) {
	maddr, uaddr := testutil.FreeAddr(t), testutil.FreeAddr(t)
	h := startHerd(t, nil, "-w", "1", "-t", "10", "-b", "uwsgi://"+uaddr, "--metrics-bind", maddr)
	h.waitReady(1, 30*time.Second)
	for range 2 {
		got, err := exchange(t, uaddr, getRoot)
		if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 200") {
			t.Fatalf("uwsgi: %q, %v", got, err)
		}
	}
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for range 3 {
		resp, err := c.Get("http://" + h.tcp + "/")
		if err != nil {
			t.Fatalf("h2c: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(b) != "Hello, World!" {
			t.Fatalf("h2c answer %s %q", resp.Proto, b)
		}
	}
	want := map[string]map[string]float64{
		"gonicorn_http_requests_total": {
			"method=GET,protocol=uwsgi,status_class=2xx": 2,
			"method=GET,protocol=h2,status_class=2xx":    3,
		},
		"gonicorn_http_response_body_bytes_total": {"protocol=http1": 0, "protocol=h2": 39, "protocol=uwsgi": 26},
	}
	var mfs map[string]*dto.MetricFamily
	testutil.Eventually(t, 15*time.Second, func() bool {
		mfs = scrape(t, maddr)
		for name, w := range want {
			if !maps.Equal(series(mfs, name), w) {
				return false
			}
		}
		return true
	}, "per-protocol counts: want %v", want)
	conns := series(mfs, "gonicorn_connections_total")
	if conns["protocol=h2"] != 1 || conns["protocol=uwsgi"] != 2 || conns["protocol=http1"] < 1 {
		t.Fatalf("gonicorn_connections_total = %v", conns)
	}
	if open := series(mfs, "gonicorn_connections_open"); open["protocol=h2"] != 1 || open["protocol=uwsgi"] != 0 {
		t.Fatalf("gonicorn_connections_open = %v (the h2c connection is still open)", open)
	}
	tr.CloseIdleConnections()
	h.stop()
}
