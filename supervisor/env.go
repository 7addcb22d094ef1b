package supervisor

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gonicorn/gonicorn/internal/config"
)

// The environment contract between a master and the processes it starts. Listener
// files are inherited from fd 3 upwards in the order of the description; a worker's
// heartbeat pipe follows them.
const (
	// EnvWorker marks a worker process; its value is the worker's id in its master.
	EnvWorker = "GONICORN_WORKER"
	// EnvMasterPID is the pid of the master that started the worker.
	EnvMasterPID = "GONICORN_MASTER_PID"
	// EnvListenFDs is how many listener files the process inherits from fd 3.
	EnvListenFDs = "GONICORN_LISTEN_FDS"
	// EnvListeners describes the inherited listeners (internal/listen.Encode).
	EnvListeners = "GONICORN_LISTENERS"
	// EnvHeartbeatFD is the fd of the write end of the worker's heartbeat pipe.
	EnvHeartbeatFD = "GONICORN_HEARTBEAT_FD"
	// EnvConfig is the master's configuration as JSON, so every worker of one
	// generation serves with the same settings even if the config file changes.
	EnvConfig = "GONICORN_CONFIG"
	// EnvUpgradeFrom is set in a master started by USR2: the pid of the old master.
	EnvUpgradeFrom = "GONICORN_UPGRADE_FROM"
)

// firstInheritedFD is where exec.Cmd.ExtraFiles start in the child.
const firstInheritedFD = 3

// ExitBootFailed is the exit code of a worker that could not start serving, and of a
// master that stopped because its workers could not boot (Gunicorn uses 3 for both).
const ExitBootFailed = 3

// contractVars are removed from any environment handed to a child before the child's
// own contract is added, together with the systemd variables that belong to the
// master alone.
var contractVars = []string{
	EnvWorker, EnvMasterPID, EnvListenFDs, EnvListeners, EnvHeartbeatFD, EnvConfig,
	EnvUpgradeFrom, "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
}

// IsWorker reports whether environ is that of a worker process started by a master.
func IsWorker(environ []string) bool {
	_, ok := lookupEnv(environ, EnvWorker)
	return ok
}

// lookupEnv finds key in environ; the last occurrence wins, as in the C library.
func lookupEnv(environ []string, key string) (string, bool) {
	for i := len(environ) - 1; i >= 0; i-- {
		kv := environ[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:], true
		}
	}
	return "", false
}

// withoutVars returns environ minus every entry whose key is in drop.
func withoutVars(environ []string, drop []string) []string {
	out := make([]string, 0, len(environ))
next:
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		for _, d := range drop {
			if key == d {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// workerSpec is what the master tells one worker at exec.
type workerSpec struct {
	ID        int
	MasterPID int
	Config    config.Config
}

// workerEnviron builds a worker's environment: the master's base environment without
// contract and systemd variables, the configuration's -e/--env pairs, then the contract.
func workerEnviron(base []string, spec workerSpec, listenerDesc string, nListeners int) ([]string, error) {
	cfgJSON, err := json.Marshal(spec.Config)
	if err != nil {
		return nil, fmt.Errorf("encode worker config: %w", err)
	}
	drop := append([]string{"NOTIFY_SOCKET"}, contractVars...)
	env := withoutVars(base, drop)
	env = append(env, spec.Config.Env...)
	return append(env,
		EnvWorker+"="+strconv.Itoa(spec.ID),
		EnvMasterPID+"="+strconv.Itoa(spec.MasterPID),
		EnvListenFDs+"="+strconv.Itoa(nListeners),
		EnvListeners+"="+listenerDesc,
		EnvHeartbeatFD+"="+strconv.Itoa(firstInheritedFD+nListeners),
		EnvConfig+"="+string(cfgJSON),
	), nil
}

// upgradeEnviron builds the environment of a new master started by USR2: the original
// environment with the listeners passed the same way as to workers.
func upgradeEnviron(base []string, oldMasterPID int, listenerDesc string, nListeners int) []string {
	env := withoutVars(base, contractVars)
	return append(env,
		EnvUpgradeFrom+"="+strconv.Itoa(oldMasterPID),
		EnvListenFDs+"="+strconv.Itoa(nListeners),
		EnvListeners+"="+listenerDesc,
	)
}

// Worker is what a worker process learns from its master at start.
type Worker struct {
	// ID numbers the worker within its master, in order of start.
	ID int
	// MasterPID is the pid of the master; the worker is orphaned when its parent changes.
	MasterPID int
	// Config is the master's configuration for this worker's generation.
	Config config.Config
	// Listeners are the inherited listening sockets, in the order of ListenerDesc.
	Listeners []*os.File
	// ListenerDesc describes Listeners (internal/listen.Encode).
	ListenerDesc string
	// Heartbeat reports to the master.
	Heartbeat *Heartbeat
}

// LoadWorker reads the worker contract from environ and adopts the inherited files.
// The configuration starts from config.Default so that fields unknown to the master's
// binary (after an upgrade) keep their defaults.
func LoadWorker(environ []string) (*Worker, error) {
	w := &Worker{Config: config.Default()}
	var err error
	if w.ID, err = intVar(environ, EnvWorker); err != nil {
		return nil, err
	}
	if w.MasterPID, err = intVar(environ, EnvMasterPID); err != nil {
		return nil, err
	}
	files, desc, err := inheritedListeners(environ)
	if err != nil {
		return nil, err
	}
	w.Listeners, w.ListenerDesc = files, desc
	hbFD, err := intVar(environ, EnvHeartbeatFD)
	if err != nil {
		return nil, err
	}
	if hbFD != firstInheritedFD+len(files) {
		return nil, fmt.Errorf("%s=%d: want %d, after the listeners", EnvHeartbeatFD, hbFD, firstInheritedFD+len(files))
	}
	if w.Heartbeat, err = newHeartbeat(hbFD); err != nil {
		return nil, err
	}
	raw, ok := lookupEnv(environ, EnvConfig)
	if !ok {
		return nil, fmt.Errorf("%s is not set", EnvConfig)
	}
	if err := json.Unmarshal([]byte(raw), &w.Config); err != nil {
		return nil, fmt.Errorf("decode %s: %w", EnvConfig, err)
	}
	return w, nil
}

// InheritedListeners returns the listener files and their description that a master
// started by USR2 inherited from the old master, and the old master's pid. It returns
// ok=false when this master was not started by an upgrade.
func InheritedListeners(environ []string) (files []*os.File, desc string, oldMaster int, ok bool, err error) {
	if _, set := lookupEnv(environ, EnvUpgradeFrom); !set {
		return nil, "", 0, false, nil
	}
	if oldMaster, err = intVar(environ, EnvUpgradeFrom); err != nil {
		return nil, "", 0, true, err
	}
	files, desc, err = inheritedListeners(environ)
	return files, desc, oldMaster, true, err
}

// inheritedListeners adopts the listener fds 3..3+N-1 named by the contract.
func inheritedListeners(environ []string) ([]*os.File, string, error) {
	n, err := intVar(environ, EnvListenFDs)
	if err != nil {
		return nil, "", err
	}
	if n < 0 || n > 4096 {
		return nil, "", fmt.Errorf("%s=%d: out of range", EnvListenFDs, n)
	}
	desc, _ := lookupEnv(environ, EnvListeners)
	files := make([]*os.File, n)
	for i := range files {
		fd := firstInheritedFD + i
		files[i] = os.NewFile(uintptr(fd), "listener-fd-"+strconv.Itoa(fd))
	}
	return files, desc, nil
}

// intVar reads a non-negative decimal variable.
func intVar(environ []string, key string) (int, error) {
	raw, ok := lookupEnv(environ, key)
	if !ok {
		return 0, fmt.Errorf("%s is not set", key)
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: not a non-negative integer", key, raw)
	}
	return n, nil
}
