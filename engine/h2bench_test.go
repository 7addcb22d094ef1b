package engine

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/demo"
	"github.com/gonicorn/gonicorn/internal/testutil"
)

const netHTTPH2CAddrEnv = "GONICORN_NETHTTP_H2C_ADDR"

// TestHelperNetHTTPH2C is the reference server of BenchmarkH2Load, not a test: the
// benchmark re-executes the test binary with netHTTPH2CAddrEnv set, and this serves the
// demo app with net/http's own h2c (Protocols.SetUnencryptedHTTP2) for two minutes at
// most.
func TestHelperNetHTTPH2C(t *testing.T) {
	addr := os.Getenv(netHTTPH2CAddrEnv)
	if addr == "" {
		t.Skip("helper process of BenchmarkH2Load")
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: addr, Handler: demo.Handler(), Protocols: &p}
	go func() {
		time.Sleep(2 * time.Minute)
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		t.Fatal(err)
	}
}

var h2loadRate = regexp.MustCompile(`finished in [0-9.]+m?s, ([0-9.]+) req/s`)

// BenchmarkH2Load compares gonicorn's h2c with net/http's serving the same demo
// handler: each server pinned to CPU 0, h2load -c16 -m32 on CPU 1. It reports both
// rates and their ratio (the target is at least 2.5). Run it with -benchtime=1x.
func BenchmarkH2Load(b *testing.B) {
	h2load := testutil.RequireTool(b, "h2load")
	taskset := testutil.RequireTool(b, "taskset")
	bin := testutil.Binary(b)

	gAddr := testutil.FreeAddr(b)
	gon := exec.Command(taskset, "-c", "0", bin, "-b", gAddr, "--workers", "1", "--log-level", "warning")
	startPinned(b, gon, gAddr)

	nAddr := testutil.FreeAddr(b)
	ref := exec.Command(taskset, "-c", "0", os.Args[0], "-test.run=^TestHelperNetHTTPH2C$")
	ref.Env = append(os.Environ(), netHTTPH2CAddrEnv+"="+nAddr)
	startPinned(b, ref, nAddr)

	run := func(addr string, n int) float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, taskset, "-c", "1", h2load, "-c16", "-m32",
			"-n", strconv.Itoa(n), "http://"+addr+"/").CombinedOutput()
		if err != nil {
			b.Fatalf("h2load: %v\n%s", err, out)
		}
		m := h2loadRate.FindSubmatch(out)
		if m == nil || !regexp.MustCompile(`succeeded, 0 failed, 0 errored`).Match(out) {
			b.Fatalf("h2load output:\n%s", out)
		}
		r, _ := strconv.ParseFloat(string(m[1]), 64)
		return r
	}
	run(gAddr, 20000) // warm up both
	run(nAddr, 20000)
	b.ResetTimer()
	var gSum, nSum float64
	for i := 0; i < b.N; i++ {
		gSum += run(gAddr, 300000)
		nSum += run(nAddr, 150000)
	}
	b.ReportMetric(gSum/float64(b.N), "gonicorn-req/s")
	b.ReportMetric(nSum/float64(b.N), "nethttp-req/s")
	b.ReportMetric(gSum/nSum, "ratio")
}

// startPinned starts a server process and waits until it accepts on addr.
func startPinned(b *testing.B, cmd *exec.Cmd, addr string) {
	b.Helper()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testutil.Eventually(b, 15*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}, "server on %s did not start", addr)
}
