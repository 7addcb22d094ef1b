package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// rolloutInstance starts one gonicorn as a Deployment's pod would run it, on addr,
// and waits until its readiness path answers 200.
func rolloutInstance(t *testing.T, addr string) *testutil.Proc {
	t.Helper()
	p := testutil.Start(t, testutil.Binary(t), "-b", addr, "-w", "2", "--readiness-path", "/readyz",
		"--shutdown-delay", "1", "--graceful-timeout", "10")
	testutil.Eventually(t, 20*time.Second, func() bool {
		if p.Exited() {
			t.Fatalf("instance on %s exited: %s", addr, tailString(p.Stderr(), 2000))
		}
		return readyz(addr) == 200
	}, "instance on %s never ready", addr)
	return p
}

// startShippedNginx runs nginx with deploy/nginx/gonicorn.conf, its upstream
// pointed at addrs and its server at a free loopback port.
func startShippedNginx(t *testing.T, addrs []string) *nginx {
	t.Helper()
	bin := testutil.RequireTool(t, "nginx")
	site := readDeployFile(t, "nginx/gonicorn.conf")
	n := &nginx{dir: t.TempDir(), addr: testutil.FreeAddr(t)}
	var servers []string
	for _, a := range addrs {
		servers = append(servers, "server "+a+" max_fails=0;")
	}
	for old, repl := range map[string]string{
		"server 127.0.0.1:8000 max_fails=0;": strings.Join(servers, "\n    "),
		"listen 80;":                         "listen " + n.addr + ";",
		"include uwsgi_params;":              "include /etc/nginx/uwsgi_params;",
		"unix:/run/gonicorn/uwsgi.sock":      "unix:" + filepath.Join(n.dir, "uwsgi.sock"),
	} {
		if !strings.Contains(site, old) {
			t.Fatalf("deploy/nginx/gonicorn.conf no longer has %q", old)
		}
		site = strings.ReplaceAll(site, old, repl)
	}
	sitePath := filepath.Join(n.dir, "site.conf")
	main := `worker_processes 1;
error_log ` + n.dir + `/error.log warn;
pid ` + n.dir + `/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path ` + n.dir + `/client_body;
	proxy_temp_path ` + n.dir + `/proxy;
	fastcgi_temp_path ` + n.dir + `/fastcgi;
	uwsgi_temp_path ` + n.dir + `/uwsgi;
	scgi_temp_path ` + n.dir + `/scgi;
	include ` + sitePath + `;
}
`
	if os.Geteuid() == 0 {
		main = "user root;\n" + main
	}
	confPath := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(sitePath, []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(confPath, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	n.proc = testutil.Start(t, bin, "-p", n.dir, "-c", confPath, "-e", filepath.Join(n.dir, "error.log"), "-g", "daemon off;")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("site:\n%s\nnginx error.log:\n%s", site, tailString(n.ErrorLog(), 6000))
		}
		if !n.proc.Exited() {
			_ = n.proc.Signal(syscall.SIGTERM)
			_, _ = n.proc.Wait(5 * time.Second)
		}
	})
	testutil.WaitDial(t, n.proc, "tcp", n.addr, 15*time.Second)
	return n
}

// A rolling restart of three instances behind nginx's upstream, as a Deployment
// rollout does it: each instance in turn gets TERM (it drains: shutdown delay,
// graceful stop) and a new one takes its place, while wrk keeps 16 connections
// busy through nginx (with upstream keep-alive). Not one request may fail.
func TestRollingRestartBehindNginxWithoutFailures(t *testing.T) {
	wrk := testutil.RequireTool(t, "wrk")
	addrs := []string{testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)}
	procs := make([]*testutil.Proc, len(addrs))
	for i, a := range addrs {
		procs[i] = rolloutInstance(t, a)
	}
	ng := startShippedNginx(t, addrs)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(ng.URL("/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// wrk runs until told to stop (SIGINT prints its summary); -d bounds it anyway.
	var out bytes.Buffer
	load := exec.Command(wrk, "-t1", "-c16", "-d60s", "--timeout", "5s", ng.URL("/"))
	load.Stdout, load.Stderr = &out, &out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	loadDone := make(chan error, 1)
	go func() { loadDone <- load.Wait() }()
	t.Cleanup(func() {
		if load.ProcessState == nil {
			_ = load.Process.Kill()
			<-loadDone
		}
	})
	time.Sleep(time.Second) // load flowing before the rollout begins

	start := time.Now()
	for i, a := range addrs {
		old := procs[i]
		if err := old.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, err := old.Wait(20 * time.Second); code != 0 {
			t.Fatalf("instance %d exited %d: %v", i, code, err)
		}
		procs[i] = rolloutInstance(t, a)
		t.Logf("instance %d replaced at %v", i, time.Since(start).Round(time.Millisecond))
	}
	time.Sleep(time.Second) // and after it
	_ = load.Process.Signal(syscall.SIGINT)
	select {
	case <-loadDone:
	case <-time.After(20 * time.Second):
		t.Fatal("wrk did not stop")
	}
	r := parseWrk(t, out.String())
	t.Logf("wrk through nginx during the rollout: %d requests, %.0f/s, errors %+v", r.total, r.rate, r)
	if r.total < 100 {
		t.Fatalf("too little load to mean anything: %d requests\n%s", r.total, out.String())
	}
	if r.errors() != 0 {
		t.Fatalf("%d failed requests during the rollout\n%s", r.errors(), out.String())
	}
	for i, p := range procs {
		if strings.Contains(p.Stderr(), `"level":"error"`) {
			t.Errorf("instance %d logged an error:\n%s", i, tailString(p.Stderr(), 3000))
		}
	}
}

// parseWrk reads wrk's summary.
func parseWrk(t *testing.T, text string) svWrkResult {
	t.Helper()
	var r svWrkResult
	m := svWrkRate.FindStringSubmatch(text)
	n := svWrkTotal.FindStringSubmatch(text)
	if m == nil || n == nil {
		t.Fatalf("cannot read wrk's output:\n%s", text)
	}
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	r.total, _ = strconv.Atoi(n[1])
	if e := svWrkErrors.FindStringSubmatch(text); e != nil {
		r.connect, _ = strconv.Atoi(e[1])
		r.read, _ = strconv.Atoi(e[2])
		r.write, _ = strconv.Atoi(e[3])
		r.timeout, _ = strconv.Atoi(e[4])
	}
	if e := svWrkNon2xx.FindStringSubmatch(text); e != nil {
		r.non2xx, _ = strconv.Atoi(e[1])
	}
	return r
}
