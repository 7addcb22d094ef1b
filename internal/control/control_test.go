package control

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/metrics"
	"github.com/gonicorn/gonicorn/supervisor"
)

// fakeMaster records the commands it is given.
type fakeMaster struct {
	cmds   []supervisor.Command
	target int
}

func (f *fakeMaster) Status() supervisor.Status {
	return supervisor.Status{PID: 1, Target: f.target, StartedAt: time.Now()}
}
func (f *fakeMaster) Config() config.Config { return config.Default() }
func (f *fakeMaster) Do(_ context.Context, c supervisor.Command) error {
	f.cmds = append(f.cmds, c)
	switch c.Op {
	case "add":
		f.target += c.N
	case "remove":
		f.target -= c.N
	}
	return nil
}

func startServer(t *testing.T) (*fakeMaster, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.ctl")
	fm := &fakeMaster{target: 2}
	s, err := Listen(path, false, fm, metrics.NewHub(zerolog.Nop()), nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return fm, path
}

func TestCommandsReachTheMaster(t *testing.T) {
	fm, path := startServer(t)
	tests := []struct {
		args []string
		want supervisor.Command
	}{
		{[]string{"worker", "add"}, supervisor.Command{Op: "add", N: 1}},
		{[]string{"worker", "remove", "1"}, supervisor.Command{Op: "remove", N: 1}},
		{[]string{"worker", "kill", "4242"}, supervisor.Command{Op: "kill", PID: 4242}},
		{[]string{"reload"}, supervisor.Command{Op: "reload"}},
		{[]string{"reopen"}, supervisor.Command{Op: "reopen"}},
		{[]string{"shutdown", "--graceful"}, supervisor.Command{Op: "shutdown", Graceful: true}},
		{[]string{"shutdown"}, supervisor.Command{Op: "shutdown"}},
	}
	for _, tc := range tests {
		resp, err := Call(path, tc.args, 5*time.Second)
		if err != nil || !resp.OK {
			t.Fatalf("%v: %v %+v", tc.args, err, resp)
		}
		if got := fm.cmds[len(fm.cmds)-1]; got != tc.want {
			t.Fatalf("%v reached the master as %+v, want %+v", tc.args, got, tc.want)
		}
	}
}

func TestBadRequestsGetAnAnswer(t *testing.T) {
	fm, path := startServer(t)
	for _, args := range [][]string{nil, {"show"}, {"show", "x"}, {"worker"}, {"worker", "add", "0"},
		{"worker", "kill"}, {"reload", "now"}, {"shutdown", "soon"}, {"rm", "-rf"}} {
		resp, err := Call(path, args, 5*time.Second)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if resp.OK || resp.Error == "" {
			t.Fatalf("%v answered %+v", args, resp)
		}
	}
	if len(fm.cmds) != 0 {
		t.Fatalf("bad requests reached the master: %+v", fm.cmds)
	}
	for _, raw := range []string{"not json\n", strings.Repeat("x", maxMessage+10) + "\n"} {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		go c.Write([]byte(raw))
		var resp Response
		if err := json.NewDecoder(c).Decode(&resp); err != nil || resp.OK || !strings.Contains(resp.Error, "bad request") {
			t.Fatalf("raw %.20q answered %+v, %v", raw, resp, err)
		}
		c.Close()
	}
}

func TestSocketModeAndStaleFile(t *testing.T) {
	_, path := startServer(t)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	// A live socket cannot be taken by a second server.
	if _, err := Listen(path, false, &fakeMaster{}, metrics.NewHub(zerolog.Nop()), nil, zerolog.Nop()); err == nil {
		t.Fatal("a second server took a live socket")
	}
	// A regular file is never removed.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("keep"), 0o644)
	if _, err := Listen(file, false, &fakeMaster{}, metrics.NewHub(zerolog.Nop()), nil, zerolog.Nop()); err == nil {
		t.Fatal("a regular file was replaced")
	}
	// A stale socket (nothing answers) is replaced.
	stale := filepath.Join(t.TempDir(), "s.ctl")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	s, err := Listen(stale, false, &fakeMaster{}, metrics.NewHub(zerolog.Nop()), nil, zerolog.Nop())
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("socket file left after Close")
	}
}

func TestMainUsageAndJSON(t *testing.T) {
	_, path := startServer(t)
	var out, errb bytes.Buffer
	if code := Main([]string{"--json", "worker", "add", "2"}, []string{EnvSocket + "=" + path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var d Done
	if err := json.Unmarshal(out.Bytes(), &d); err != nil || d.Workers != 4 {
		t.Fatalf("json answer %q: %v", out.String(), err)
	}
	out.Reset()
	if code := Main([]string{"-h"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "show workers") {
		t.Fatalf("help: exit %d", code)
	}
	if code := Main([]string{"-s"}, nil, &out, &errb); code != 2 {
		t.Fatalf("-s without a path: exit %d", code)
	}
}
