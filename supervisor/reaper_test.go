package supervisor

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zombie reports whether pid has exited and waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// The reaper waits for exited children nobody claims, and leaves the exit status
// of a claimed one (a worker) to the goroutine waiting for it.
func TestReapOrphansLeavesClaimedChildren(t *testing.T) {
	orphan := exec.Command("sh", "-c", "exit 0") // started, never waited for: an orphan's zombie
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	worker := exec.Command("sh", "-c", "exit 7")
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(zombie(orphan.Process.Pid) && zombie(worker.Process.Pid)) {
		if time.Now().After(deadline) {
			t.Fatal("children did not exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	reaped := reapOrphans(func(pid int) bool { return pid == worker.Process.Pid })
	if !slices.Contains(reaped, orphan.Process.Pid) || slices.Contains(reaped, worker.Process.Pid) {
		t.Fatalf("reaped %v; want the orphan %d and not the worker %d", reaped, orphan.Process.Pid, worker.Process.Pid)
	}
	if zombie(orphan.Process.Pid) {
		t.Fatal("the orphan is still a zombie")
	}
	err := worker.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("the worker's own wait got %v; its exit status was taken", err)
	}
}
