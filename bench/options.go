package bench

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gonicorn/gonicorn"
)

// Workload is the shape of the traffic the generator sends.
type Workload string

// The workloads.
const (
	// KeepAlive sends one request at a time on each of Conns persistent HTTP/1.1
	// connections.
	KeepAlive Workload = "h1-keepalive"
	// Pipelined writes Depth requests at once on each connection and waits for all
	// Depth responses before writing the next batch (as wrk's pipeline script does).
	Pipelined Workload = "h1-pipelined"
	// ConnPerRequest opens a connection, sends one request with Connection: close,
	// reads the response to the server's close, and opens the next.
	ConnPerRequest Workload = "h1-close"
	// H2C keeps Depth concurrent streams open on each of Conns HTTP/2 prior-knowledge
	// cleartext connections (as h2load -c Conns -m Depth does).
	H2C Workload = "h2c"
	// UWSGI sends uWSGI packets as nginx's uwsgi_pass does: a new connection per
	// request, closed once the response is complete.
	UWSGI Workload = "uwsgi"
)

// Workloads lists every workload.
var Workloads = []Workload{KeepAlive, Pipelined, ConnPerRequest, H2C, UWSGI}

// Options describe one benchmark run. The zero value of each field picks the default
// named in its comment.
type Options struct {
	// Workload is the traffic shape. Default KeepAlive.
	Workload Workload
	// Conns is the number of concurrent connections. Default 64, and 16 for H2C.
	Conns int
	// Depth is the pipeline depth of Pipelined (default 16) or the concurrent
	// streams per connection of H2C (default 32). Other workloads ignore it.
	Depth int
	// Duration bounds the measured load. Default $GONICORN_BENCH_DURATION or 5s.
	Duration time.Duration
	// Warmup is load sent before the measurement starts and not counted.
	// Default 500ms; negative means none.
	Warmup time.Duration
	// Requests, when positive, ends the measured load after that many responses
	// even if Duration has not passed.
	Requests int64
	// Timeout fails a request whose response has not come after this long.
	// Default 10s.
	Timeout time.Duration

	// Method of every request. Default GET.
	Method string
	// Path is the request target. Default "/".
	Path string
	// Header is added to every request.
	Header http.Header
	// Body is sent with every request, with a Content-Length.
	Body []byte

	// WantStatus is the status every response must have. Default 200.
	WantStatus int
	// WantBody, when not nil, is the body every response must have. A response with
	// another status or body is an error, and any error fails the benchmark.
	WantBody []byte

	// Threads is the number of generator event loops, each with its share of the
	// connections. Default 1: one core drives the load.
	Threads int
	// NoPin leaves both processes unpinned. By default, on a machine where this
	// process may use two CPUs or more, the server (this process, with GOMAXPROCS 1
	// during the run) is pinned to the first allowed CPU and the generator process to
	// the second; GONICORN_BENCH_PIN=0 in the environment also turns pinning off.
	NoPin bool
	// ServerProcs is GOMAXPROCS of the pinned server process. Default 1: one P per
	// CPU. More Ps on the one CPU let a goroutine run while another thread sits in
	// a system call without waiting for the runtime to hand its P over.
	ServerProcs int

	// Config is the gonicorn configuration Run serves with; nil means the defaults,
	// with one event loop when the server is pinned to one CPU. Servers started by
	// RunServer ignore it.
	Config *gonicorn.Config
}

// DurationFromEnv returns $GONICORN_BENCH_DURATION (a Go duration) or def.
func DurationFromEnv(def time.Duration) time.Duration {
	if s := os.Getenv("GONICORN_BENCH_DURATION"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// pinAllowed reports whether pinning is wanted by o and the environment.
func (o *Options) pinAllowed() bool {
	return !o.NoPin && os.Getenv("GONICORN_BENCH_PIN") != "0"
}

// loadSpec is what the generator process is told: Options resolved against one
// server address. It crosses the process boundary as JSON.
type loadSpec struct {
	Addr     string        `json:"addr"`
	Host     string        `json:"host"`
	Workload Workload      `json:"workload"`
	Conns    int           `json:"conns"`
	Depth    int           `json:"depth"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Requests int64         `json:"requests"`
	Timeout  time.Duration `json:"timeout"`
	Method   string        `json:"method"`
	Path     string        `json:"path"`
	Header   [][2]string   `json:"header"`
	Body     []byte        `json:"body"`

	WantStatus int    `json:"want_status"`
	WantBody   []byte `json:"want_body"`
	CheckBody  bool   `json:"check_body"`

	Threads int `json:"threads"`
	CPU     int `json:"cpu"` // -1: not pinned
}

// resolve fills in defaults and checks o for a server at addr.
func (o *Options) resolve(addr string) (*loadSpec, error) {
	s := &loadSpec{
		Addr:       addr,
		Host:       addr,
		Workload:   o.Workload,
		Conns:      o.Conns,
		Depth:      o.Depth,
		Duration:   o.Duration,
		Warmup:     o.Warmup,
		Requests:   o.Requests,
		Timeout:    o.Timeout,
		Method:     o.Method,
		Path:       o.Path,
		Header:     headerPairs(o.Header),
		Body:       o.Body,
		WantStatus: o.WantStatus,
		WantBody:   o.WantBody,
		CheckBody:  o.WantBody != nil,
		Threads:    o.Threads,
		CPU:        -1,
	}
	if s.Workload == "" {
		s.Workload = KeepAlive
	}
	switch s.Workload {
	case KeepAlive, Pipelined, ConnPerRequest, H2C, UWSGI:
	default:
		return nil, fmt.Errorf("bench: unknown workload %q", s.Workload)
	}
	if s.Conns <= 0 {
		s.Conns = 64
		if s.Workload == H2C {
			s.Conns = 16
		}
	}
	switch {
	case s.Depth > 0:
	case s.Workload == Pipelined:
		s.Depth = 16
	case s.Workload == H2C:
		s.Depth = 32
	default:
		s.Depth = 1
	}
	if s.Workload != Pipelined && s.Workload != H2C {
		s.Depth = 1
	}
	if s.Depth > maxDepth {
		return nil, fmt.Errorf("bench: depth %d exceeds %d", s.Depth, maxDepth)
	}
	if s.Duration <= 0 {
		s.Duration = DurationFromEnv(5 * time.Second)
	}
	switch {
	case s.Warmup == 0:
		s.Warmup = 500 * time.Millisecond
	case s.Warmup < 0:
		s.Warmup = 0
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	if s.Method == "" {
		s.Method = http.MethodGet
	}
	if s.Path == "" {
		s.Path = "/"
	}
	if !strings.HasPrefix(s.Path, "/") {
		return nil, fmt.Errorf("bench: path %q does not start with /", s.Path)
	}
	if s.WantStatus == 0 {
		s.WantStatus = http.StatusOK
	}
	if s.Threads <= 0 {
		s.Threads = 1
	}
	if s.Threads > s.Conns {
		s.Threads = s.Conns
	}
	for _, kv := range s.Header {
		if strings.ContainsAny(kv[0]+kv[1], "\r\n") {
			return nil, errors.New("bench: header contains CR or LF")
		}
	}
	if strings.ContainsAny(s.Method+s.Path, " \r\n") {
		return nil, errors.New("bench: method or path contains a space, CR or LF")
	}
	return s, nil
}

// maxDepth bounds the requests in flight on one connection.
const maxDepth = 256
