// Package supervisortest drives HTTP load at a server while its processes change
// (reloads, upgrades, recycling, kills) and counts every request that failed, the way
// net/http/httptest supports tests of handlers. It is imported only by tests.
//
// Two kinds of client run side by side: keep-alive clients, each holding one
// connection as a browser or a pooling proxy does, and connection-per-request
// clients, the way nginx talks to a uWSGI upstream. A keep-alive client that finds its
// idle connection closed by the server retries the request on a new connection, as
// RFC 9112 section 9.3.1 allows and every real client does; those retries are counted
// apart (Retried) and are not failures. Anything else is a failure: an error, a
// reset, a short body, a status other than the expected one.
package supervisortest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Load describes the traffic.
type Load struct {
	// Network and Address say where to connect: "tcp" and HOST:PORT, or "unix" and a
	// socket path.
	Network, Address string
	// Path is requested with GET; default "/".
	Path string
	// WantBody, when set, must be the whole response body.
	WantBody string
	// KeepAlive and PerRequest are the numbers of clients of each kind.
	KeepAlive, PerRequest int
	// RequestTimeout bounds one request; default 10s.
	RequestTimeout time.Duration
	// MaxRequests bounds the requests of one client; default 1,000,000.
	MaxRequests int
	// Pace is a pause between two requests of one client; default none.
	Pace time.Duration
}

// Result counts what happened.
type Result struct {
	OK      uint64 // requests answered as expected
	Failed  uint64 // requests that failed for good
	Resets  uint64 // failures that were connection resets
	Retried uint64 // keep-alive requests retried after the server closed an idle connection
	// Errors holds the first few failures, for the test log.
	Errors []string
}

// String summarises the result for logs.
func (r Result) String() string {
	s := fmt.Sprintf("ok=%d failed=%d resets=%d retried=%d", r.OK, r.Failed, r.Resets, r.Retried)
	if len(r.Errors) > 0 {
		s += "\n  " + strings.Join(r.Errors, "\n  ")
	}
	return s
}

// Run is load in progress.
type Run struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	ok, failed, resets, retried atomic.Uint64

	mu     sync.Mutex
	errors []string
}

const keepErrors = 10

// Start begins the load; it runs until Stop, or until every client has sent
// MaxRequests.
func Start(l Load) *Run {
	if l.Path == "" {
		l.Path = "/"
	}
	if l.RequestTimeout == 0 {
		l.RequestTimeout = 10 * time.Second
	}
	if l.MaxRequests == 0 {
		l.MaxRequests = 1_000_000
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Run{cancel: cancel}
	for i := 0; i < l.KeepAlive+l.PerRequest; i++ {
		keepAlive := i < l.KeepAlive
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.client(ctx, l, keepAlive)
		}()
	}
	return r
}

// OK is the number of requests answered so far.
func (r *Run) OK() uint64 { return r.ok.Load() }

// Snapshot returns the counts so far without stopping.
func (r *Run) Snapshot() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Result{OK: r.ok.Load(), Failed: r.failed.Load(), Resets: r.resets.Load(),
		Retried: r.retried.Load(), Errors: append([]string(nil), r.errors...)}
}

// Stop ends the load, waits for in-flight requests (each bounded by RequestTimeout)
// and returns the counts.
func (r *Run) Stop() Result {
	r.cancel()
	r.wg.Wait()
	return r.Snapshot()
}

func (r *Run) client(ctx context.Context, l Load, keepAlive bool) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, l.Network, l.Address)
		},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()
	host := l.Address
	if l.Network == "unix" {
		host = "unix"
	}
	url := "http://" + host + l.Path
	for n := 0; n < l.MaxRequests; n++ {
		if ctx.Err() != nil {
			return
		}
		r.one(ctx, tr, url, l)
		if l.Pace > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.Pace):
			}
		}
	}
}

// one sends a request. The stop of the load never cancels a request in flight: a
// request is abandoned only by its own timeout, which counts as a failure.
func (r *Run) one(stop context.Context, tr *http.Transport, url string, l Load) {
	conns, reused := 0, false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns++; reused = i.Reused }}
	kind := "per-request"
	if !tr.DisableKeepAlives {
		kind = "keep-alive"
	}
	fail := func(err error) {
		r.fail(fmt.Errorf("%s client, connection %d (reused %v): %w", kind, conns, reused, err))
	}
	ctx, cancel := context.WithTimeout(httptrace.WithClientTrace(context.Background(), trace), l.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fail(err)
		return
	}
	resp, err := tr.RoundTrip(req)
	if conns > 1 {
		r.retried.Add(1)
	}
	if err != nil {
		if stop.Err() != nil && errors.Is(err, context.Canceled) {
			return
		}
		fail(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		fail(fmt.Errorf("read body: %w", err))
	case resp.StatusCode != http.StatusOK:
		fail(fmt.Errorf("status %d: %.200s", resp.StatusCode, body))
	case l.WantBody != "" && string(body) != l.WantBody:
		fail(fmt.Errorf("body %.200q, want %q", body, l.WantBody))
	default:
		r.ok.Add(1)
	}
}

func (r *Run) fail(err error) {
	r.failed.Add(1)
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		r.resets.Add(1)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errors) < keepErrors {
		r.errors = append(r.errors, time.Now().Format("15:04:05.000")+" "+err.Error())
	}
}

// WaitFor waits until the run has answered at least n more requests than it had,
// or timeout passes; it reports whether it did. Tests use it to make sure load is
// flowing before and after each disruption.
func (r *Run) WaitFor(n uint64, timeout time.Duration) bool {
	target := r.ok.Load() + n
	deadline := time.Now().Add(timeout)
	for r.ok.Load() < target {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
