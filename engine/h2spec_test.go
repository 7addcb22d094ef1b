package engine

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// junitReport is the part of h2spec's JUnit report the test reads.
type junitReport struct {
	Suites []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Class   string    `xml:"classname,attr"`
			Failure *struct{} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// runH2Spec runs h2spec against addr (strict adds -S) and returns how many test cases
// ran and the names of those that did not pass.
func runH2Spec(t *testing.T, bin, addr string, strict bool) (total int, failed []string, out string) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	report := filepath.Join(t.TempDir(), "report.xml")
	args := []string{"-h", host, "-p", port, "-j", report, "-o", "2"}
	if strict {
		args = append(args, "-S")
	}
	cmd := exec.Command(bin, args...)
	done := make(chan struct{})
	var b []byte
	go func() {
		b, _ = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(4 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("h2spec did not finish within 4 minutes:\n%s", b)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("h2spec wrote no report: %v\n%s", err, b)
	}
	var rep junitReport
	if err := xml.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("h2spec report: %v", err)
	}
	for _, s := range rep.Suites {
		for _, c := range s.Cases {
			total++
			if c.Failure != nil || c.Error != nil || c.Skipped != nil {
				failed = append(failed, fmt.Sprintf("%s: %s", c.Class, c.Name))
			}
		}
	}
	return total, failed, string(b)
}

// TestH2SpecBinary runs h2spec against the gonicorn binary serving its demo app: all
// 145 cases must pass, and the 146 of the strict run (-S).
func TestH2SpecBinary(t *testing.T) {
	bin := testutil.RequireTool(t, "h2spec")
	_, addr := testutil.StartServer(t, "--log-level", "warning")
	checkH2Spec(t, bin, addr)
}

// TestH2SpecInProcess runs h2spec against the engine inside the test process, so
// that `go test -race` watches the HTTP/2 driver under every h2spec case.
func TestH2SpecInProcess(t *testing.T) {
	bin := testutil.RequireTool(t, "h2spec")
	cfg := testConfig()
	cfg.Threads = 1024 // h2spec opens 101 streams at once on one connection
	ts := startServer(t, cfg, nil)
	checkH2Spec(t, bin, ts.addr)
}

func checkH2Spec(t *testing.T, bin, addr string) {
	t.Helper()
	for _, strict := range []bool{false, true} {
		want := 145
		if strict {
			want = 146
		}
		total, failed, out := runH2Spec(t, bin, addr, strict)
		if total != want || len(failed) > 0 {
			t.Errorf("h2spec strict=%v: %d cases (want %d), %d failed:\n%s\n%s", strict, total, want, len(failed), strings.Join(failed, "\n"), tail(out, 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
