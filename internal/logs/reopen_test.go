package logs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestReopenAfterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	f, err := OpenFile(path, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("one\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("two\n")) // still into the renamed file, as before a SIGUSR1
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("three\n"))
	if got := readFile(t, path+".1"); got != "one\ntwo\n" {
		t.Errorf("rotated file holds %q", got)
	}
	if got := readFile(t, path); got != "three\n" {
		t.Errorf("new file holds %q", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		t.Errorf("log file is group or world writable: %v", fi.Mode())
	}
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.log")
	os.WriteFile(path, []byte("old\n"), 0o644)
	f, err := OpenFile(path, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new\n"))
	f.Close()
	if got := readFile(t, path); got != "old\nnew\n" {
		t.Errorf("file holds %q", got)
	}
}

func TestReopenFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "logs")
	os.Mkdir(sub, 0o755)
	path := filepath.Join(sub, "a.log")
	f, err := OpenFile(path, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.Rename(sub, filepath.Join(dir, "moved"))
	if err := f.Reopen(); err == nil {
		t.Fatal("Reopen succeeded with its directory gone")
	}
	if _, err := f.Write([]byte("still\n")); err != nil {
		t.Fatalf("write after a failed reopen: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, "moved", "a.log")); got != "still\n" {
		t.Errorf("old file holds %q", got)
	}
}

func TestDashIsTheStandardStream(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := OpenFile("-", w)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != "-" {
		t.Errorf("Path = %q", f.Path())
	}
	f.Write([]byte("hi\n"))
	if err := f.Reopen(); err != nil {
		t.Errorf("Reopen of a stream: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Close must not have closed the stream itself.
	if _, err := w.Write([]byte("after\n")); err != nil {
		t.Errorf("the standard stream was closed: %v", err)
	}
	w.Close()
	buf := make([]byte, 64)
	n, _ := r.Read(buf)
	if got := string(buf[:n]); !strings.HasPrefix(got, "hi\n") {
		t.Errorf("stream got %q", got)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

func TestOpenFileErrors(t *testing.T) {
	if _, err := OpenFile("", os.Stderr); err == nil {
		t.Error("empty path opened")
	}
	if _, err := OpenFile("-", nil); err == nil {
		t.Error("- without a stream opened")
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "no", "such", "dir.log"), os.Stderr); err == nil {
		t.Error("file in a missing directory opened")
	}
}

func TestCloseTwiceAndReopenAfterClose(t *testing.T) {
	f, err := OpenFile(filepath.Join(t.TempDir(), "c.log"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := f.Reopen(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Reopen after Close: %v", err)
	}
	var nilFile *ReopenFile
	if err := nilFile.Close(); err != nil {
		t.Errorf("nil Close: %v", err)
	}
}

func TestConcurrentWritesAndReopens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "busy.log")
	f, err := OpenFile(path, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const writers, each = 4, 500
	line := []byte(strings.Repeat("x", 99) + "\n")
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := f.Write(line); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		os.Rename(path, filepath.Join(dir, "busy.log."+string(rune('a'+i))))
		if err := f.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	total := 0
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data := readFile(t, filepath.Join(dir, e.Name()))
		for _, l := range strings.SplitAfter(data, "\n") {
			if l == "" {
				continue
			}
			if l != string(line) {
				t.Fatalf("torn line in %s: %q", e.Name(), l)
			}
			total++
		}
	}
	if total != writers*each {
		t.Errorf("%d lines across the files, want %d", total, writers*each)
	}
}
