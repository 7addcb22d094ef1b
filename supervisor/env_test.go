package supervisor

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/config"
)

func pidOfSelf() int { return os.Getpid() }

func TestLookupEnvLastWins(t *testing.T) {
	env := []string{"A=1", "AB=2", "A=3"}
	if v, ok := lookupEnv(env, "A"); !ok || v != "3" {
		t.Fatalf("lookupEnv A = %q, %v", v, ok)
	}
	if _, ok := lookupEnv(env, "B"); ok {
		t.Fatal("found an unset key")
	}
}

func TestWorkerEnvironCarriesTheContractOnly(t *testing.T) {
	cfg := config.Default()
	cfg.Timeout = 7 * time.Second
	cfg.Env = []string{"APP_MODE=prod"}
	base := []string{
		"PATH=/bin", "NOTIFY_SOCKET=/run/notify", "LISTEN_FDS=2", "LISTEN_PID=1",
		"LISTEN_FDNAMES=a:b", EnvWorker + "=99", EnvUpgradeFrom + "=5", "GONICORN_CMD_ARGS=-w 3",
	}
	env, err := workerEnviron(base, workerSpec{ID: 4, MasterPID: 42, Config: cfg}, "tcp:127.0.0.1:8000", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", EnvUpgradeFrom} {
		if _, ok := lookupEnv(env, gone); ok {
			t.Errorf("%s leaked into a worker's environment", gone)
		}
	}
	want := map[string]string{
		"PATH": "/bin", "GONICORN_CMD_ARGS": "-w 3", "APP_MODE": "prod",
		EnvWorker: "4", EnvMasterPID: "42", EnvListenFDs: "2",
		EnvListeners: "tcp:127.0.0.1:8000", EnvHeartbeatFD: "5",
	}
	for k, v := range want {
		if got, _ := lookupEnv(env, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if n := slices.IndexFunc(env, func(s string) bool { return strings.HasPrefix(s, EnvWorker+"=") }); n < 0 || env[n] != EnvWorker+"=4" {
		t.Errorf("the stale worker id survived: %v", env)
	}
	if !IsWorker(env) || IsWorker(base[:3]) {
		t.Error("IsWorker disagrees with the environment")
	}
}

func TestUpgradeEnvironKeepsNotifySocket(t *testing.T) {
	env := upgradeEnviron([]string{"NOTIFY_SOCKET=@x", "LISTEN_FDS=1", EnvWorker + "=1"}, 77, "d", 3)
	if v, _ := lookupEnv(env, "NOTIFY_SOCKET"); v != "@x" {
		t.Errorf("NOTIFY_SOCKET = %q: a new master must be able to notify", v)
	}
	for _, gone := range []string{"LISTEN_FDS", EnvWorker} {
		if _, ok := lookupEnv(env, gone); ok {
			t.Errorf("%s leaked into a new master's environment", gone)
		}
	}
	if v, _ := lookupEnv(env, EnvUpgradeFrom); v != "77" {
		t.Errorf("%s = %q", EnvUpgradeFrom, v)
	}
}

func TestInheritedListenersRejectsBadContract(t *testing.T) {
	tests := []struct {
		name string
		env  []string
	}{
		{"old master pid not a number", []string{EnvUpgradeFrom + "=x", EnvListenFDs + "=1"}},
		{"fd count missing", []string{EnvUpgradeFrom + "=5"}},
		{"fd count negative", []string{EnvUpgradeFrom + "=5", EnvListenFDs + "=-1"}},
		{"fd count absurd", []string{EnvUpgradeFrom + "=5", EnvListenFDs + "=100000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, ok, err := InheritedListeners(tc.env); !ok || err == nil {
				t.Fatalf("InheritedListeners = ok %v, err %v; want an error", ok, err)
			}
		})
	}
	if _, _, _, ok, err := InheritedListeners([]string{"PATH=/"}); ok || err != nil {
		t.Fatalf("a plain start looks like an upgrade: %v %v", ok, err)
	}
}

func TestLoadWorkerRejectsBadContract(t *testing.T) {
	tests := []struct {
		name string
		env  []string
	}{
		{"no worker id", []string{EnvMasterPID + "=1"}},
		{"no master pid", []string{EnvWorker + "=1"}},
		{"heartbeat fd not after listeners", []string{EnvWorker + "=1", EnvMasterPID + "=1", EnvListenFDs + "=0", EnvHeartbeatFD + "=9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadWorker(tc.env); err == nil {
				t.Fatal("LoadWorker accepted a broken contract")
			}
		})
	}
}
