package supervisor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestPidFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.pid")
	pf, err := CreatePidFile(path, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pidfile holds %q", b)
	}
	if _, err := CreatePidFile(path, os.Getpid()+1); err == nil {
		t.Fatal("a second master took a live master's pidfile")
	}
	if err := pf.Rename(path + ".moved"); err != nil {
		t.Fatal(err)
	}
	if err := pf.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".moved"); !os.IsNotExist(err) {
		t.Fatalf("pidfile left behind: %v", err)
	}
}

func TestPidFileReplacesAStaleOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.pid")
	if err := os.WriteFile(path, []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreatePidFile(path, os.Getpid()); err != nil {
		t.Fatalf("a stale pidfile blocked the start: %v", err)
	}
}

func TestPidFileRemoveLeavesAnotherMastersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.pid")
	pf, err := CreatePidFile(path, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("12345\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pf.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("removed a pidfile another master wrote: %v", err)
	}
}
