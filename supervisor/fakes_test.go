package supervisor

// The test binary doubles as a master and as a worker, so the supervisor is tested
// with real processes, real signals and real sockets without the engine: TestMain
// dispatches on the environment. The fake worker serves HTTP with net/http on the
// inherited listeners and speaks the real heartbeat protocol.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/config"
)

const (
	envRole       = "SUPERVISOR_TEST_ROLE"   // "master"
	envConfigFile = "SUPERVISOR_TEST_CONFIG" // JSON config.Config, re-read on HUP
	envBootFail   = "FAKE_WORKER_BOOT_FAIL"  // "1": the worker exits with ExitBootFailed
)

func TestMain(m *testing.M) {
	if IsWorker(os.Environ()) {
		os.Exit(fakeWorkerMain())
	}
	if os.Getenv(envRole) == "master" {
		os.Exit(fakeMasterMain())
	}
	os.Exit(m.Run())
}

func readConfigFile(path string) (config.Config, error) {
	cfg := config.Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// fakeMasterMain binds cfg.Bind (HOST:PORT or unix:PATH) unless it inherited the
// listeners from an old master, and runs a Master.
func fakeMasterMain() int {
	log := zerolog.New(os.Stderr).With().Timestamp().Int("master", os.Getpid()).Logger()
	cfgPath := os.Getenv(envConfigFile)
	cfg, err := readConfigFile(cfgPath)
	if err != nil {
		log.Error().Err(err).Msg("config")
		return 1
	}
	files, desc, oldMaster, upgraded, err := InheritedListeners(os.Environ())
	if err != nil {
		log.Error().Err(err).Msg("inherited listeners")
		return 1
	}
	if !upgraded {
		var parts []string
		for _, b := range cfg.Bind {
			network, addr := "tcp", b
			if p, ok := strings.CutPrefix(b, "unix:"); ok {
				network, addr = "unix", p
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				log.Error().Err(err).Msg("bind")
				return 1
			}
			if ul, ok := ln.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
			}
			f, err := ln.(interface{ File() (*os.File, error) }).File()
			if err != nil {
				log.Error().Err(err).Msg("listener file")
				return 1
			}
			ln.Close()
			files = append(files, f)
			parts = append(parts, network+":"+addr)
		}
		desc = strings.Join(parts, ",")
	}
	m, err := New(Options{
		Config:       cfg,
		Reload:       func() (config.Config, error) { return readConfigFile(cfgPath) },
		Listeners:    files,
		ListenerDesc: desc,
		UpgradedFrom: oldMaster,
		Log:          log,
		ReopenLogs:   func() error { log.Info().Msg("master reopened its logs"); return nil },
		CloseListeners: func(removeFiles bool) error {
			for i, part := range strings.Split(desc, ",") {
				files[i].Close()
				if p, ok := strings.CutPrefix(part, "unix:"); ok && removeFiles {
					os.Remove(p)
				}
			}
			return nil
		},
	})
	if err != nil {
		log.Error().Err(err).Msg("new master")
		return 1
	}
	code, err := m.Run()
	if err != nil {
		log.Error().Err(err).Msg("master run")
	}
	return code
}

// fakeWorkerMain is a worker: GET / answers "Hello, World!" with its pid in
// X-Worker-Pid, /hang?ms=N blocks N ms ignoring the client, /sleep?ms=N sleeps.
// It is unhealthy (stops beating) when cfg.Threads /hang handlers are past --timeout.
func fakeWorkerMain() int {
	w, err := LoadWorker(os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake worker:", err)
		return ExitBootFailed
	}
	if os.Getenv(envBootFail) == "1" {
		fmt.Fprintln(os.Stderr, "fake worker: failing to boot on purpose")
		return ExitBootFailed
	}
	cfg := w.Config
	pid := strconv.Itoa(os.Getpid())
	var served atomic.Uint64
	var hangMu sync.Mutex
	hangs := map[*http.Request]time.Time{}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("X-Worker-Pid", pid)
		io.WriteString(rw, "Hello, World!")
		served.Add(1)
	})
	mux.HandleFunc("/sleep", func(rw http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		rw.Header().Set("X-Worker-Pid", pid)
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
		}
		io.WriteString(rw, "slept")
		served.Add(1)
	})
	mux.HandleFunc("/hang", func(rw http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		hangMu.Lock()
		hangs[r] = time.Now()
		hangMu.Unlock()
		rw.Header().Set("X-Worker-Pid", pid)
		rw.WriteHeader(http.StatusOK)
		rw.(http.Flusher).Flush()
		time.Sleep(time.Duration(ms) * time.Millisecond)
		hangMu.Lock()
		delete(hangs, r)
		hangMu.Unlock()
		served.Add(1)
	})
	healthy := func() bool {
		hangMu.Lock()
		defer hangMu.Unlock()
		stuck := 0
		for _, since := range hangs {
			if cfg.Timeout > 0 && time.Since(since) > cfg.Timeout {
				stuck++
			}
		}
		return stuck < cfg.Threads
	}

	var connMu sync.Mutex
	busy := map[net.Conn]bool{} // connections reading or answering a request
	srv := &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second,
		ConnState: func(c net.Conn, st http.ConnState) {
			connMu.Lock()
			defer connMu.Unlock()
			if st == http.StateNew || st == http.StateActive {
				busy[c] = true
			} else {
				delete(busy, c)
			}
		},
	}
	nbusy := func() int {
		connMu.Lock()
		defer connMu.Unlock()
		return len(busy)
	}
	var listeners []net.Listener
	var serving sync.WaitGroup // one per listener, until its Serve returns
	for _, f := range w.Listeners {
		ln, err := net.FileListener(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake worker: listener:", err)
			return ExitBootFailed
		}
		f.Close()
		listeners = append(listeners, ln)
		serving.Add(1)
		go func() {
			defer serving.Done()
			srv.Serve(ln)
		}()
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, append(WorkerSignals, WorkerIgnoredSignals...)...)
	if err := w.Heartbeat.Ready(); err != nil {
		fmt.Fprintln(os.Stderr, "fake worker: ready:", err)
		return ExitBootFailed
	}
	orphaned := make(chan error, 1)
	go func() {
		orphaned <- w.Heartbeat.Run(context.Background(), HeartbeatInterval(cfg.Timeout), w.MasterPID, healthy, served.Load)
	}()
	// net/http's Shutdown drops a request read after it began (conn.serve returns
	// when shuttingDown), so drain by hand: stop accepting, answer what arrives with
	// Connection: close, close idle connections, and wait for the rest. Serve marks
	// a connection it accepted as StateNew only after accept(2) returned, so the
	// busy count means something only once every Serve has returned: a connection
	// accepted just before its listener closed would otherwise be dropped unanswered.
	graceful := func() int {
		for _, ln := range listeners {
			ln.Close()
		}
		deadline := time.Now().Add(cfg.GracefulTimeout)
		served := make(chan struct{})
		go func() { serving.Wait(); close(served) }()
		select {
		case <-served:
		case <-time.After(time.Until(deadline)):
		}
		srv.SetKeepAlivesEnabled(false) // closes idle connections
		for nbusy() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		srv.Close()
		return 0
	}
	for {
		select {
		case err := <-orphaned:
			fmt.Fprintln(os.Stderr, "fake worker: heartbeat stopped:", err)
			return graceful()
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM:
				return graceful()
			case syscall.SIGINT, syscall.SIGQUIT:
				srv.Close()
				return 0
			case syscall.SIGABRT:
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				fmt.Fprintf(os.Stderr, "fake worker %s aborted; stacks:\n%s\n", pid, buf[:n])
				return 1
			case syscall.SIGUSR1:
				fmt.Fprintf(os.Stderr, "fake worker %s reopened its logs\n", pid)
			}
		}
	}
}
