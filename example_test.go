package gonicorn_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn"
	"github.com/gonicorn/gonicorn/supervisor"
)

// hello is the application of the examples. A gonicorn program serves the same
// handler in its master and in every worker (each worker is the same binary,
// started again), so it is a package-level value here, as it is in a main package.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "hello from worker %d", os.Getpid())
})

// TestMain lets this test binary play the program of the examples: the workers
// that Run starts, and the binary that ExampleMain starts.
func TestMain(m *testing.M) {
	if supervisor.IsWorker(os.Environ()) || os.Getenv("GONICORN_EXAMPLE_MAIN") != "" {
		gonicorn.Main(hello) // never returns
	}
	os.Exit(m.Run())
}

// A program's main function is one call: gonicorn.Main(handler) reads Gunicorn's
// flags, GONICORN_CMD_ARGS and -c FILE, starts the master and its workers, and
// exits when stopped. Here the program is this test binary, run with flags as a
// user would, asked once and then stopped with SIGTERM.
func ExampleMain() {
	addr := freeAddr()
	cmd := exec.Command(os.Args[0], "--bind", addr, "--workers", "2", "--log-level", "warning")
	cmd.Env = append(os.Environ(), "GONICORN_EXAMPLE_MAIN=1")
	if err := cmd.Start(); err != nil {
		fmt.Println(err)
		return
	}
	body, err := getWhenUp("http://" + addr + "/")
	fmt.Println(len(body) > 0, err)
	_ = cmd.Process.Signal(syscall.SIGTERM) // graceful stop, as Gunicorn's TERM
	fmt.Println("exit:", cmd.Wait())
	// Output:
	// true <nil>
	// exit: <nil>
}

// Run serves a handler with settings made in code instead of flags; it returns
// once the process is told to stop. Here a goroutine asks once and then stops
// this process with SIGTERM, as an operator would.
func ExampleRun() {
	cfg := gonicorn.DefaultConfig()
	cfg.Bind = []string{freeAddr()}
	cfg.Workers = 1
	cfg.LogLevel = "warning"
	go func() {
		body, err := getWhenUp("http://" + cfg.Bind[0] + "/")
		fmt.Println(len(body) > 0, err)
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	fmt.Println("run:", gonicorn.Run(cfg, hello))
	// Output:
	// true <nil>
	// run: <nil>
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// getWhenUp GETs url, retrying for up to 20 s while the server starts.
func getWhenUp(url string) (string, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b), err
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
