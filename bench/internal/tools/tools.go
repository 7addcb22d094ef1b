// Package tools reads what the load tools the benchmarks run print — wrk's summary
// with --latency, h2load's — and keeps the tail of a helper process's output. It
// runs nothing itself.
package tools

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Output is what a wrk or h2load run reported.
type Output struct {
	Requests int64         // completed (wrk) or succeeded (h2load)
	Elapsed  time.Duration // of the measured run
	P50, P99 time.Duration // wrk --latency; 0 when unknown
	Mean     time.Duration // mean latency; 0 when unknown
	// Started (h2load) is the requests begun, finished or not.
	Started int64
	// DataBytes (h2load) is the response body bytes received; -1 when not printed.
	DataBytes int64
}

var (
	wrkTotal    = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m),`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkErrors   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkAvg      = regexp.MustCompile(`(?m)^\s+Latency\s+([\d.]+)(us|ms|s)\s`)
	h2Finished  = regexp.MustCompile(`finished in ([\d.]+)(us|ms|s),`)
	h2Requests  = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status    = regexp.MustCompile(`status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2ReqTiming = regexp.MustCompile(`(?m)^time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)`)
	h2Traffic   = regexp.MustCompile(`traffic: .*, [\d.]+\w* \((\d+)\) data`)
)

// UnitDuration reads a number with wrk's or h2load's unit (us, ms, s, m).
func UnitDuration(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	switch unit {
	case "us":
		return time.Duration(f * float64(time.Microsecond))
	case "ms":
		return time.Duration(f * float64(time.Millisecond))
	case "m":
		return time.Duration(f * float64(time.Minute))
	}
	return time.Duration(f * float64(time.Second))
}

func atoi(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }

// ParseWrk reads wrk --latency output. Socket errors, non-2xx responses and a run
// that completed no request are errors.
func ParseWrk(out string) (*Output, error) {
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("no request total in wrk's output")
	}
	o := &Output{Requests: atoi(m[1]), Elapsed: UnitDuration(m[2], m[3]), DataBytes: -1}
	if e := wrkErrors.FindStringSubmatch(out); e != nil {
		return nil, fmt.Errorf("wrk saw socket errors: %s", e[0])
	}
	if e := wrkNon2xx.FindStringSubmatch(out); e != nil {
		return nil, fmt.Errorf("wrk saw %s non-2xx responses", e[1])
	}
	if o.Requests == 0 {
		return nil, errors.New("wrk completed no request")
	}
	// wrk 4.1 prints 0.00us for a percentile its histogram did not keep (seen with
	// pipelining): unknown, not zero.
	for _, l := range wrkLatency.FindAllStringSubmatch(out, -1) {
		d := UnitDuration(l[2], l[3])
		if l[1] == "50" {
			o.P50 = d
		} else {
			o.P99 = d
		}
	}
	if m := wrkAvg.FindStringSubmatch(out); m != nil {
		o.Mean = UnitDuration(m[1], m[2])
	}
	return o, nil
}

// ParseH2load reads h2load's summary. Failed, errored or timed-out requests,
// non-2xx statuses and a run that completed no request are errors.
func ParseH2load(out string) (*Output, error) {
	f := h2Finished.FindStringSubmatch(out)
	r := h2Requests.FindStringSubmatch(out)
	s := h2Status.FindStringSubmatch(out)
	if f == nil || r == nil || s == nil {
		return nil, errors.New("cannot read h2load's summary")
	}
	if atoi(r[5])+atoi(r[6])+atoi(r[7]) > 0 || atoi(s[2])+atoi(s[3])+atoi(s[4]) > 0 {
		return nil, fmt.Errorf("h2load saw failures: %s; %s", strings.TrimSpace(r[0]), strings.TrimSpace(s[0]))
	}
	o := &Output{Requests: atoi(r[4]), Started: atoi(r[2]), Elapsed: UnitDuration(f[1], f[2]), DataBytes: -1}
	if o.Requests == 0 {
		return nil, errors.New("h2load completed no request")
	}
	if m := h2ReqTiming.FindStringSubmatch(out); m != nil {
		o.Mean = UnitDuration(m[5], m[6])
	}
	if m := h2Traffic.FindStringSubmatch(out); m != nil {
		o.DataBytes = atoi(m[1])
	}
	return o, nil
}

// TailBuffer is an io.Writer, safe for concurrent use, that keeps the last Max
// bytes written to it (8 KiB when Max is 0).
type TailBuffer struct {
	Max int
	mu  sync.Mutex
	b   []byte
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.Max
	if limit <= 0 {
		limit = 8 << 10
	}
	t.b = append(t.b, p...)
	if len(t.b) > limit {
		t.b = append(t.b[:0], t.b[len(t.b)-limit:]...)
	}
	return len(p), nil
}

// String returns what the buffer holds.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
