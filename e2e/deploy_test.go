package e2e

// Tests of the files under deploy/: that the Dockerfile's binary stage builds a
// static binary that serves as the image runs it (no container engine is needed),
// that the Kubernetes and systemd timings agree with each other, and that the
// systemd units' command line serves the sockets the .socket unit passes.

import (
	"debug/elf"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

func readDeployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flagValue returns the value after flag in args ("" when absent; the last wins).
func flagValue(args []string, flag string) string {
	v := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			v = args[i+1]
		}
	}
	return v
}

func atoi(t *testing.T, what, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("%s: %q is not a number", what, s)
	}
	return n
}

// The Dockerfile's build stage, run here as the image build would (the engine is
// not installed on the test machines): a static binary that serves, as the
// unprivileged user of the run stage, with the image's own CMD.
func TestDockerfileBinaryStageBuildsAStaticServer(t *testing.T) {
	df := readDeployFile(t, "Dockerfile")
	m := regexp.MustCompile(`(?m)^# BUILD: (.+)$`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("Dockerfile lacks its # BUILD: line")
	}
	build := m[1]
	if !strings.Contains(df, "\nRUN "+build+"\n") {
		t.Fatalf("the # BUILD: line is not what the Dockerfile runs: %q", build)
	}
	for _, want := range []string{"\nSTOPSIGNAL SIGTERM\n", "\nUSER 65532:65532\n", "\nFROM gcr.io/distroless/static-debian12:nonroot\n"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", strings.TrimSpace(want))
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(build, "/out/", out+"/"))
	cmd.Dir = testutil.ModuleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	bin := filepath.Join(out, "gonicorn")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	f.Close()

	cm := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindStringSubmatch(df)
	if cm == nil {
		t.Fatal("Dockerfile lacks a CMD in exec form")
	}
	var args []string
	if err := json.Unmarshal([]byte(cm[1]), &args); err != nil {
		t.Fatalf("CMD: %v", err)
	}
	// Loopback only here, and a short delay so the test is quick; the rest is the CMD.
	addr := testutil.FreeAddr(t)
	for i := range args {
		if args[i] == "0.0.0.0:8000" {
			args[i] = addr
		}
	}
	args = append(args, "--shutdown-delay", "1")
	p := startAsImageUser(t, bin, args)
	testutil.WaitDial(t, p, "tcp", addr, 20*time.Second)
	c := &http.Client{Timeout: 5 * time.Second}
	testutil.Eventually(t, 10*time.Second, func() bool { return readyz(addr) == 200 }, "/readyz never answered 200")
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello, World!" {
		t.Fatalf("GET / = %q", body)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil { // docker stop sends STOPSIGNAL
		t.Fatal(err)
	}
	testutil.Eventually(t, 800*time.Millisecond, func() bool { return readyz(addr) == 503 }, "/readyz did not turn 503 on TERM")
	if code, err := p.Wait(15 * time.Second); code != 0 {
		t.Fatalf("exit %d after TERM: %v", code, err)
	}
}

// startAsImageUser runs bin as uid/gid 65532 when the test runs as root (as the
// image does), else as the test's own user.
func startAsImageUser(t *testing.T, bin string, args []string) *testutil.Proc {
	t.Helper()
	if os.Geteuid() != 0 {
		return testutil.Start(t, bin, args...)
	}
	// The binary must be reachable by that user.
	dir := filepath.Dir(bin)
	for _, p := range []string{dir, filepath.Dir(dir)} {
		_ = os.Chmod(p, 0o755)
	}
	p := testutil.StartWith(t, testutil.Options{Cred: &syscall.Credential{Uid: 65532, Gid: 65532}}, bin, args...)
	return p
}

// Kubernetes: the pod leaves the Service (readiness fails) within the shutdown
// delay, and the kubelet's kill comes only after the delay and the graceful stop.
func TestKubernetesManifestTimingsAgree(t *testing.T) {
	y := readDeployFile(t, "kubernetes/gonicorn.yaml")
	var args []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- "([^"]*)"$`).FindAllStringSubmatch(y, -1) {
		args = append(args, m[1])
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s+` + name + `: (\S+)$`).FindStringSubmatch(y)
		if m == nil {
			t.Fatalf("manifest lacks %s", name)
		}
		return m[1]
	}
	delay := atoi(t, "--shutdown-delay", flagValue(args, "--shutdown-delay"))
	graceful := atoi(t, "--graceful-timeout", flagValue(args, "--graceful-timeout"))
	grace := atoi(t, "terminationGracePeriodSeconds", field("terminationGracePeriodSeconds"))
	period := atoi(t, "periodSeconds", field("periodSeconds"))
	failures := atoi(t, "failureThreshold", field("failureThreshold"))
	if period*failures > delay {
		t.Errorf("readiness fails after %d s, after the %d s shutdown delay", period*failures, delay)
	}
	if grace <= delay+graceful {
		t.Errorf("terminationGracePeriodSeconds %d is not above --shutdown-delay %d + --graceful-timeout %d", grace, delay, graceful)
	}
	if rp := flagValue(args, "--readiness-path"); rp == "" || field("path") != rp {
		t.Errorf("the readiness probe's path %q is not --readiness-path %q", field("path"), rp)
	}
	if !strings.HasSuffix(flagValue(args, "-b"), ":"+field("containerPort")) {
		t.Errorf("containerPort %s is not the bind %s", field("containerPort"), flagValue(args, "-b"))
	}
	if !strings.Contains(readDeployFile(t, "Dockerfile"), "USER "+field("runAsUser")+":") {
		t.Errorf("runAsUser %s is not the image's user", field("runAsUser"))
	}
	if !strings.Contains(y, "kind: Service") {
		t.Error("no Service")
	}
	// The container's arguments are a configuration gonicorn accepts.
	out, err := exec.Command(testutil.Binary(t), append(args, "--check-config")...).CombinedOutput()
	if err != nil {
		t.Fatalf("--check-config of the manifest's args: %v\n%s", err, out)
	}
}

// systemd: the service's command serves the sockets of the .socket unit, each with
// its protocol, and its stop timeout covers the drain.
func TestSystemdUnitsServeTheActivatedSockets(t *testing.T) {
	socket := readDeployFile(t, "systemd/gonicorn.socket")
	service := readDeployFile(t, "systemd/gonicorn.service")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^FileDescriptorName=(\S+)$`).FindAllStringSubmatch(socket, -1) {
		names = append(names, m[1])
	}
	exec1 := regexp.MustCompile(`(?s)\nExecStart=(.*?[^\\])\n`).FindStringSubmatch(service)
	if exec1 == nil {
		t.Fatal("no ExecStart")
	}
	fields := strings.Fields(strings.ReplaceAll(exec1[1], "\\\n", " "))
	args := fields[1:]
	for _, want := range []string{"Type=notify", "NotifyAccess=all", "KillMode=mixed", "KillSignal=SIGTERM", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !strings.Contains(service, "\n"+want+"\n") {
			t.Errorf("service lacks %s", want)
		}
	}
	stop := atoi(t, "TimeoutStopSec", regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)$`).FindStringSubmatch(service)[1])
	if d, g := atoi(t, "delay", flagValue(args, "--shutdown-delay")), atoi(t, "graceful", flagValue(args, "--graceful-timeout")); stop <= d+g {
		t.Errorf("TimeoutStopSec %d is not above the drain %d + %d", stop, d, g)
	}

	// Activate the command as systemd would: the two sockets from fd 3, named.
	tcpAddr, f3 := inheritedListener(t)
	sock := filepath.Join(shortTempDir(t), "u.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f4, err := ul.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ul.(*net.UnixListener).SetUnlinkOnClose(false)
	ul.Close()
	_ = syscall.SetNonblock(int(f4.Fd()), true)
	for i := range args {
		if args[i] == "--pid" {
			args[i+1] = filepath.Join(filepath.Dir(sock), "g.pid")
		}
	}
	cmd := exec.Command("sh", append([]string{"-c", `LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=` + strings.Join(names, ":") + ` exec "$@"`, "sh", testutil.Binary(t)}, args...)...)
	cmd.ExtraFiles = []*os.File{f3, f4}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f3.Close()
	f4.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	})
	expectHello(t, tcpAddr, "the http socket")
	uc, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	_ = uc.SetDeadline(time.Now().Add(10 * time.Second))
	uc.Write(getRoot)
	got, _ := io.ReadAll(uc)
	if !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(got), "Hello, World!") {
		t.Fatalf("the uwsgi socket answered %q", got)
	}
}

// shortTempDir is a temporary directory with a path short enough for a unix socket.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// expectHello wants the demo app's "Hello, World!" from GET / over HTTP at addr;
// what names the socket in the failure.
func expectHello(t *testing.T, addr, what string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello, World!" {
		t.Fatalf("%s answered %q", what, body)
	}
}
