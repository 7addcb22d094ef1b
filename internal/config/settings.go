package config

import (
	"errors"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gonicorn/gonicorn/internal/allow"
	"github.com/gonicorn/gonicorn/internal/logs/accessformat"
)

// valueKind says how a setting's value is written as a Python literal by Print and
// read from a config file.
type valueKind uint8

const (
	vString    valueKind = iota // 'text'
	vOptString                  // 'text', or None when empty
	vNumber                     // 30, 0.5, 0o22
	vBool                       // True / False
	vList                       // ['a', 'b']
)

// setting is one entry of the table every source (flags, GONICORN_CMD_ARGS, config
// file), Validate, Print and Usage work from.
type setting struct {
	flag    string   // canonical long flag without "--"
	short   byte     // short flag letter, 0 for none
	aliases []string // more long flags meaning the same
	names   []string // config-file names; names[0] is what Print writes
	metavar string   // what Usage shows after the flag; "" for flags without a value
	section string   // Usage heading
	help    string   // one line for Usage
	deflt   string   // Usage's default when the derived one would mislead
	kind    valueKind
	action  bool // -h and -v: no setting behind them
	comma   bool // list items may be comma-separated

	set   func(c *Config, v string) error // parse one value; errors are reasons
	reset func(c *Config)                 // lists: clear before a source's first value
	text  func(c *Config) string          // scalar: the value as typed on the command line
	list  func(c *Config) []string        // list: the items
	check func(c *Config) error           // scalar bound check, a reason
	item  func(v string) error            // list: check of one item, a reason
	whole func(items []string) error      // list: check of the whole list, a reason
}

// long is "--flag", the name errors use.
func (s *setting) long() string { return "--" + s.flag }

func intSetting(s setting, field func(*Config) *int, lo, hi int64) *setting {
	s.kind = vNumber
	s.set = func(c *Config, v string) error {
		n, err := parseInt(v, lo, hi)
		if err != nil {
			return err
		}
		*field(c) = int(n)
		return nil
	}
	s.text = func(c *Config) string { return strconv.Itoa(*field(c)) }
	s.check = func(c *Config) error {
		if n := int64(*field(c)); n < lo || n > hi {
			return errors.New(rangeReason(lo, hi))
		}
		return nil
	}
	return &s
}

// bytesSetting is a size in bytes, written with an optional K, M, G or T
// (parseBytes); never negative.
func bytesSetting(s setting, field func(*Config) *int64) *setting {
	s.kind = vNumber
	s.set = func(c *Config, v string) error {
		n, err := parseBytes(v)
		*field(c) = n
		return err
	}
	s.text = func(c *Config) string { return strconv.FormatInt(*field(c), 10) }
	s.check = func(c *Config) error {
		if *field(c) < 0 {
			return errors.New(bytesReason)
		}
		return nil
	}
	return &s
}

func uint32Setting(s setting, field func(*Config) *uint32, lo, hi int64) *setting {
	s.kind = vNumber
	s.set = func(c *Config, v string) error {
		n, err := parseInt(v, lo, hi)
		if err != nil {
			return err
		}
		*field(c) = uint32(n)
		return nil
	}
	s.text = func(c *Config) string { return strconv.FormatUint(uint64(*field(c)), 10) }
	s.check = func(c *Config) error {
		if n := int64(*field(c)); n < lo || n > hi {
			return errors.New(rangeReason(lo, hi))
		}
		return nil
	}
	return &s
}

// durationSetting accepts 0 only when zeroOK (0 then disables what it bounds).
func durationSetting(s setting, field func(*Config) *time.Duration, zeroOK bool) *setting {
	s.kind = vNumber
	s.metavar = "SECONDS"
	s.set = func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
	s.text = func(c *Config) string { return formatDuration(*field(c)) }
	s.check = func(c *Config) error {
		switch d := *field(c); {
		case d < 0:
			return errors.New("must not be negative")
		case d == 0 && !zeroOK:
			return errors.New("must be greater than 0: every wait needs a bound")
		}
		return nil
	}
	return &s
}

func boolSetting(s setting, field func(*Config) *bool) *setting {
	s.kind = vBool
	s.set = func(c *Config, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		*field(c) = b
		return nil
	}
	s.text = func(c *Config) string { return strconv.FormatBool(*field(c)) }
	return &s
}

func stringSetting(s setting, field func(*Config) *string) *setting {
	s.kind = vOptString
	s.set = func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
	s.text = func(c *Config) string { return *field(c) }
	return &s
}

// choiceSetting lowercases the value and accepts only choices.
func choiceSetting(s setting, field func(*Config) *string, choices ...string) *setting {
	reason := "must be one of " + strings.Join(choices, ", ")
	valid := func(v string) bool {
		for _, ch := range choices {
			if v == ch {
				return true
			}
		}
		return false
	}
	s.kind = vString
	s.metavar = strings.Join(choices, "|")
	s.set = func(c *Config, v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		if !valid(v) {
			return errors.New(reason)
		}
		*field(c) = v
		return nil
	}
	s.text = func(c *Config) string { return *field(c) }
	s.check = func(c *Config) error {
		if !valid(*field(c)) {
			return errors.New(reason)
		}
		return nil
	}
	return &s
}

func listSetting(s setting, field func(*Config) *[]string) *setting {
	s.kind = vList
	s.set = func(c *Config, v string) error {
		items := []string{v}
		if s.comma {
			items = splitComma(v)
		}
		for _, it := range items {
			if s.item != nil {
				if err := s.item(it); err != nil {
					return err
				}
			}
		}
		*field(c) = append(*field(c), items...)
		return nil
	}
	s.reset = func(c *Config) { *field(c) = nil }
	s.list = func(c *Config) []string { return *field(c) }
	s.text = func(c *Config) string { return strings.Join(*field(c), ",") }
	return &s
}

// Upper bounds that are not the protocol's own.
const (
	maxRequestLine    = 8190
	maxRequestFields  = 32768
	maxBodyBufferSize = 1 << 30
	maxHTTP2Window    = 1<<31 - 1
	minHTTP2FrameSize = 16384
	maxHTTP2FrameSize = 1<<24 - 1
	noLimit           = math.MaxInt
	sectionGeneral    = "General"
	sectionSocket     = "Server socket"
	sectionWorkers    = "Workers"
	sectionTimeouts   = "Timeouts"
	sectionLimits     = "Request limits"
	sectionHTTP2      = "HTTP/2 and protocols"
	sectionPeers      = "Trusted peers"
	sectionLogging    = "Logging"
	sectionProcess    = "Process"
	sectionOps        = "Metrics and control"
	helpFlag          = "help"
	versionFlag       = "version"
)

// settings is every flag gonicorn knows, in the order Usage lists them.
var settings = []*setting{
	{flag: helpFlag, short: 'h', section: sectionGeneral, help: "show this help and exit", action: true},
	{flag: versionFlag, short: 'v', section: sectionGeneral, help: "print the version and exit", action: true},
	stringSetting(setting{flag: "config", short: 'c', names: []string{"config"}, metavar: "FILE", section: sectionGeneral,
		help: "read settings from FILE (gunicorn.conf.py syntax: simple assignments)", deflt: "none"},
		func(c *Config) *string { return &c.ConfigFile }),
	boolSetting(setting{flag: "check-config", names: []string{"check_config"}, section: sectionGeneral,
		help: "check the configuration, then exit 0 if valid or 1 if not"},
		func(c *Config) *bool { return &c.CheckConfig }),
	boolSetting(setting{flag: "print-config", names: []string{"print_config"}, section: sectionGeneral,
		help: "print the effective configuration, then exit"},
		func(c *Config) *bool { return &c.PrintConfig }),

	listSetting(setting{flag: "bind", short: 'b', names: []string{"bind"}, metavar: "ADDRESS", section: sectionSocket,
		help:  "listen on HOST:PORT, [V6]:PORT, unix:PATH, fd://FD, uwsgi://HOST:PORT, uwsgi+unix:PATH, uwsgi+fd://FD; repeatable",
		deflt: "127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set",
		item: func(v string) error {
			_, _, _, err := SplitBind(v, "http")
			return err
		},
		whole: checkBindList},
		func(c *Config) *[]string { return &c.Bind }),
	intSetting(setting{flag: "backlog", names: []string{"backlog"}, metavar: "INT", section: sectionSocket,
		help: "listen(2) backlog; the kernel caps it at net.core.somaxconn"},
		func(c *Config) *int { return &c.Backlog }, 1, noLimit),
	boolSetting(setting{flag: "reuse-port", names: []string{"reuse_port"}, section: sectionSocket,
		help: "set SO_REUSEPORT on TCP listeners"},
		func(c *Config) *bool { return &c.ReusePort }),
	durationSetting(setting{flag: "defer-accept", names: []string{"defer_accept"}, section: sectionSocket,
		help: "TCP listeners wake a worker only when a connection's first bytes arrive (TCP_DEFER_ACCEPT); a silent connection is accepted after about this long; 0 = off"},
		func(c *Config) *time.Duration { return &c.DeferAccept }, true),
	{flag: "readiness-path", names: []string{"readiness_path"}, metavar: "PATH", section: sectionSocket,
		help:  "path answered before the handler: 200 when ready, 503 while starting or in --shutdown-delay",
		deflt: "none", kind: vOptString,
		set:   func(c *Config, v string) error { c.ReadinessPath = v; return checkReadinessPath(v) },
		text:  func(c *Config) string { return c.ReadinessPath },
		check: func(c *Config) error { return checkReadinessPath(c.ReadinessPath) }},
	choiceSetting(setting{flag: "protocol", names: []string{"protocol"}, section: sectionSocket,
		help: "what plain binds speak"},
		func(c *Config) *string { return &c.Protocol }, "http", "uwsgi"),

	intSetting(setting{flag: "workers", short: 'w', names: []string{"workers"}, metavar: "INT", section: sectionWorkers,
		help: "number of worker processes", deflt: "$WEB_CONCURRENCY or 1"},
		func(c *Config) *int { return &c.Workers }, 1, noLimit),
	intSetting(setting{flag: "threads", names: []string{"threads"}, metavar: "INT", section: sectionWorkers,
		help: "handler pool size of each worker: requests run at once"},
		func(c *Config) *int { return &c.Threads }, 1, noLimit),
	intSetting(setting{flag: "worker-connections", names: []string{"worker_connections"}, metavar: "INT", section: sectionWorkers,
		help: "open client connections per worker, kept below RLIMIT_NOFILE"},
		func(c *Config) *int { return &c.WorkerConnections }, 1, noLimit),
	intSetting(setting{flag: "max-queued-streams", names: []string{"max_queued_streams"}, metavar: "INT", section: sectionWorkers,
		help: "requests (HTTP/1.1, uWSGI, h2 streams) per worker waiting their turn for a busy handler slot, each at most --timeout; more get 503 at once; 0 = no queue"},
		func(c *Config) *int { return &c.MaxQueuedStreams }, 0, noLimit),
	intSetting(setting{flag: "event-loops", names: []string{"event_loops"}, metavar: "INT", section: sectionWorkers,
		help: "event loops per worker; 0 = one per usable CPU"},
		func(c *Config) *int { return &c.EventLoops }, 0, 4096),
	intSetting(setting{flag: "max-requests", names: []string{"max_requests"}, metavar: "INT", section: sectionWorkers,
		help: "recycle a worker after this many requests; 0 = never"},
		func(c *Config) *int { return &c.MaxRequests }, 0, noLimit),
	intSetting(setting{flag: "max-requests-jitter", names: []string{"max_requests_jitter"}, metavar: "INT", section: sectionWorkers,
		help: "add a random 0..INT to --max-requests per worker"},
		func(c *Config) *int { return &c.MaxRequestsJitter }, 0, noLimit),
	bytesSetting(setting{flag: "max-worker-memory", names: []string{"max_worker_memory"}, metavar: "BYTES", section: sectionWorkers,
		help: "recycle a worker whose RSS exceeds BYTES (512M, 1G); 0 = never"},
		func(c *Config) *int64 { return &c.MaxWorkerMemory }),
	bytesSetting(setting{flag: "gc-min-heap", names: []string{"gc_min_heap"}, metavar: "BYTES", section: sectionWorkers,
		help: "a worker's garbage collector lets a small heap grow to BYTES (32M, 64M) before collecting; above it GOGC paces as usual; 0 = GOGC alone"},
		func(c *Config) *int64 { return &c.GCMinHeap }),

	durationSetting(setting{flag: "timeout", short: 't', names: []string{"timeout"}, section: sectionTimeouts,
		help: "handler deadline and worker heartbeat timeout; 0 = off"},
		func(c *Config) *time.Duration { return &c.Timeout }, true),
	durationSetting(setting{flag: "graceful-timeout", names: []string{"graceful_timeout"}, section: sectionTimeouts,
		help: "bound of a graceful stop or reload"},
		func(c *Config) *time.Duration { return &c.GracefulTimeout }, true),
	durationSetting(setting{flag: "shutdown-delay", names: []string{"shutdown_delay"}, section: sectionTimeouts,
		help: "on TERM keep serving this long, the readiness path answering 503, before the graceful stop"},
		func(c *Config) *time.Duration { return &c.ShutdownDelay }, true),
	durationSetting(setting{flag: "keep-alive", aliases: []string{"keepalive"}, names: []string{"keepalive", "keep_alive"}, section: sectionTimeouts,
		help: "idle time of a keep-alive connection; 0 = no keep-alive"},
		func(c *Config) *time.Duration { return &c.KeepAlive }, true),
	durationSetting(setting{flag: "header-timeout", names: []string{"header_timeout"}, section: sectionTimeouts,
		help: "bound of reading a request head (then 408)"},
		func(c *Config) *time.Duration { return &c.HeaderTimeout }, false),
	durationSetting(setting{flag: "body-timeout", names: []string{"body_timeout"}, section: sectionTimeouts,
		help: "bound of each wait for more request body (then 408)"},
		func(c *Config) *time.Duration { return &c.BodyTimeout }, false),
	durationSetting(setting{flag: "write-timeout", names: []string{"write_timeout"}, section: sectionTimeouts,
		help: "bound of a write that makes no progress (then close)"},
		func(c *Config) *time.Duration { return &c.WriteTimeout }, false),
	intSetting(setting{flag: "min-response-rate", names: []string{"min_response_rate"}, metavar: "BYTES/S", section: sectionTimeouts,
		help: "cut a client reading a response slower than this, after --min-rate-grace; 0 = off"},
		func(c *Config) *int { return &c.MinResponseRate }, 0, noLimit),
	intSetting(setting{flag: "min-request-rate", names: []string{"min_request_rate"}, metavar: "BYTES/S", section: sectionTimeouts,
		help: "cut a client sending a request body slower than this, after --min-rate-grace; 0 = off"},
		func(c *Config) *int { return &c.MinRequestRate }, 0, noLimit),
	durationSetting(setting{flag: "min-rate-grace", names: []string{"min_rate_grace"}, section: sectionTimeouts,
		help: "how long a transfer runs before the minimum rates apply"},
		func(c *Config) *time.Duration { return &c.MinRateGrace }, true),

	{flag: "limit-request-line", names: []string{"limit_request_line"}, metavar: "BYTES", section: sectionLimits,
		help: "longest request line; 0 or more than 8190 means 8190", kind: vNumber,
		set: func(c *Config, v string) error {
			n, err := parseInt(v, 0, noLimit)
			c.LimitRequestLine = int(n)
			return err
		},
		text: func(c *Config) string { return strconv.Itoa(c.LimitRequestLine) },
		check: func(c *Config) error {
			if c.LimitRequestLine < 0 || c.LimitRequestLine > maxRequestLine {
				return errors.New(rangeReason(0, maxRequestLine))
			}
			return nil
		}},
	{flag: "limit-request-fields", names: []string{"limit_request_fields"}, metavar: "INT", section: sectionLimits,
		help: "most header fields in a request, at most 32768; 0 means 32768", kind: vNumber,
		set: func(c *Config, v string) error {
			n, err := parseInt(v, 0, maxRequestFields)
			c.LimitRequestFields = int(n)
			return err
		},
		text: func(c *Config) string { return strconv.Itoa(c.LimitRequestFields) },
		check: func(c *Config) error {
			if c.LimitRequestFields < 1 || c.LimitRequestFields > maxRequestFields {
				return errors.New(rangeReason(1, maxRequestFields))
			}
			return nil
		}},
	intSetting(setting{flag: "limit-request-field_size", aliases: []string{"limit-request-field-size"},
		names: []string{"limit_request_field_size"}, metavar: "BYTES", section: sectionLimits,
		help: "longest header field line; 0 = only the header block limit"},
		func(c *Config) *int { return &c.LimitRequestFieldSize }, 0, noLimit),
	{flag: "body-buffer-size", names: []string{"body_buffer_size"}, metavar: "BYTES", section: sectionLimits,
		help: "request body buffered before the handler runs, then the stream buffer (64K, 1M)", kind: vNumber,
		set: func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err == nil && (n < 1 || n > maxBodyBufferSize) {
				err = errors.New(rangeReason(1, maxBodyBufferSize))
			}
			c.BodyBufferSize = int(n)
			return err
		},
		text: func(c *Config) string { return strconv.Itoa(c.BodyBufferSize) },
		check: func(c *Config) error {
			if c.BodyBufferSize < 1 || c.BodyBufferSize > maxBodyBufferSize {
				return errors.New(rangeReason(1, maxBodyBufferSize))
			}
			return nil
		}},

	listSetting(setting{flag: "http-protocols", names: []string{"http_protocols"}, metavar: "LIST", section: sectionHTTP2, comma: true,
		help: "HTTP versions served on http binds, comma list of h1, h2c",
		item: checkHTTPProtocol, whole: checkHTTPProtocolList},
		func(c *Config) *[]string { return &c.HTTPProtocols }),
	uint32Setting(setting{flag: "http2-max-concurrent-streams", names: []string{"http2_max_concurrent_streams"}, metavar: "INT", section: sectionHTTP2,
		help: "streams a client may open at once"},
		func(c *Config) *uint32 { return &c.HTTP2MaxConcurrentStreams }, 1, math.MaxUint32),
	uint32Setting(setting{flag: "http2-initial-window-size", names: []string{"http2_initial_window_size"}, metavar: "BYTES", section: sectionHTTP2,
		help: "initial flow-control window of a stream, at most 2^31-1"},
		func(c *Config) *uint32 { return &c.HTTP2InitialWindowSize }, 0, maxHTTP2Window),
	uint32Setting(setting{flag: "http2-max-frame-size", names: []string{"http2_max_frame_size"}, metavar: "BYTES", section: sectionHTTP2,
		help: "largest frame payload accepted, 16384..16777215"},
		func(c *Config) *uint32 { return &c.HTTP2MaxFrameSize }, minHTTP2FrameSize, maxHTTP2FrameSize),
	uint32Setting(setting{flag: "http2-max-header-list-size", names: []string{"http2_max_header_list_size"}, metavar: "BYTES", section: sectionHTTP2,
		help: "largest decoded header list accepted"},
		func(c *Config) *uint32 { return &c.HTTP2MaxHeaderListSize }, 1, math.MaxUint32),

	listSetting(setting{flag: "uwsgi-allow-from", names: []string{"uwsgi_allow_from", "uwsgi_allow_ips"}, metavar: "LIST", section: sectionPeers, comma: true,
		help: "peers (IPs, CIDR ranges, *) allowed to speak uWSGI over TCP; repeatable",
		item: checkAllowEntry},
		func(c *Config) *[]string { return &c.UWSGIAllowFrom }),
	listSetting(setting{flag: "forwarded-allow-ips", names: []string{"forwarded_allow_ips"}, metavar: "LIST", section: sectionPeers, comma: true,
		help: "proxies (IPs, CIDR ranges, *) trusted for X-Forwarded-* headers; repeatable",
		item: checkAllowEntry},
		func(c *Config) *[]string { return &c.ForwardedAllowIPs }),

	boolSetting(setting{flag: "forwarded-for-remote-addr", names: []string{"forwarded_for_remote_addr"}, section: sectionPeers,
		help: "take r.RemoteAddr and %(h)s from X-Forwarded-For of --forwarded-allow-ips peers"},
		func(c *Config) *bool { return &c.ForwardedForRemoteAddr }),
	choiceSetting(setting{flag: "proxy-protocol", names: []string{"proxy_protocol"}, section: sectionPeers,
		help: "PROXY protocol header expected on TCP binds from --proxy-allow-from peers; auto = v1, v2 or none"},
		func(c *Config) *string { return &c.ProxyProtocol }, "off", "v1", "v2", "auto"),
	listSetting(setting{flag: "proxy-allow-from", names: []string{"proxy_allow_from", "proxy_allow_ips"}, metavar: "LIST", section: sectionPeers, comma: true,
		help: "peers (IPs, CIDR ranges, *) whose PROXY headers are believed; others' are refused; repeatable",
		item: checkAllowEntry},
		func(c *Config) *[]string { return &c.ProxyAllowFrom }),

	stringSetting(setting{flag: "access-logfile", names: []string{"accesslog", "access_logfile"}, metavar: "FILE", section: sectionLogging,
		help: "access log file; - = stdout", deflt: "off"},
		func(c *Config) *string { return &c.AccessLogFile }),
	{flag: "access-logformat", names: []string{"access_log_format", "access_logformat"}, metavar: "FORMAT", section: sectionLogging,
		help: "access log format, Gunicorn atoms such as %(h)s %(r)s %(s)s", kind: vString,
		set:  func(c *Config, v string) error { c.AccessLogFormat = v; return checkAccessLogFormat(v) },
		text: func(c *Config) string { return c.AccessLogFormat },
		check: func(c *Config) error {
			return checkAccessLogFormat(c.AccessLogFormat)
		}},
	{flag: "error-logfile", aliases: []string{"log-file"}, names: []string{"errorlog", "error_logfile", "log_file"}, metavar: "FILE", section: sectionLogging,
		help: "error log file; - = stderr", kind: vString,
		set:  func(c *Config, v string) error { c.ErrorLogFile = v; return checkErrorLogFile(v) },
		text: func(c *Config) string { return c.ErrorLogFile },
		check: func(c *Config) error {
			return checkErrorLogFile(c.ErrorLogFile)
		}},
	choiceSetting(setting{flag: "log-level", names: []string{"loglevel", "log_level"}, section: sectionLogging,
		help: "least severe error log level written"},
		func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warning", "error", "critical"),

	stringSetting(setting{flag: "pid", short: 'p', names: []string{"pidfile", "pid"}, metavar: "FILE", section: sectionProcess,
		help: "write the master's pid to FILE", deflt: "none"},
		func(c *Config) *string { return &c.PidFile }),
	stringSetting(setting{flag: "user", short: 'u', names: []string{"user"}, metavar: "USER", section: sectionProcess,
		help: "run workers as this user (name or uid)", deflt: "unchanged"},
		func(c *Config) *string { return &c.User }),
	stringSetting(setting{flag: "group", short: 'g', names: []string{"group"}, metavar: "GROUP", section: sectionProcess,
		help: "run workers as this group (name or gid)", deflt: "unchanged"},
		func(c *Config) *string { return &c.Group }),
	{flag: "umask", short: 'm', names: []string{"umask"}, metavar: "MODE", section: sectionProcess,
		help: "umask of the process and its unix sockets (0o22, 022 or decimal)", kind: vNumber,
		set: func(c *Config, v string) error {
			n, err := parseUmask(v)
			c.Umask = n
			return err
		},
		text: func(c *Config) string {
			if c.Umask == 0 {
				return "0"
			}
			return "0o" + strconv.FormatInt(int64(c.Umask), 8)
		},
		check: func(c *Config) error {
			if c.Umask < 0 || c.Umask > 0o777 {
				return errors.New(umaskReason)
			}
			return nil
		}},
	stringSetting(setting{flag: "chdir", names: []string{"chdir"}, metavar: "DIR", section: sectionProcess,
		help: "change to DIR before loading", deflt: "unchanged"},
		func(c *Config) *string { return &c.Chdir }),
	listSetting(setting{flag: "env", short: 'e', names: []string{"raw_env", "env"}, metavar: "KEY=VALUE", section: sectionProcess,
		help: "set an environment variable in master and workers; repeatable", deflt: "none",
		item: checkEnvItem},
		func(c *Config) *[]string { return &c.Env }),

	stringSetting(setting{flag: "metrics-bind", names: []string{"metrics_bind"}, metavar: "HOST:PORT", section: sectionOps,
		help: "serve Prometheus metrics of every worker at http://HOST:PORT/metrics from the master", deflt: "off",
		check: func(c *Config) error { return checkHostPort(c.MetricsBind) }},
		func(c *Config) *string { return &c.MetricsBind }),
	stringSetting(setting{flag: "statsd-host", names: []string{"statsd_host"}, metavar: "HOST:PORT", section: sectionOps,
		help: "push statsd metrics (Gunicorn's names) to HOST:PORT over UDP, or to unix:PATH", deflt: "off",
		check: func(c *Config) error { return checkStatsdHost(c.StatsdHost) }},
		func(c *Config) *string { return &c.StatsdHost }),
	stringSetting(setting{flag: "statsd-prefix", names: []string{"statsd_prefix"}, metavar: "PREFIX", section: sectionOps,
		help: "prefix of every statsd metric name (a dot is added)", deflt: "none"},
		func(c *Config) *string { return &c.StatsdPrefix }),
	stringSetting(setting{flag: "control-socket", names: []string{"control_socket"}, metavar: "PATH", section: sectionOps,
		help: "unix socket (mode 0600) where the master answers `gonicorn ctl`", deflt: "off"},
		func(c *Config) *string { return &c.ControlSocket }),
}

// checkHostPort accepts "" (off) or HOST:PORT with a numeric port.
func checkHostPort(v string) error {
	if v == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("must be HOST:PORT")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("port must be a number in 0..65535")
	}
	if strings.ContainsAny(host, " /") {
		return errors.New("host must be a name or an IP address")
	}
	return nil
}

// checkStatsdHost accepts "" (off), unix:PATH or HOST:PORT.
func checkStatsdHost(v string) error {
	if path, ok := strings.CutPrefix(v, "unix:"); ok {
		if path == "" {
			return errors.New("unix: needs a path")
		}
		return nil
	}
	return checkHostPort(v)
}

func checkBindList(items []string) error {
	if len(items) == 0 {
		return errors.New("at least one address is needed")
	}
	seen := make(map[string]string, len(items))
	for _, it := range items {
		network, address, _, err := SplitBind(it, "http")
		if err != nil {
			continue // reported per item
		}
		key := network + " " + address
		if first, dup := seen[key]; dup {
			return errors.New("addresses " + strconv.Quote(first) + " and " + strconv.Quote(it) + " are the same")
		}
		seen[key] = it
	}
	return nil
}

func checkHTTPProtocol(v string) error {
	switch v {
	case "h1", "h2c":
		return nil
	case "h2":
		return errors.New("h2 needs TLS, which gonicorn does not terminate; use h2c")
	}
	return errors.New("must be h1 or h2c")
}

func checkHTTPProtocolList(items []string) error {
	if len(items) == 0 {
		return errors.New("at least one of h1, h2c is needed")
	}
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it] {
			return errors.New(strconv.Quote(it) + " is listed twice")
		}
		seen[it] = true
	}
	return nil
}

func checkAllowEntry(v string) error {
	_, err := allow.Parse([]string{v})
	if err != nil {
		return errors.New("must be an IP address, a CIDR range or *")
	}
	return nil
}

func checkReadinessPath(v string) error {
	if v == "" {
		return nil
	}
	if v[0] != '/' || strings.ContainsAny(v, "?# \t\r\n") {
		return errors.New("must be a path starting with /, without query or spaces")
	}
	return nil
}

func checkAccessLogFormat(v string) error {
	_, err := accessformat.Parse(v)
	return err
}

func checkErrorLogFile(v string) error {
	if v == "" {
		return errors.New("must be - (stderr) or a file path")
	}
	return nil
}

func checkEnvItem(v string) error {
	key, _, ok := strings.Cut(v, "=")
	if !ok || key == "" || strings.ContainsAny(key, " \t\x00") || strings.IndexByte(v, 0) >= 0 {
		return errors.New("must be KEY=VALUE")
	}
	return nil
}

// byFlag, byShort and byName index the table for the parsers.
var (
	byFlag  = map[string]*setting{}
	byShort = map[byte]*setting{}
	byName  = map[string]*setting{}
)

func init() {
	for _, s := range settings {
		byFlag[s.flag] = s
		for _, a := range s.aliases {
			byFlag[a] = s
		}
		if s.short != 0 {
			byShort[s.short] = s
		}
		if s.action {
			continue
		}
		byName[strings.ReplaceAll(s.flag, "-", "_")] = s
		for _, a := range s.aliases {
			byName[strings.ReplaceAll(a, "-", "_")] = s
		}
		for _, n := range s.names {
			byName[n] = s
		}
	}
}

// lookupFlag finds a long flag; '_' and '-' are interchangeable in its name.
func lookupFlag(name string) *setting {
	if s, ok := byFlag[name]; ok {
		return s
	}
	return byFlag[strings.ReplaceAll(name, "_", "-")]
}
