package bench_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gonicorn/gonicorn/bench"
)

// Measure is the harness without the testing package: it serves a handler with
// gonicorn in this process, loads it from a child process (this binary, started
// again) and returns what it measured. In a benchmark, bench.Run(b, h, o) does the
// same and reports the figures. This run is a short smoke load, not a measurement.
func ExampleMeasure() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, World!"))
	})
	res, err := bench.Measure(bench.Gonicorn(nil), h, bench.Options{
		Workload: bench.KeepAlive,
		Path:     "/",
		WantBody: []byte("Hello, World!"),
		Requests: 500,
		Duration: 5 * time.Second,
		Warmup:   -1,
		NoPin:    true,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("checked responses:", res.Requests >= 500)
	fmt.Println("latency measured:", res.P99 > 0)
	// Output:
	// checked responses: true
	// latency measured: true
}
