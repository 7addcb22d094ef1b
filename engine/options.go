package engine

import (
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/logs"
	"github.com/gonicorn/gonicorn/internal/stats"
)

// Options are what a Server needs: its bounds, sizes and protocols, and its logs.
// Start from DefaultOptions; gonicorn's flags fill them from the configuration. A
// zero duration turns its bound off; a zero size or count takes the default.
type Options struct {
	// Threads is the handler pool size: how many requests run at once. Default 1024.
	Threads int
	// WorkerConnections caps open client connections, kept below RLIMIT_NOFILE.
	// Default 10000.
	WorkerConnections int
	// EventLoops is the number of gnet event loops. 0: one per CPU the process may use.
	EventLoops int

	// Timeout is the deadline of each handler run (503, or a reset once answering
	// began). Default 30s.
	Timeout time.Duration
	// KeepAlive is how long an idle keep-alive connection is kept; 0 closes every
	// connection after its response. Default 2s.
	KeepAlive time.Duration
	// HeaderTimeout bounds the read of a request head from its first byte (408).
	// Default 10s.
	HeaderTimeout time.Duration
	// BodyTimeout bounds each wait for more request body (408, or a failed read).
	// Default 30s.
	BodyTimeout time.Duration
	// WriteTimeout bounds a write to a slow reader that makes no progress (close).
	// Default 30s.
	WriteTimeout time.Duration
	// MinResponseRate is the slowest a client may read a response, in bytes per
	// second over a sliding window once MinRateGrace has passed; a slower client is
	// cut. 0 = off. Default 240.
	MinResponseRate int
	// MinRequestRate is the slowest a client may send a request body, in bytes per
	// second once MinRateGrace has passed; a slower client is cut. 0 = off. Default 240.
	MinRequestRate int
	// MinRateGrace is how long a transfer runs before the minimum rates apply.
	// Default 5s.
	MinRateGrace time.Duration
	// MaxQueuedStreams bounds the requests (HTTP/1.1, uWSGI and h2 streams)
	// waiting for a handler slot, over all connections; more get 503 at once.
	// 0 = no queue. Default 16384.
	MaxQueuedStreams int

	// LimitRequestLine caps the request line; 0 means 8190. Default 4094.
	LimitRequestLine int
	// LimitRequestFields caps the number of header fields. Default 100.
	LimitRequestFields int
	// LimitRequestFieldSize caps one header field line. Default 8190.
	LimitRequestFieldSize int
	// BodyBufferSize is how much request body is buffered before the handler
	// starts; the rest streams through a buffer of this size. Default 64 KiB.
	BodyBufferSize int

	// HTTPProtocols lists what "http" listeners speak: "h1", "h2c" or both (default).
	HTTPProtocols []string
	// HTTP2MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS. Default 100.
	HTTP2MaxConcurrentStreams uint32
	// HTTP2InitialWindowSize is SETTINGS_INITIAL_WINDOW_SIZE. Default 65535.
	HTTP2InitialWindowSize uint32
	// HTTP2MaxFrameSize is SETTINGS_MAX_FRAME_SIZE. Default 16384.
	HTTP2MaxFrameSize uint32
	// HTTP2MaxHeaderListSize is SETTINGS_MAX_HEADER_LIST_SIZE. Default 65536.
	HTTP2MaxHeaderListSize uint32

	// UWSGIAllowFrom lists the peers (IPs, CIDR ranges, or *) allowed to speak
	// uWSGI; unix sockets are always allowed. Default 127.0.0.1 and ::1.
	UWSGIAllowFrom []string
	// ForwardedAllowIPs lists the proxies trusted for X-Forwarded-* headers.
	// Default 127.0.0.1 and ::1.
	ForwardedAllowIPs []string

	// ForwardedForRemoteAddr takes r.RemoteAddr (and the access log's %(h)s) from
	// the X-Forwarded-For header of ForwardedAllowIPs peers: the rightmost address
	// that is not itself one of them, with port 0. Default false.
	ForwardedForRemoteAddr bool

	// ProxyProtocol is the PROXY protocol header expected at the start of TCP
	// connections from ProxyAllowFrom peers: "off" (or ""), "v1", "v2", or "auto"
	// (either version, or none). Default off.
	ProxyProtocol string
	// ProxyAllowFrom lists the peers (IPs, CIDR ranges, or *) whose PROXY headers
	// are believed; a header from any other peer is refused. Default 127.0.0.1 and ::1.
	ProxyAllowFrom []string

	// Log is the error log. The zero Logger logs nothing.
	Log zerolog.Logger
	// Access is the access log; nil disables it. (gonicorn builds it from
	// --access-logfile and --access-logformat.)
	Access *logs.AccessLog
	// Stats counts requests and connections for the master's metrics; nil (the
	// default) counts nothing. (gonicorn's workers count when --metrics-bind,
	// --statsd-host or --control-socket is set.)
	Stats *stats.Counters
}

// DefaultOptions returns gonicorn's defaults, the same as its flags'.
func DefaultOptions() Options {
	return Options{
		Threads:                   1024,
		WorkerConnections:         10000,
		Timeout:                   30 * time.Second,
		KeepAlive:                 2 * time.Second,
		HeaderTimeout:             10 * time.Second,
		BodyTimeout:               30 * time.Second,
		WriteTimeout:              30 * time.Second,
		MinResponseRate:           240,
		MinRequestRate:            240,
		MinRateGrace:              5 * time.Second,
		MaxQueuedStreams:          16384,
		LimitRequestLine:          4094,
		LimitRequestFields:        100,
		LimitRequestFieldSize:     8190,
		BodyBufferSize:            64 << 10,
		HTTPProtocols:             []string{"h1", "h2c"},
		HTTP2MaxConcurrentStreams: 100,
		HTTP2InitialWindowSize:    65535,
		HTTP2MaxFrameSize:         16384,
		HTTP2MaxHeaderListSize:    65536,
		UWSGIAllowFrom:            []string{"127.0.0.1", "::1"},
		ForwardedAllowIPs:         []string{"127.0.0.1", "::1"},
		ProxyProtocol:             "off",
		ProxyAllowFrom:            []string{"127.0.0.1", "::1"},
	}
}

// Listener is a bound socket a Server accepts connections from, and what it speaks.
type Listener struct {
	net.Listener
	// Protocol is "http" (HTTP/1.1 and h2c, per Options.HTTPProtocols) or "uwsgi".
	Protocol string
	// Spec names the socket in logs, as it was bound: "127.0.0.1:8000",
	// "unix:/run/app.sock", "fd://3".
	Spec string
}
