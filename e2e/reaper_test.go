package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// zombieChildren lists the children of pid that have exited and wait to be reaped.
func zombieChildren(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:]) // state ppid ...
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// As PID 1 of a PID namespace (a container's entry point), the master reaps the
// orphans that handlers leave behind: none stays a zombie.
func TestMasterAsPID1ReapsOrphans(t *testing.T) {
	if out, err := exec.Command("unshare", "--pid", "--fork", "true").CombinedOutput(); err != nil {
		t.Skipf("this machine does not allow a PID namespace (unshare: %v: %s); the reaper's unit test covers it", err, out)
	}
	bin := testutil.BuildPackage(t, "./e2e/testdata/orphanapp")
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, "unshare", "--pid", "--fork", "--kill-child", bin, "-b", addr, "-w", "2")
	testutil.WaitDial(t, p, "tcp", addr, 20*time.Second)
	var master int
	testutil.Eventually(t, 5*time.Second, func() bool {
		kids := svChildPids(p.Pid())
		if len(kids) == 1 {
			master = kids[0]
		}
		return master != 0
	}, "the master under unshare")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 6; i++ {
		resp, err := c.Get("http://" + addr + "/spawn")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "spawned" {
			t.Fatalf("/spawn answered %q", b)
		}
	}
	// The orphans (sleep 0.3) are the master's children now; once they exit,
	// nothing may be left as a zombie.
	testutil.Eventually(t, 10*time.Second, func() bool {
		return len(svChildPids(master)) == 2 && len(zombieChildren(master)) == 0
	}, "orphans still around: children %v, zombies %v", svChildPids(master), zombieChildren(master))
	time.Sleep(500 * time.Millisecond) // past every sleep: a zombie would show now
	if z := zombieChildren(master); len(z) > 0 {
		t.Fatalf("zombies under the PID 1 master: %v", z)
	}
	if !strings.Contains(p.Stderr(), "running as PID 1: orphaned processes are reaped") {
		t.Error("the master did not say it reaps as PID 1")
	}
}
