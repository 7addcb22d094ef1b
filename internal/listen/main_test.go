package listen

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

// childModeEnv makes the test binary act as a child process that inherited
// listeners; see TestMain.
const childModeEnv = "GONICORN_LISTEN_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childModeEnv) {
	case "":
		os.Exit(m.Run())
	case "fromfiles":
		os.Exit(childServe(func() ([]*Listener, error) {
			n, _ := strconv.Atoi(os.Getenv("CHILD_NFILES"))
			files := make([]*os.File, n)
			for i := range files {
				files[i] = os.NewFile(uintptr(3+i), "inherited")
			}
			return FromFiles(files, os.Getenv("CHILD_DESC"))
		}))
	case "systemd":
		os.Exit(childServe(func() ([]*Listener, error) {
			// systemd sets LISTEN_PID to the pid it started; a test parent cannot
			// know it before the start, so the child states it.
			os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
			cfg := config.Default()
			cfg.Bind = []string{"unix:/nonexistent-dir/must-not-be-bound.sock"}
			if b := os.Getenv("CHILD_BIND"); b != "" {
				cfg.Bind = append(cfg.Bind, strings.Split(b, ",")...)
			}
			ls, err := Bind(&cfg, zerolog.Nop())
			if err == nil && (os.Getenv("LISTEN_FDS") != "" || os.Getenv("LISTEN_PID") != "") {
				err = fmt.Errorf("LISTEN_* still in the environment")
			}
			return ls, err
		}))
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode")
		os.Exit(2)
	}
}

// childServe rebuilds listeners, then answers one connection on each with
// "PROTOCOL SPEC\n", and exits 0; any failure exits 1 with a message.
func childServe(get func() ([]*Listener, error)) int {
	ls, err := get()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	for _, l := range ls {
		if d, ok := l.Listener.(interface{ SetDeadline(time.Time) error }); ok {
			d.SetDeadline(time.Now().Add(20 * time.Second))
		}
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "child accept:", err)
			return 1
		}
		fmt.Fprintf(c, "%s %s\n", l.Protocol, l.Spec)
		c.Close()
	}
	if err := CloseAndRemove(ls); err != nil {
		fmt.Fprintln(os.Stderr, "child close:", err)
		return 1
	}
	return 0
}

// readGreeting connects to addr and returns the line the child writes.
func readGreeting(t *testing.T, network, addr string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return strings.TrimSuffix(line, "\n")
}
