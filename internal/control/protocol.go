package control

import (
	"encoding/json"
	"time"
)

// Request is one command: the words a user typed after `gonicorn ctl`, without
// the client's own flags.
type Request struct {
	Args []string `json:"args"`
}

// Response answers a Request: Data on success, Error otherwise.
type Response struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// maxMessage bounds a request or a response line.
const maxMessage = 1 << 20

// ioBound bounds every read and write on a control connection.
const ioBound = 10 * time.Second

// Stats is the answer to "show stats": the master's totals over every worker.
type Stats struct {
	MasterPID      int               `json:"master_pid"`
	Uptime         float64           `json:"uptime_seconds"`
	WorkersTarget  int               `json:"workers_target"`
	WorkersAlive   int               `json:"workers_alive"`
	WorkersBusy    int               `json:"workers_busy"`
	Requests       uint64            `json:"requests"`
	ByClass        map[string]uint64 `json:"requests_by_status_class"`
	ByProtocol     map[string]uint64 `json:"requests_by_protocol"`
	InFlight       int64             `json:"in_flight"`
	OpenConns      map[string]int64  `json:"open_connections"`
	MeanDuration   float64           `json:"mean_duration_seconds"`
	Timeouts       map[string]uint64 `json:"handler_timeouts"`
	PoolRejections uint64            `json:"pool_rejections"`
	Rejected       map[string]uint64 `json:"rejected_by_status"`
	Restarts       map[string]uint64 `json:"worker_restarts"`
}

// Worker is one row of "show workers".
type Worker struct {
	PID        int     `json:"pid"`
	ID         int     `json:"id"`
	Generation int     `json:"generation"`
	State      string  `json:"state"`
	Ready      bool    `json:"ready"`
	Age        float64 `json:"age_seconds"`
	Served     uint64  `json:"requests_served"`
	InFlight   int64   `json:"in_flight"`
	RSS        int64   `json:"rss_bytes"`
	LastBeat   float64 `json:"last_heartbeat_seconds_ago"` // -1: none yet
}

// Listener is one row of "show listeners".
type Listener struct {
	Spec     string `json:"bind"`
	Protocol string `json:"protocol"`
	Address  string `json:"address"`
	// Queue is the accept queue length (-1 where the kernel does not report it).
	Queue int64 `json:"accept_queue"`
}

// Done is the answer to commands that change something.
type Done struct {
	Message string `json:"message"`
	Workers int    `json:"workers_target,omitempty"`
}
