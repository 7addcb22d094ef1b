package gonicorn

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/testutil"
)

func TestMainAnswersConfigQuestionsAndRefusesBadFlags(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		env        []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"unknown flag", []string{"--no-such-flag"}, nil, 1, "", "gonicorn: unknown flag --no-such-flag"},
		{"bad value", []string{"--workers", "many"}, nil, 1, "", "--workers"},
		{"check-config ok", []string{"--check-config", "-b", "127.0.0.1:0"}, nil, 0, "", ""},
		{"check-config bad", []string{"--check-config", "--timeout", "-3"}, nil, 1, "", "--timeout"},
		{"check-config bad IPv4 address", []string{"--check-config", "-b", "999.1.1.1:80"}, nil, 1, "", "999.1.1.1"},
		{"check-config unknown user", []string{"--check-config", "-u", "nosuchuser"}, nil, 1, "", `user "nosuchuser"`},
		{"check-config unknown group", []string{"--check-config", "-g", "nosuchgroup"}, nil, 1, "", `group "nosuchgroup"`},
		{"check-config own numeric user", []string{"--check-config", "-u", strconv.Itoa(os.Getuid())}, nil, 0, "", ""},
		{"check-config unix socket in a missing directory", []string{"--check-config", "-b", "unix:/nonexistent-dir/g.sock"}, nil, 1, "", "socket directory"},
		{"check-config missing chdir", []string{"--check-config", "--chdir", "/nonexistent-dir"}, nil, 1, "", "--chdir"},
		{"check-config pidfile in a missing directory", []string{"--check-config", "-p", "/nonexistent-dir/g.pid"}, nil, 1, "", "--pid"},
		{"check-config resolves localhost", []string{"--check-config", "-b", "localhost:0"}, nil, 0, "", ""},
		{"print-config", []string{"--print-config", "-w", "3"}, nil, 0, "workers                      = 3", ""},
		{"print-config from GONICORN_CMD_ARGS", []string{"--print-config"}, []string{"GONICORN_CMD_ARGS=--keep-alive 7"}, 0, "keepalive                    = 7", ""},
		{"version", []string{"-v"}, nil, 0, "gonicorn " + Version, ""},
		{"help", []string{"--help"}, nil, 0, "--bind", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := mainWith(tc.args, tc.env, &out, &errOut, demo.Handler())
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantStdout) {
				t.Fatalf("stdout %q lacks %q", out.String(), tc.wantStdout)
			}
			if !strings.Contains(errOut.String(), tc.wantStderr) {
				t.Fatalf("stderr %q lacks %q", errOut.String(), tc.wantStderr)
			}
			if tc.code != 0 && strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
				t.Fatalf("reason is not one line: %q", errOut.String())
			}
		})
	}
}

func TestBinaryServesAndStopsGracefullyOnTERM(t *testing.T) {
	p, addr := testutil.StartServer(t, "--graceful-timeout", "10", "--access-logfile", "-")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello, World!" {
		t.Fatalf("body %q", body)
	}
	// A request already sent when TERM arrives is served, not dropped.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	io.WriteString(conn, "GET /sleep?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n")
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request during TERM: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	if string(body) != "slept" || !resp.Close {
		t.Fatalf("in-flight request during TERM: %q close=%v", body, resp.Close)
	}
	code, err := p.Wait(15 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit %d %v\n%s", code, err, p.Stderr())
	}
	if !strings.Contains(p.Stdout(), `"GET / HTTP/1.1" 200 13`) {
		t.Fatalf("access log on stdout lacks the request: %q", p.Stdout())
	}
}
