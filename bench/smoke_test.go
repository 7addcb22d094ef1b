package bench

import (
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// smokeOptions is a tiny load: tens of requests, no warm-up, unpinned.
func smokeOptions(w Workload) Options {
	return Options{
		Workload: w,
		Conns:    4,
		Depth:    4,
		Duration: 10 * time.Second,
		Warmup:   -1,
		Requests: 40,
		Timeout:  5 * time.Second,
		WantBody: HelloBody,
		NoPin:    true,
	}
}

func TestEveryWorkloadServesCheckedResponses(t *testing.T) {
	servers := []struct {
		name  string
		start StartFunc
	}{
		{"gonicorn", Gonicorn(nil)},
		{"nethttp", NetHTTP()},
		{"nethttp-h2c", NetHTTPH2C()},
	}
	for _, w := range Workloads {
		for _, s := range servers {
			t.Run(string(w)+"/"+s.name, func(t *testing.T) {
				r, err := Measure(s.start, DemoHandler(), smokeOptions(w), nil)
				if err == ErrUnsupported {
					t.Skip(err)
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Requests != 40 {
					t.Fatalf("completed %d requests, want 40", r.Requests)
				}
				if r.Latency.Count() != 40 || r.Latency.Quantile(0.99) <= 0 {
					t.Fatalf("latency histogram holds %d observations, p99 %v", r.Latency.Count(), r.Latency.Quantile(0.99))
				}
				t.Log(r)
			})
		}
	}
}

func TestWrongBodyFailsTheRun(t *testing.T) {
	for _, w := range Workloads {
		t.Run(string(w), func(t *testing.T) {
			o := smokeOptions(w)
			o.WantBody = []byte("Goodbye")
			_, err := Measure(Gonicorn(nil), DemoHandler(), o, nil)
			if err == nil || !strings.Contains(err.Error(), "wrong body") {
				t.Fatalf("err = %v, want a wrong-body error", err)
			}
		})
	}
}

func TestUnexpectedStatusFailsTheRun(t *testing.T) {
	for _, w := range Workloads {
		t.Run(string(w), func(t *testing.T) {
			o := smokeOptions(w)
			o.Path = "/missing"
			o.WantBody = nil
			_, err := Measure(Gonicorn(nil), DemoHandler(), o, nil)
			if err == nil || !strings.Contains(err.Error(), "status 404") {
				t.Fatalf("err = %v, want a status 404 error", err)
			}
		})
	}
}

var _ http.Handler = DemoHandler()

func TestBodiesBothWaysOnEveryWorkload(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 600) // 9600 bytes: several reads, one h2 frame
	cases := []struct {
		name string
		o    Options
	}{
		{"chunked stream response", Options{Path: "/stream?chunks=3&size=5", WantBody: []byte("abcdeabcdeabcde")}},
		{"large response", Options{Path: "/bytes?n=200000", WantBody: demoFiller(200000)}},
		{"POST echo", Options{Method: "POST", Path: "/echo", Body: big, WantBody: big,
			Header: http.Header{"Content-Type": {"application/octet-stream"}}}},
	}
	for _, c := range cases {
		for _, w := range Workloads {
			t.Run(c.name+"/"+string(w), func(t *testing.T) {
				o := smokeOptions(w)
				o.Method, o.Path, o.Body, o.WantBody, o.Header = c.o.Method, c.o.Path, c.o.Body, c.o.WantBody, c.o.Header
				r, err := Measure(Gonicorn(nil), DemoHandler(), o, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.Requests != o.Requests {
					t.Fatalf("%d requests, want %d", r.Requests, o.Requests)
				}
			})
		}
	}
}

// demoFiller is what the demo app's /bytes?n=N sends: a 64 KiB block of the
// alphabet, repeated.
func demoFiller(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%(64<<10)%26)
	}
	return b
}

func TestSeveralGeneratorThreadsShareTheRequestBudget(t *testing.T) {
	o := smokeOptions(KeepAlive)
	o.Threads, o.Conns, o.Requests = 3, 7, 101
	r, err := Measure(NetHTTP(), DemoHandler(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 101 || r.Latency.Count() != 101 {
		t.Fatalf("%d requests, %d latencies; want 101", r.Requests, r.Latency.Count())
	}
}

func TestServerClosingKeepAliveConnectionsIsFollowedByReconnects(t *testing.T) {
	closing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write(HelloBody)
	})
	o := smokeOptions(KeepAlive)
	o.Depth = 1
	r, err := Measure(NetHTTP(), closing, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 40 || r.Reconnects < 36 {
		t.Fatalf("%d requests, %d reconnects; want 40 and one reconnect per request", r.Requests, r.Reconnects)
	}
}

func TestStalledResponsesFailWithinTheTimeout(t *testing.T) {
	for _, w := range Workloads {
		t.Run(string(w), func(t *testing.T) {
			o := smokeOptions(w)
			o.Path, o.WantBody, o.Timeout = "/sleep?ms=3000", nil, 300*time.Millisecond
			start := time.Now()
			_, err := Measure(Gonicorn(nil), DemoHandler(), o, nil)
			if err == nil || !strings.Contains(err.Error(), "no response within 300ms") {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Fatalf("the stalled run took %v", d)
			}
		})
	}
}

func TestServerThatIsNotThereFailsFast(t *testing.T) {
	dead := func(http.Handler, ServerEnv) (string, func() error, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		addr := l.Addr().String()
		l.Close()
		return addr, func() error { return nil }, nil
	}
	for _, w := range Workloads {
		if _, err := Measure(dead, DemoHandler(), smokeOptions(w), nil); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v, want connection refused", w, err)
		}
	}
}
