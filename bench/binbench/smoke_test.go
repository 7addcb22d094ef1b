package binbench

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// buildTools builds gonicorn and peerserver and finds the rest, skipping the test when a
// tool is missing (failing it under GONICORN_REQUIRE_TOOLS=1, as make test runs).
func buildTools(t *testing.T) *Tools {
	t.Helper()
	gon := testutil.Binary(t)
	peer := filepath.Join(t.TempDir(), "peerserver")
	cmd := exec.Command("go", "build", "-mod=mod", "-o", peer, "./cmd/peerserver")
	cmd.Dir = filepath.Join(testutil.ModuleRoot(t), "bench", "peers")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building peerserver: %v\n%s", err, out)
	}
	tl, err := FindTools(gon, peer)
	if err != nil {
		if os.Getenv("GONICORN_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return tl
}

func pinned() (int, int) {
	if runtime.NumCPU() < 2 {
		return -1, -1
	}
	return 0, 1
}

// TestHarnessSmoke runs every scenario and strace count once, for one second, and
// checks that each served correct answers and produced numbers: the harness of
// `make bench` cannot rot unnoticed. No timing is asserted.
func TestHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	tl := buildTools(t)
	release, err := Lock("/tmp/gonicorn-bench.lock", 8*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	srv, load := pinned()
	var log strings.Builder
	c := &Config{Tools: *tl, Duration: time.Second, Rounds: 1, StraceRequests: 300,
		ServerCPU: srv, LoadCPU: load, Log: &log}
	rep, err := c.Run()
	t.Logf("harness log:\n%s", log.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Err != "" {
			t.Errorf("%s/%s: %s", r.Scenario, r.Server, r.Err)
		} else if r.Requests <= 0 || r.CPUPerReq <= 0 || r.ReqPerSec <= 0 {
			t.Errorf("%s/%s: no numbers: %+v", r.Scenario, r.Server, r)
		} else if strings.HasPrefix(r.Scenario, "reload-") && r.Reloads < 1 {
			t.Errorf("%s/%s: no reload: %+v", r.Scenario, r.Server, r)
		}
	}
	want := 0
	for _, sc := range Scenarios {
		want += len(sc.Servers)
	}
	if len(rep.Results) != want {
		t.Errorf("%d results, want one per scenario and server (%d)", len(rep.Results), want)
	}
	for _, s := range rep.Syscalls {
		if s.Err != "" {
			t.Errorf("%s/%s: %s", s.Scenario, s.Server, s.Err)
			continue
		}
		// Every uwsgi request through nginx is a new connection: an accept (or
		// accept4) and a close per request (5% slack for a close strace missed).
		calls := map[string]int64{}
		for _, x := range s.Counts {
			calls[x.Name] += x.Calls
		}
		if n := s.Requests * 95 / 100; calls["accept"]+calls["accept4"] < n || calls["close"] < n {
			t.Errorf("%s/%s: %d accepts and %d closes for %d requests: %v", s.Scenario, s.Server,
				calls["accept"]+calls["accept4"], calls["close"], s.Requests, s.Counts)
		}
	}
	if len(rep.Syscalls) != 4 {
		t.Errorf("%d strace counts, want 4", len(rep.Syscalls))
	}
	var md strings.Builder
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"### Targets", "nginx uwsgi_pass over TCP", "uWSGI 2.0 + Python", "System calls per request", "**total**"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md.String())
	}
}

// TestWrongAnswersFailARun: a server that answers fast but wrongly (another body,
// another status) gets no numbers.
func TestWrongAnswersFailARun(t *testing.T) {
	tl := buildTools(t)
	release, err := Lock("/tmp/gonicorn-bench.lock", 8*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	srv, load := pinned()
	c := &Config{Tools: *tl, ServerCPU: srv, LoadCPU: load}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"body", 200, "Hello, World?", "wrong status or body"},
		{"status", 404, WantBody, "non-2xx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})}
			go hs.Serve(l)
			defer hs.Close()
			url := "http://" + l.Addr().String() + "/"
			if err := checkSample(url, false); err == nil {
				t.Error("checkSample accepted a wrong answer")
			}
			_, err = c.runLoad(t.TempDir(), url, Load{Tool: "wrk", Conns: 4}, time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("runLoad: %v, want an error with %q", err, tc.want)
			}
			_, err = c.runLoad(t.TempDir(), url, Load{Tool: "wrk", Conns: 4, Depth: 4}, time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("runLoad pipelined: %v, want an error with %q", err, tc.want)
			}
		})
	}
}
