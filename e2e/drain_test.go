package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// readyz fetches the readiness path on a new connection: its status, or 0 when
// nothing answered.
func readyz(addr string) int {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// A TERM with --shutdown-delay keeps every listener accepting and every worker
// serving for the delay while /readyz answers 503 (what takes a Kubernetes pod
// out of its Service before anything is refused), then stops gracefully.
func TestShutdownDelayServesUnderLoadWithReadinessDown(t *testing.T) {
	const delay = 2 * time.Second
	h := startHerd(t, nil, "-w", "2", "--shutdown-delay", "2", "--readiness-path", "/readyz", "--graceful-timeout", "10")
	h.waitReady(1, 30*time.Second)
	if got := readyz(h.tcp); got != 200 {
		t.Fatalf("/readyz of a serving herd = %d, want 200", got)
	}
	load := h.load(2, 2)
	load.waitFlowing(t)

	termAt := time.Now()
	h.signal(syscall.SIGTERM)
	testutil.Eventually(t, delay/2, func() bool { return readyz(h.tcp) == 503 },
		"/readyz did not answer 503 within %v of TERM", delay/2)
	// Load keeps flowing, over new connections too, for most of the delay.
	for _, l := range load {
		if !l.WaitFor(100, delay/2) {
			t.Fatalf("load stalled during the shutdown delay: %v", l.Snapshot())
		}
	}
	if got := readyz(h.tcp); got != 503 {
		t.Fatalf("/readyz during the delay = %d, want 503", got)
	}
	time.Sleep(time.Until(termAt.Add(delay * 3 / 4)))
	if h.p.Exited() {
		t.Fatal("the master exited before its shutdown delay ended")
	}
	load.stopAndCheck(t)
	if code, err := h.p.Wait(20 * time.Second); code != 0 {
		t.Fatalf("master exit code %d: %v", code, err)
	}
	if took := time.Since(termAt); took < delay {
		t.Fatalf("the master stopped %v after TERM, before its %v delay", took, delay)
	}
	for _, want := range []string{"TERM: serving on with the readiness path answering 503", "shutdown delay over: graceful stop", "readiness answers 503"} {
		if !strings.Contains(h.p.Stderr(), want) {
			t.Errorf("error log lacks %q", want)
		}
	}
}

// Without a delay TERM closes the listeners at once: what the delay is for.
func TestTERMWithoutShutdownDelayClosesTheListenersAtOnce(t *testing.T) {
	h := startHerd(t, nil, "--readiness-path", "/readyz")
	h.waitReady(1, 30*time.Second)
	testutil.Eventually(t, 5*time.Second, func() bool { return readyz(h.tcp) == 200 }, "/readyz never answered 200")
	h.signal(syscall.SIGTERM)
	testutil.Eventually(t, 5*time.Second, func() bool { return readyz(h.tcp) == 0 },
		"the listener still answers after TERM without --shutdown-delay")
	if code, err := h.p.Wait(20 * time.Second); code != 0 {
		t.Fatalf("master exit code %d: %v", code, err)
	}
}

// After TERM, once the workers have taken what was queued, the listening socket
// refuses new connections: a client is refused at once (a proxy retries another
// instance) instead of waiting in a backlog that nobody accepts from for the
// whole graceful stop, to be reset at its end. The request in flight finishes.
func TestTERMRefusesNewConnectionsWhileInFlightRequestsFinish(t *testing.T) {
	h := startHerd(t, nil, "-w", "2", "--graceful-timeout", "10")
	h.waitReady(1, 30*time.Second)
	slow := make(chan error, 1)
	go func() {
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + h.tcp + "/sleep?ms=2500")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "slept" {
				err = fmt.Errorf("slow request answered %q", b)
			}
		}
		slow <- err
	}()
	time.Sleep(300 * time.Millisecond) // the slow request is in flight
	h.signal(syscall.SIGTERM)
	time.Sleep(400 * time.Millisecond) // past the refuse grace, long before the drain ends
	start := time.Now()
	c, err := net.DialTimeout("tcp", h.tcp, 5*time.Second)
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_, err = io.ReadAll(c)
		c.Close()
		if err == nil {
			t.Fatal("a connection made during the graceful stop was served")
		}
	}
	if took := time.Since(start); took > 500*time.Millisecond || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("a new connection during the graceful stop failed after %v with %v; want refused at once", took, err)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the request in flight at TERM: %v", err)
	}
	if code, err := h.p.Wait(20 * time.Second); code != 0 {
		t.Fatalf("master exit code %d: %v", code, err)
	}
}
