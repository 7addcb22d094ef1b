package bench

import (
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
