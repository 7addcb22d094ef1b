package metrics

import (
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/supervisor"
)

func report(t *testing.T, h *Hub, id int, c *stats.Counters, inFlight int64) {
	t.Helper()
	s := c.Snapshot(inFlight)
	h.WorkerReport(id, string(s.AppendEncoded(nil)))
}

func TestListenQueueOfARealSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ino, err := socketInode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Three connections complete the handshake and wait, never accepted.
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, ok := readListenQueues("/proc/net/tcp", "/proc/net/tcp6")[ino]
		if ok && q == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue of inode %d = %d (found %v), want 3", ino, q, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParseProcNetTCPSkipsGarbage(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F91 00000000:0000 01 00000000:00000007 00:00000000 00000000     0        0 4343 1
   2: garbage
   3: 0100007F:1F92 00000000:0000 0A 00000000:zz 00:00000000 00000000     0        0 4444 1
`
	out := map[uint64]uint64{}
	parseProcNetTCP(strings.NewReader(table), out)
	if len(out) != 1 || out[4242] != 5 {
		t.Fatalf("parsed %v, want only inode 4242 with 5 waiting", out)
	}
}

func TestCollectorTotalsOverRestarts(t *testing.T) {
	h := NewHub(zerolog.Nop())
	h.SetStatus(func() supervisor.Status {
		return supervisor.Status{Target: 2, Workers: []supervisor.WorkerStatus{
			{ID: 2, Ready: true, State: "running"}, {ID: 3, Ready: true, State: "running"},
		}}
	})
	w1 := stats.NewCounters()
	w1.Request(stats.HTTP1, "GET", 200, time.Millisecond, 0, 13)
	w1.Request(stats.HTTP1, "GET", 502, time.Millisecond, 0, 0)
	report(t, h, 1, w1, 0)
	h.WorkerExited(1, supervisor.RestartCrash)
	w2 := stats.NewCounters()
	w2.Request(stats.H2, "POST", 201, 20*time.Millisecond, 5, 2)
	w2.Rejected(431)
	report(t, h, 2, w2, 1)
	h.WorkerReport(3, "garbage") // dropped, logged

	reg, err := Registry(NewCollector(h, nil))
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "gonicorn_") {
			continue
		}
		for _, m := range mf.Metric {
			var kv []string
			for _, l := range m.Label {
				kv = append(kv, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(kv, ",") + "}"
			switch {
			case m.Counter != nil:
				got[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				got[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				got[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"gonicorn_http_requests_total{method=GET,protocol=http1,status_class=2xx}": 1,
		"gonicorn_http_requests_total{method=GET,protocol=http1,status_class=5xx}": 1,
		"gonicorn_http_requests_total{method=POST,protocol=h2,status_class=2xx}":   1,
		"gonicorn_http_request_duration_seconds{protocol=http1}":                   2,
		"gonicorn_http_request_duration_seconds{protocol=h2}":                      1,
		"gonicorn_http_rejected_requests_total{status=431}":                        1,
		"gonicorn_http_request_body_bytes_total{protocol=h2}":                      5,
		"gonicorn_http_response_body_bytes_total{protocol=http1}":                  13,
		"gonicorn_http_requests_in_flight{}":                                       1,
		"gonicorn_worker_restarts_total{reason=crash}":                             1,
		"gonicorn_workers_target{}":                                                2,
		"gonicorn_workers_alive{}":                                                 2,
		"gonicorn_workers_busy{}":                                                  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if t.Failed() {
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("got:\n%s", strings.Join(keys, "\n"))
	}
}

func TestStatsdPushesGunicornNames(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h := NewHub(zerolog.Nop())
	h.SetStatus(func() supervisor.Status {
		return supervisor.Status{Target: 1, Workers: []supervisor.WorkerStatus{{ID: 1, Ready: true, State: "running"}}}
	})
	s, err := DialStatsd(pc.LocalAddr().String(), "app..", h, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.conn.Close()
	w := stats.NewCounters()
	for range 3 {
		w.Request(stats.HTTP1, "GET", 200, 2*time.Millisecond, 0, 1)
	}
	w.Request(stats.HTTP1, "GET", 503, 300*time.Millisecond, 0, 1)
	report(t, h, 1, w, 0)
	s.Push()
	got := readLines(t, pc)
	want := []string{
		"app.gunicorn.requests:4|c|@1.0",
		"app.gunicorn.request.status.200:3|c|@1.0",
		"app.gunicorn.request.status.503:1|c|@1.0",
		"app.gunicorn.request.duration:2.5|ms|@0.333333",
		"app.gunicorn.request.duration:375|ms",
		"app.gunicorn.workers:1|g",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("statsd got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The next push sends only what changed.
	w.Request(stats.HTTP1, "GET", 200, 2*time.Millisecond, 0, 1)
	report(t, h, 1, w, 0)
	s.Push()
	got = readLines(t, pc)
	want = []string{"app.gunicorn.requests:1|c|@1.0", "app.gunicorn.request.status.200:1|c|@1.0", "app.gunicorn.request.duration:2.5|ms", "app.gunicorn.workers:1|g"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("second push got %q, want %q", got, want)
	}
}

func readLines(t *testing.T, pc net.PacketConn) []string {
	t.Helper()
	buf := make([]byte, 65536)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(buf[:n]), "\n")
}

func TestListenQueueOfAUnixSocket(t *testing.T) {
	path := t.TempDir() + "/q.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for range 2 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	got := ListenQueues([]Listener{{Spec: "unix:" + path, File: f}})
	if got["unix:"+path] != 2 {
		t.Fatalf("unix listener queue %v, want 2 waiting", got)
	}
}

// The kernel's tables are input too: no answer makes the parsers panic or loop.
func FuzzParseProcNetTCP(f *testing.F) {
	f.Add("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 4242 1\n")
	f.Add("\n0 1 2 0A x:y 5 6 7 8 9\n")
	f.Fuzz(func(t *testing.T, table string) {
		parseProcNetTCP(strings.NewReader(table), map[uint64]uint64{})
	})
}

func FuzzParseUnixDiag(f *testing.F) {
	msg := make([]byte, 16+16+12)
	le := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le(msg[0:], uint32(len(msg)))
	msg[4] = 20
	le(msg[16+4:], 777)
	msg[32], msg[34] = 12, 4
	le(msg[36:], 3)
	f.Add(msg)
	f.Add([]byte{16, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{255, 255, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseUnixDiag(b, map[uint64]uint64{})
	})
}
