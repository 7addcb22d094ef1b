// Package config holds gonicorn's settings: their names, defaults and validation,
// and the parsing of Gunicorn-style flags, GONICORN_CMD_ARGS and config files.
//
// It never opens a socket or starts a process: it only turns text into a Config.
package config

import "time"

// Config is the complete set of settings of one gonicorn master and its workers.
// The zero value is not usable; start from Default().
type Config struct {
	// Bind lists the addresses to listen on (-b/--bind, repeatable): HOST, HOST:PORT,
	// [v6]:PORT, unix:PATH, unix://PATH, fd://FD, tcp://HOST:PORT, and with a protocol
	// prefix uwsgi://HOST:PORT or uwsgi+unix:PATH. Default 127.0.0.1:8000, or
	// 0.0.0.0:$PORT when PORT is set.
	Bind []string
	// Backlog is the listen(2) backlog (--backlog). Default 2048.
	Backlog int
	// ReusePort sets SO_REUSEPORT on TCP listeners (--reuse-port). Default false.
	ReusePort bool
	// DeferAccept sets TCP_DEFER_ACCEPT on the TCP listeners gonicorn binds
	// (--defer-accept): the kernel hands a worker a connection only once its first
	// bytes have arrived, so a request is accepted, read and answered in one turn
	// (as uWSGI does by default); a connection that stays silent is accepted after
	// about this long. 0 disables. Inherited sockets keep their own setting
	// (systemd: DeferAcceptSec=). Default 1s.
	DeferAccept time.Duration

	// Workers is the number of worker processes (-w/--workers). Default $WEB_CONCURRENCY or 1.
	Workers int
	// Threads is the handler pool size of each worker: how many requests run at once
	// (--threads). Default 1024.
	Threads int
	// WorkerConnections caps open client connections per worker (--worker-connections),
	// kept below RLIMIT_NOFILE. Default 10000.
	WorkerConnections int
	// EventLoops is the number of gnet event loops per worker (--event-loops).
	// Default 0: one per CPU the process may use.
	EventLoops int

	// Timeout is the per-request handler deadline and the worker heartbeat timeout
	// (-t/--timeout). 0 disables. Default 30s.
	Timeout time.Duration
	// GracefulTimeout bounds a graceful stop or reload (--graceful-timeout). Default 30s.
	GracefulTimeout time.Duration
	// ShutdownDelay is how long a TERM keeps the master accepting and serving, with
	// the readiness path answering 503, before the graceful stop begins
	// (--shutdown-delay), so that load balancers take the instance out first.
	// Default 0: the graceful stop begins at once.
	ShutdownDelay time.Duration
	// ReadinessPath is answered by gonicorn before the handler (--readiness-path):
	// 200 while a worker serves, 503 before it is ready and during the shutdown
	// delay. Default "": no readiness path.
	ReadinessPath string
	// KeepAlive is how long an idle keep-alive connection is kept (--keep-alive). Default 2s.
	KeepAlive time.Duration
	// HeaderTimeout bounds the read of a request's head from its first byte
	// (--header-timeout); expiry answers 408 and closes. Default 10s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds each wait for more request body bytes (--body-timeout);
	// expiry answers 408 if nothing was sent yet, and closes. Default 30s.
	BodyTimeout time.Duration
	// WriteTimeout bounds a write that makes no progress to a slow reader
	// (--write-timeout); expiry closes the connection. Default 30s.
	WriteTimeout time.Duration
	// MinResponseRate is the slowest a client may read a response, in bytes per
	// second over a sliding window, once MinRateGrace has passed (--min-response-rate);
	// a slower client is cut. 0 = off. Default 240 (Kestrel's).
	MinResponseRate int
	// MinRequestRate is the slowest a client may send a request body, in bytes per
	// second, once MinRateGrace has passed (--min-request-rate). 0 = off. Default 240.
	MinRequestRate int
	// MinRateGrace is how long a transfer runs before the minimum rates apply
	// (--min-rate-grace). Default 5s.
	MinRateGrace time.Duration
	// MaxQueuedStreams bounds the requests of a worker (HTTP/1.1, uWSGI and h2
	// streams) waiting their turn for a handler slot, each for at most Timeout
	// (a minute when Timeout is 0) (--max-queued-streams); more are refused with
	// 503 at once, and 0 turns the queue off. Default 16384.
	MaxQueuedStreams int

	// MaxRequests recycles a worker after this many requests (--max-requests).
	// Default 0: never.
	MaxRequests int
	// MaxRequestsJitter adds 0..J to MaxRequests per worker (--max-requests-jitter).
	// Default 0.
	MaxRequestsJitter int
	// MaxWorkerMemory recycles a worker whose RSS exceeds it, in bytes
	// (--max-worker-memory). Default 0: never.
	MaxWorkerMemory int64
	// GCMinHeap is the smallest heap goal of a worker's garbage collector, in
	// bytes (--gc-min-heap): a worker whose live heap is small lets it grow to
	// this before collecting, instead of collecting dozens of times a second at
	// full load; a larger heap is paced by GOGC as usual, and GOMEMLIMIT still
	// caps it. 0 leaves the collector to GOGC alone. Default 32 MiB.
	GCMinHeap int64

	// LimitRequestLine caps the request line (--limit-request-line). Default 4094;
	// 0 means the maximum, 8190.
	LimitRequestLine int
	// LimitRequestFields caps the number of header fields (--limit-request-fields).
	// Default 100, at most 32768.
	LimitRequestFields int
	// LimitRequestFieldSize caps one header field line (--limit-request-field_size).
	// Default 8190; 0 means unlimited (capped by the header block limit).
	LimitRequestFieldSize int
	// BodyBufferSize is how much request body is buffered on the event loop before
	// the handler starts and the rest streams through a buffer of this size
	// (--body-buffer-size). Default 64 KiB.
	BodyBufferSize int

	// Protocol is what plain binds speak: "http" or "uwsgi" (--protocol). Default http.
	Protocol string
	// HTTPProtocols lists the HTTP versions served on http binds, "h1" and "h2c"
	// (--http-protocols). Default both.
	HTTPProtocols []string
	// HTTP2MaxConcurrentStreams (--http2-max-concurrent-streams). Default 100.
	HTTP2MaxConcurrentStreams uint32
	// HTTP2InitialWindowSize (--http2-initial-window-size). Default 65535.
	HTTP2InitialWindowSize uint32
	// HTTP2MaxFrameSize (--http2-max-frame-size), 16384..16777215. Default 16384.
	HTTP2MaxFrameSize uint32
	// HTTP2MaxHeaderListSize (--http2-max-header-list-size). Default 65536.
	HTTP2MaxHeaderListSize uint32

	// UWSGIAllowFrom lists peers (IPs, CIDR ranges, or *) allowed to speak uWSGI
	// (--uwsgi-allow-from). Unix sockets are always allowed. Default 127.0.0.1,::1.
	UWSGIAllowFrom []string
	// ForwardedAllowIPs lists proxies trusted for X-Forwarded-* headers
	// (--forwarded-allow-ips). Default 127.0.0.1,::1.
	ForwardedAllowIPs []string

	// ForwardedForRemoteAddr takes the client address (r.RemoteAddr, %(h)s) from the
	// X-Forwarded-For header of --forwarded-allow-ips peers
	// (--forwarded-for-remote-addr). Default false.
	ForwardedForRemoteAddr bool
	// ProxyProtocol is the PROXY protocol expected on TCP binds (--proxy-protocol):
	// off, v1, v2, or auto (either version, or none). Default off.
	ProxyProtocol string
	// ProxyAllowFrom lists peers (IPs, CIDR ranges, or *) whose PROXY headers are
	// believed (--proxy-allow-from). A header from any other peer is refused.
	// Default 127.0.0.1,::1.
	ProxyAllowFrom []string

	// AccessLogFile is where the access log goes (--access-logfile); "-" is stdout.
	// Default "": no access log.
	AccessLogFile string
	// AccessLogFormat uses Gunicorn's atoms (--access-logformat). Default
	// DefaultAccessLogFormat, Gunicorn's: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s".
	AccessLogFormat string
	// ErrorLogFile is where the error log goes (--error-logfile). Default "-": stderr.
	ErrorLogFile string
	// LogLevel is debug, info, warning, error or critical (--log-level). Default info.
	LogLevel string

	// PidFile is written by the master (-p/--pid). Default none.
	PidFile string
	// User and Group switch the workers' identity (-u/--user, -g/--group). Default: unchanged.
	User, Group string
	// Umask applies to the process and its unix sockets (-m/--umask). Default 0.
	Umask int
	// Chdir changes directory before loading (--chdir). Default "": stay.
	Chdir string
	// Env sets KEY=VALUE pairs in the environment of master and workers (-e/--env,
	// repeatable). Default none.
	Env []string

	// MetricsBind is the HOST:PORT where the master serves Prometheus metrics at
	// /metrics (--metrics-bind). Default "": off.
	MetricsBind string
	// StatsdHost is where the master pushes statsd metrics with Gunicorn's names
	// (--statsd-host): HOST:PORT over UDP, or unix:PATH for a datagram socket.
	// Default "": off.
	StatsdHost string
	// StatsdPrefix is put before every statsd metric name, with a dot
	// (--statsd-prefix). Default "".
	StatsdPrefix string
	// ControlSocket is the path of the master's control socket, mode 0600, which
	// `gonicorn ctl` talks to (--control-socket). Default "": off.
	ControlSocket string

	// ConfigFile is the configuration file read before the flags (-c/--config).
	// Default "": none.
	ConfigFile string
	// CheckConfig validates the configuration and exits 0 or 1 (--check-config).
	// Default false.
	CheckConfig bool
	// PrintConfig prints the effective configuration and exits (--print-config).
	// Default false.
	PrintConfig bool
}

// DefaultAccessLogFormat is Gunicorn's default access log format.
const DefaultAccessLogFormat = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`

// Default returns the settings gonicorn uses when nothing is said, ignoring the
// environment (Parse applies PORT and WEB_CONCURRENCY).
func Default() Config {
	return Config{
		Bind:                      []string{"127.0.0.1:8000"},
		Backlog:                   2048,
		DeferAccept:               time.Second,
		Workers:                   1,
		Threads:                   1024,
		WorkerConnections:         10000,
		Timeout:                   30 * time.Second,
		GracefulTimeout:           30 * time.Second,
		KeepAlive:                 2 * time.Second,
		HeaderTimeout:             10 * time.Second,
		BodyTimeout:               30 * time.Second,
		WriteTimeout:              30 * time.Second,
		MinResponseRate:           240,
		MinRequestRate:            240,
		MinRateGrace:              5 * time.Second,
		MaxQueuedStreams:          16384,
		GCMinHeap:                 32 << 20,
		LimitRequestLine:          4094,
		LimitRequestFields:        100,
		LimitRequestFieldSize:     8190,
		BodyBufferSize:            64 << 10,
		Protocol:                  "http",
		HTTPProtocols:             []string{"h1", "h2c"},
		HTTP2MaxConcurrentStreams: 100,
		HTTP2InitialWindowSize:    65535,
		HTTP2MaxFrameSize:         16384,
		HTTP2MaxHeaderListSize:    65536,
		UWSGIAllowFrom:            []string{"127.0.0.1", "::1"},
		ForwardedAllowIPs:         []string{"127.0.0.1", "::1"},
		ProxyProtocol:             "off",
		ProxyAllowFrom:            []string{"127.0.0.1", "::1"},
		AccessLogFormat:           DefaultAccessLogFormat,
		ErrorLogFile:              "-",
		LogLevel:                  "info",
	}
}

// Counting reports whether workers count what they serve for the master: when
// metrics, statsd or the control socket are on.
func (c *Config) Counting() bool {
	return c.MetricsBind != "" || c.StatsdHost != "" || c.ControlSocket != ""
}
