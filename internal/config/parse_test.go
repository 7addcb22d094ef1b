package config

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseFiles runs the parser over an in-memory file system.
func parseFiles(args, environ []string, files map[string]string) (Config, error) {
	return parse(args, environ, func(path string) ([]byte, error) {
		data, ok := files[path]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(data), nil
	})
}

// everyFlagCases gives each flag at least one case; TestEveryFlagIsCovered checks.
var everyFlagCases = []struct {
	name string
	args []string
	get  func(c *Config) any
	want any
}{
	{"-c names the config file", []string{"-c", "g.py"}, func(c *Config) any { return c.ConfigFile }, "g.py"},
	{"--config= form", []string{"--config=g.py"}, func(c *Config) any { return c.ConfigFile }, "g.py"},
	{"-b replaces the default", []string{"-b", "0.0.0.0:9000"}, func(c *Config) any { return c.Bind }, []string{"0.0.0.0:9000"}},
	{"-b is repeatable", []string{"-b", "127.0.0.1:1", "--bind", "unix:/tmp/a.sock", "--bind=uwsgi://127.0.0.1:2"},
		func(c *Config) any { return c.Bind }, []string{"127.0.0.1:1", "unix:/tmp/a.sock", "uwsgi://127.0.0.1:2"}},
	{"-b attached value", []string{"-b127.0.0.1:7"}, func(c *Config) any { return c.Bind }, []string{"127.0.0.1:7"}},
	{"--backlog", []string{"--backlog", "64"}, func(c *Config) any { return c.Backlog }, 64},
	{"--reuse-port bare is true", []string{"--reuse-port"}, func(c *Config) any { return c.ReusePort }, true},
	{"--reuse-port=false", []string{"--reuse-port", "--reuse-port=false"}, func(c *Config) any { return c.ReusePort }, false},
	{"--defer-accept", []string{"--defer-accept", "3"}, func(c *Config) any { return c.DeferAccept }, 3 * time.Second},
	{"--defer-accept 0 turns it off", []string{"--defer-accept", "0"}, func(c *Config) any { return c.DeferAccept }, time.Duration(0)},
	{"-w", []string{"-w", "4"}, func(c *Config) any { return c.Workers }, 4},
	{"-w attached", []string{"-w8"}, func(c *Config) any { return c.Workers }, 8},
	{"-w= attached", []string{"-w=3"}, func(c *Config) any { return c.Workers }, 3},
	{"--workers", []string{"--workers", "2"}, func(c *Config) any { return c.Workers }, 2},
	{"--threads", []string{"--threads=16"}, func(c *Config) any { return c.Threads }, 16},
	{"--worker-connections", []string{"--worker-connections", "500"}, func(c *Config) any { return c.WorkerConnections }, 500},
	{"--max-queued-streams", []string{"--max-queued-streams", "64"}, func(c *Config) any { return c.MaxQueuedStreams }, 64},
	{"--event-loops", []string{"--event-loops", "2"}, func(c *Config) any { return c.EventLoops }, 2},
	{"-t integer seconds", []string{"-t", "60"}, func(c *Config) any { return c.Timeout }, 60 * time.Second},
	{"--timeout decimal seconds", []string{"--timeout", "0.5"}, func(c *Config) any { return c.Timeout }, 500 * time.Millisecond},
	{"--timeout Go duration", []string{"--timeout", "1m30s"}, func(c *Config) any { return c.Timeout }, 90 * time.Second},
	{"--timeout 0 disables", []string{"--timeout", "0"}, func(c *Config) any { return c.Timeout }, time.Duration(0)},
	{"--graceful-timeout", []string{"--graceful-timeout", "5"}, func(c *Config) any { return c.GracefulTimeout }, 5 * time.Second},
	{"--keep-alive", []string{"--keep-alive", "75"}, func(c *Config) any { return c.KeepAlive }, 75 * time.Second},
	{"--keepalive alias", []string{"--keepalive", "500ms"}, func(c *Config) any { return c.KeepAlive }, 500 * time.Millisecond},
	{"--header-timeout", []string{"--header-timeout", "3"}, func(c *Config) any { return c.HeaderTimeout }, 3 * time.Second},
	{"--body-timeout", []string{"--body-timeout", "250ms"}, func(c *Config) any { return c.BodyTimeout }, 250 * time.Millisecond},
	{"--write-timeout", []string{"--write-timeout", "7.25"}, func(c *Config) any { return c.WriteTimeout }, 7250 * time.Millisecond},
	{"--min-response-rate", []string{"--min-response-rate", "1000"}, func(c *Config) any { return c.MinResponseRate }, 1000},
	{"--min-request-rate", []string{"--min-request-rate", "0"}, func(c *Config) any { return c.MinRequestRate }, 0},
	{"--min-rate-grace", []string{"--min-rate-grace", "2.5"}, func(c *Config) any { return c.MinRateGrace }, 2500 * time.Millisecond},
	{"--max-requests", []string{"--max-requests", "1000"}, func(c *Config) any { return c.MaxRequests }, 1000},
	{"--max-requests-jitter", []string{"--max-requests-jitter", "50"}, func(c *Config) any { return c.MaxRequestsJitter }, 50},
	{"--max-worker-memory bytes", []string{"--max-worker-memory", "1048576"}, func(c *Config) any { return c.MaxWorkerMemory }, int64(1 << 20)},
	{"--max-worker-memory 512M", []string{"--max-worker-memory", "512M"}, func(c *Config) any { return c.MaxWorkerMemory }, int64(512 << 20)},
	{"--max-worker-memory 1G", []string{"--max-worker-memory=1G"}, func(c *Config) any { return c.MaxWorkerMemory }, int64(1 << 30)},
	{"--gc-min-heap default", nil, func(c *Config) any { return c.GCMinHeap }, int64(32 << 20)},
	{"--gc-min-heap 64M", []string{"--gc-min-heap", "64M"}, func(c *Config) any { return c.GCMinHeap }, int64(64 << 20)},
	{"--gc-min-heap 0", []string{"--gc-min-heap=0"}, func(c *Config) any { return c.GCMinHeap }, int64(0)},
	{"--max-worker-memory 64KiB", []string{"--max-worker-memory=64KiB"}, func(c *Config) any { return c.MaxWorkerMemory }, int64(64 << 10)},
	{"--max-worker-memory 1.5g", []string{"--max-worker-memory=1.5g"}, func(c *Config) any { return c.MaxWorkerMemory }, int64(3 << 29)},
	{"--limit-request-line", []string{"--limit-request-line", "2048"}, func(c *Config) any { return c.LimitRequestLine }, 2048},
	{"--limit-request-line 0 is 8190", []string{"--limit-request-line", "0"}, func(c *Config) any { return c.LimitRequestLine }, 8190},
	{"--limit-request-line above 8190 is 8190", []string{"--limit-request-line", "100000"}, func(c *Config) any { return c.LimitRequestLine }, 8190},
	{"--limit-request-fields", []string{"--limit-request-fields", "32768"}, func(c *Config) any { return c.LimitRequestFields }, 32768},
	{"--limit-request-fields 0 is 32768", []string{"--limit-request-fields", "0"}, func(c *Config) any { return c.LimitRequestFields }, 32768},
	{"--limit-request-field_size", []string{"--limit-request-field_size", "1024"}, func(c *Config) any { return c.LimitRequestFieldSize }, 1024},
	{"--limit-request-field-size", []string{"--limit-request-field-size", "0"}, func(c *Config) any { return c.LimitRequestFieldSize }, 0},
	{"--body-buffer-size", []string{"--body-buffer-size", "1M"}, func(c *Config) any { return c.BodyBufferSize }, 1 << 20},
	{"--protocol uwsgi", []string{"--protocol", "uwsgi"}, func(c *Config) any { return c.Protocol }, "uwsgi"},
	{"--protocol is case-insensitive", []string{"--protocol", "HTTP"}, func(c *Config) any { return c.Protocol }, "http"},
	{"--http-protocols", []string{"--http-protocols", "h1"}, func(c *Config) any { return c.HTTPProtocols }, []string{"h1"}},
	{"--http-protocols comma list", []string{"--http-protocols", "h2c, h1"}, func(c *Config) any { return c.HTTPProtocols }, []string{"h2c", "h1"}},
	{"--http2-max-concurrent-streams", []string{"--http2-max-concurrent-streams", "250"}, func(c *Config) any { return c.HTTP2MaxConcurrentStreams }, uint32(250)},
	{"--http2-initial-window-size max", []string{"--http2-initial-window-size", "2147483647"}, func(c *Config) any { return c.HTTP2InitialWindowSize }, uint32(1<<31 - 1)},
	{"--http2-max-frame-size", []string{"--http2-max-frame-size", "16777215"}, func(c *Config) any { return c.HTTP2MaxFrameSize }, uint32(1<<24 - 1)},
	{"--http2-max-header-list-size", []string{"--http2-max-header-list-size", "1024"}, func(c *Config) any { return c.HTTP2MaxHeaderListSize }, uint32(1024)},
	{"--uwsgi-allow-from comma list", []string{"--uwsgi-allow-from", "10.0.0.0/8,192.168.1.1"}, func(c *Config) any { return c.UWSGIAllowFrom }, []string{"10.0.0.0/8", "192.168.1.1"}},
	{"--uwsgi-allow-from repeatable", []string{"--uwsgi-allow-from", "10.0.0.1", "--uwsgi-allow-from", "*"}, func(c *Config) any { return c.UWSGIAllowFrom }, []string{"10.0.0.1", "*"}},
	{"--forwarded-allow-ips", []string{"--forwarded-allow-ips", "*"}, func(c *Config) any { return c.ForwardedAllowIPs }, []string{"*"}},
	{"--shutdown-delay", []string{"--shutdown-delay", "5"}, func(c *Config) any { return c.ShutdownDelay }, 5 * time.Second},
	{"--readiness-path", []string{"--readiness-path", "/readyz"}, func(c *Config) any { return c.ReadinessPath }, "/readyz"},
	{"--forwarded-for-remote-addr", []string{"--forwarded-for-remote-addr"}, func(c *Config) any { return c.ForwardedForRemoteAddr }, true},
	{"--proxy-protocol", []string{"--proxy-protocol", "v2"}, func(c *Config) any { return c.ProxyProtocol }, "v2"},
	{"--proxy-allow-from comma list", []string{"--proxy-allow-from", "10.0.0.0/8,::1"}, func(c *Config) any { return c.ProxyAllowFrom }, []string{"10.0.0.0/8", "::1"}},
	{"--access-logfile -", []string{"--access-logfile", "-"}, func(c *Config) any { return c.AccessLogFile }, "-"},
	{"--access-logformat", []string{"--access-logformat", `%(h)s "%(r)s" %(s)s %(L)s`}, func(c *Config) any { return c.AccessLogFormat }, `%(h)s "%(r)s" %(s)s %(L)s`},
	{"--error-logfile", []string{"--error-logfile", "/var/log/g.log"}, func(c *Config) any { return c.ErrorLogFile }, "/var/log/g.log"},
	{"--log-file alias", []string{"--log-file", "/tmp/e.log"}, func(c *Config) any { return c.ErrorLogFile }, "/tmp/e.log"},
	{"--log-level warning", []string{"--log-level", "warning"}, func(c *Config) any { return c.LogLevel }, "warning"},
	{"--log-level is lowercased", []string{"--log-level", "DEBUG"}, func(c *Config) any { return c.LogLevel }, "debug"},
	{"-p", []string{"-p", "/run/g.pid"}, func(c *Config) any { return c.PidFile }, "/run/g.pid"},
	{"--pid", []string{"--pid", "g.pid"}, func(c *Config) any { return c.PidFile }, "g.pid"},
	{"-u", []string{"-u", "www-data"}, func(c *Config) any { return c.User }, "www-data"},
	{"--user", []string{"--user", "1000"}, func(c *Config) any { return c.User }, "1000"},
	{"-g", []string{"-g", "www-data"}, func(c *Config) any { return c.Group }, "www-data"},
	{"--group", []string{"--group=33"}, func(c *Config) any { return c.Group }, "33"},
	{"-m 0o22", []string{"-m", "0o22"}, func(c *Config) any { return c.Umask }, 0o22},
	{"--umask 022 is octal", []string{"--umask", "022"}, func(c *Config) any { return c.Umask }, 0o22},
	{"--umask decimal", []string{"--umask", "18"}, func(c *Config) any { return c.Umask }, 18},
	{"--umask hex", []string{"--umask", "0x12"}, func(c *Config) any { return c.Umask }, 18},
	{"--chdir", []string{"--chdir", "/srv/app"}, func(c *Config) any { return c.Chdir }, "/srv/app"},
	{"--metrics-bind", []string{"--metrics-bind", "127.0.0.1:9100"}, func(c *Config) any { return c.MetricsBind }, "127.0.0.1:9100"},
	{"--statsd-host", []string{"--statsd-host", "localhost:8125"}, func(c *Config) any { return c.StatsdHost }, "localhost:8125"},
	{"--statsd-host unix", []string{"--statsd-host", "unix:/run/statsd.sock"}, func(c *Config) any { return c.StatsdHost }, "unix:/run/statsd.sock"},
	{"--statsd-prefix", []string{"--statsd-prefix", "app"}, func(c *Config) any { return c.StatsdPrefix }, "app"},
	{"--control-socket", []string{"--control-socket", "/run/app.ctl"}, func(c *Config) any { return c.ControlSocket }, "/run/app.ctl"},
	{"-e repeatable", []string{"-e", "A=1", "--env", "B=two=2", "--env=C="}, func(c *Config) any { return c.Env }, []string{"A=1", "B=two=2", "C="}},
	{"--check-config", []string{"--check-config"}, func(c *Config) any { return c.CheckConfig }, true},
	{"--print-config", []string{"--print-config"}, func(c *Config) any { return c.PrintConfig }, true},
	{"underscores in long flags", []string{"--max_requests", "9"}, func(c *Config) any { return c.MaxRequests }, 9},
	{"-- ends the flags", []string{"-w", "2", "--"}, func(c *Config) any { return c.Workers }, 2},
	{"a value may start with a dash", []string{"--access-logfile", "-", "-w", "2"}, func(c *Config) any { return c.AccessLogFile }, "-"},
}

func TestEveryFlag(t *testing.T) {
	files := map[string]string{"g.py": "# empty\n"}
	for _, tt := range everyFlagCases {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFiles(tt.args, nil, files)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if got := tt.get(&c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) gave %#v, want %#v", tt.args, got, tt.want)
			}
		})
	}
}

func TestEveryFlagIsCovered(t *testing.T) {
	used := map[*setting]map[string]bool{}
	for _, tc := range everyFlagCases {
		for _, arg := range tc.args {
			var s *setting
			switch {
			case strings.HasPrefix(arg, "--"):
				name, _, _ := strings.Cut(arg[2:], "=")
				s = lookupFlag(name)
			case strings.HasPrefix(arg, "-") && len(arg) > 1:
				s = byShort[arg[1]]
			}
			if s != nil {
				if used[s] == nil {
					used[s] = map[string]bool{}
				}
				used[s][arg] = true
			}
		}
	}
	for _, s := range settings {
		if !s.action && len(used[s]) == 0 {
			t.Errorf("flag --%s has no case in TestEveryFlag", s.flag)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"unknown long flag", []string{"--foo"}, nil, "gonicorn: unknown flag --foo"},
		{"unknown long flag with value", []string{"--foo=1"}, nil, "gonicorn: unknown flag --foo"},
		{"unknown short flag", []string{"-z"}, nil, "gonicorn: unknown flag -z"},
		{"bare double dash with name missing", []string{"--=3"}, nil, "unknown flag --"},
		{"positional argument", []string{"app:app"}, nil, `unexpected argument "app:app"`},
		{"positional after --", []string{"--", "x"}, nil, `unexpected argument "x"`},
		{"workers not a number", []string{"--workers", "x"}, nil, `gonicorn: --workers: invalid value "x": must be a positive integer`},
		{"workers zero", []string{"-w", "0"}, nil, `gonicorn: -w: invalid value "0": must be a positive integer`},
		{"missing value at the end", []string{"--workers"}, nil, "gonicorn: --workers: missing value"},
		{"missing value before another flag", []string{"--bind", "--workers", "2"}, nil, "gonicorn: --bind: missing value"},
		{"bool flag with junk value", []string{"--reuse-port=maybe"}, nil, `--reuse-port: invalid value "maybe": must be true or false`},
		{"help with a value", []string{"--help=1"}, nil, "--help takes no value"},
		{"negative max-requests", []string{"--max-requests", "-1"}, nil, `--max-requests: invalid value "-1": must be a non-negative integer`},
		{"bad duration", []string{"--timeout", "soon"}, nil, `--timeout: invalid value "soon": must be seconds`},
		{"negative duration", []string{"--timeout", "-5s"}, nil, `--timeout: invalid value "-5s": must not be negative`},
		{"zero header timeout", []string{"--header-timeout", "0"}, nil, `--header-timeout: invalid value "0": must be greater than 0`},
		{"bad memory", []string{"--max-worker-memory", "lots"}, nil, `--max-worker-memory: invalid value "lots": must be a number of bytes`},
		{"bad heap floor", []string{"--gc-min-heap", "some"}, nil, `--gc-min-heap: invalid value "some": must be a number of bytes`},
		{"memory overflow", []string{"--max-worker-memory", "99999999999T"}, nil, "must be a number of bytes"},
		{"limit-request-fields above 32768", []string{"--limit-request-fields", "32769"}, nil, `--limit-request-fields: invalid value "32769": must be an integer from 0 to 32768`},
		{"negative limit-request-line", []string{"--limit-request-line", "-1"}, nil, "--limit-request-line"},
		{"readiness path without a slash", []string{"--readiness-path", "readyz"}, nil, `--readiness-path: invalid value "readyz": must be a path starting with /`},
		{"bad proxy protocol", []string{"--proxy-protocol", "v3"}, nil, `--proxy-protocol: invalid value "v3": must be one of off, v1, v2, auto`},
		{"bad proxy allow entry", []string{"--proxy-allow-from", "haproxy"}, nil, `--proxy-allow-from: invalid value "haproxy"`},
		{"bad protocol", []string{"--protocol", "fastcgi"}, nil, `--protocol: invalid value "fastcgi": must be one of http, uwsgi`},
		{"bad http protocol", []string{"--http-protocols", "h3"}, nil, `--http-protocols: invalid value "h3": must be h1 or h2c`},
		{"h2 needs TLS", []string{"--http-protocols", "h1,h2"}, nil, "h2 needs TLS"},
		{"duplicate http protocol", []string{"--http-protocols", "h1,h1"}, nil, `"h1" is listed twice`},
		{"initial window too large", []string{"--http2-initial-window-size", "2147483648"}, nil, `--http2-initial-window-size: invalid value "2147483648": must be an integer from 0 to 2147483647`},
		{"frame size too small", []string{"--http2-max-frame-size", "16383"}, nil, "must be an integer from 16384 to 16777215"},
		{"frame size too large", []string{"--http2-max-frame-size", "16777216"}, nil, "must be an integer from 16384 to 16777215"},
		{"zero concurrent streams", []string{"--http2-max-concurrent-streams", "0"}, nil, "--http2-max-concurrent-streams"},
		{"bad uwsgi allow entry", []string{"--uwsgi-allow-from", "10.0.0.0/8,nginx"}, nil, `--uwsgi-allow-from: invalid value "10.0.0.0/8,nginx": must be an IP address, a CIDR range or *`},
		{"bad forwarded entry", []string{"--forwarded-allow-ips", "10.0.0.0/40"}, nil, "--forwarded-allow-ips"},
		{"bad access log format", []string{"--access-logformat", "%(zz)s"}, nil, "--access-logformat: invalid value \"%(zz)s\": access log format: unknown atom %(zz)s"},
		{"empty error log file", []string{"--error-logfile", ""}, nil, "--error-logfile"},
		{"bad log level", []string{"--log-level", "verbose"}, nil, "must be one of debug, info, warning, error, critical"},
		{"bad umask", []string{"--umask", "0o1000"}, nil, "--umask"},
		{"metrics bind without port", []string{"--metrics-bind", "127.0.0.1"}, nil, "--metrics-bind"},
		{"metrics bind bad port", []string{"--metrics-bind", "127.0.0.1:http"}, nil, "--metrics-bind"},
		{"statsd unix without path", []string{"--statsd-host", "unix:"}, nil, "--statsd-host"},
		{"umask not a number", []string{"-m", "rw"}, nil, "-m: invalid value"},
		{"env without =", []string{"-e", "NOVALUE"}, nil, `-e: invalid value "NOVALUE": must be KEY=VALUE`},
		{"bad bind port", []string{"-b", "127.0.0.1:http"}, nil, `-b: invalid value "127.0.0.1:http": "http" is not a valid port number`},
		{"bind port out of range", []string{"-b", "127.0.0.1:70000"}, nil, "not a valid port number"},
		{"bind v6 without brackets and port", []string{"-b", "fe80::1::2:80"}, nil, "brackets"},
		{"bind twice the same", []string{"-b", "127.0.0.1:80", "-b", "tcp://127.0.0.1:80"}, nil, "are the same"},
		{"bad fd", []string{"-b", "fd://x"}, nil, "not a valid file descriptor"},
		{"PORT junk", nil, []string{"PORT=eighty"}, `gonicorn: PORT: invalid value "eighty"`},
		{"WEB_CONCURRENCY junk", nil, []string{"WEB_CONCURRENCY=lots"}, `gonicorn: WEB_CONCURRENCY: invalid value "lots": must be a positive integer`},
		{"cmd args unknown flag", nil, []string{"GONICORN_CMD_ARGS=--nope"}, "gonicorn: GONICORN_CMD_ARGS: unknown flag --nope"},
		{"cmd args bad value", nil, []string{"GONICORN_CMD_ARGS=-w none"}, `gonicorn: GONICORN_CMD_ARGS: -w: invalid value "none"`},
		{"cmd args unterminated quote", nil, []string{`GONICORN_CMD_ARGS=--bind "x`}, "GONICORN_CMD_ARGS: unterminated \" quote"},
		{"missing config file", []string{"-c", "nope.py"}, nil, "reading config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(tt.args, tt.environ, nil)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.args, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error\n  %q\nwant it to contain\n  %q", tt.args, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    error
	}{
		{"-h", []string{"-h"}, nil, ErrHelp},
		{"--help among other flags", []string{"-w", "2", "--help"}, nil, ErrHelp},
		{"help wins over version", []string{"-v", "-h"}, nil, ErrHelp},
		{"-v", []string{"-v"}, nil, ErrVersion},
		{"--version", []string{"--version"}, nil, ErrVersion},
		{"help before reading a missing config file", []string{"-c", "missing.py", "-h"}, nil, ErrHelp},
		{"help from GONICORN_CMD_ARGS", nil, []string{"GONICORN_CMD_ARGS=--help"}, ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(tt.args, tt.environ, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.args, err, tt.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	files := map[string]string{
		"a.py": "workers = 3\nbind = ['127.0.0.1:3001', '127.0.0.1:3002']\ntimeout = 40\nkeepalive = 5\n",
		"b.py": "workers = 5\n",
	}
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    func(c *Config) any
		value   any
	}{
		{"defaults", nil, nil, func(c *Config) any { return [2]any{c.Workers, c.Bind} }, [2]any{1, []string{"127.0.0.1:8000"}}},
		{"PORT sets the bind", nil, []string{"PORT=5000"}, func(c *Config) any { return c.Bind }, []string{"0.0.0.0:5000"}},
		{"WEB_CONCURRENCY sets workers", nil, []string{"WEB_CONCURRENCY=6"}, func(c *Config) any { return c.Workers }, 6},
		{"later duplicate environment entry wins", nil, []string{"WEB_CONCURRENCY=6", "WEB_CONCURRENCY=7"}, func(c *Config) any { return c.Workers }, 7},
		{"config file beats environment", []string{"-c", "a.py"}, []string{"WEB_CONCURRENCY=6", "PORT=5000"},
			func(c *Config) any { return [2]any{c.Workers, c.Bind} }, [2]any{3, []string{"127.0.0.1:3001", "127.0.0.1:3002"}}},
		{"environment applies where the file is silent", []string{"-c", "b.py"}, []string{"PORT=5000"},
			func(c *Config) any { return [2]any{c.Workers, c.Bind} }, [2]any{5, []string{"0.0.0.0:5000"}}},
		{"GONICORN_CMD_ARGS beats the config file", []string{"-c", "a.py"}, []string{"GONICORN_CMD_ARGS=-w 4 -b 127.0.0.1:4000"},
			func(c *Config) any { return [3]any{c.Workers, c.Bind, c.Timeout} }, [3]any{4, []string{"127.0.0.1:4000"}, 40 * time.Second}},
		{"command line beats GONICORN_CMD_ARGS", []string{"-c", "a.py", "-w", "9"}, []string{"GONICORN_CMD_ARGS=-w 4 -t 7"},
			func(c *Config) any { return [2]any{c.Workers, c.Timeout} }, [2]any{9, 7 * time.Second}},
		{"command line list replaces the env args list", []string{"-b", "127.0.0.1:9"}, []string{"GONICORN_CMD_ARGS=-b 127.0.0.1:4000 -b 127.0.0.1:4001"},
			func(c *Config) any { return c.Bind }, []string{"127.0.0.1:9"}},
		{"config file named in GONICORN_CMD_ARGS is read", nil, []string{"GONICORN_CMD_ARGS=--config a.py"},
			func(c *Config) any { return [2]any{c.Workers, c.ConfigFile} }, [2]any{3, "a.py"}},
		{"command line -c beats GONICORN_CMD_ARGS -c", []string{"-c", "b.py"}, []string{"GONICORN_CMD_ARGS=-c a.py"},
			func(c *Config) any { return [3]any{c.Workers, c.ConfigFile, c.KeepAlive} }, [3]any{5, "b.py", 2 * time.Second}},
		{"last -c on the command line wins", []string{"-c", "a.py", "-c", "b.py"}, nil,
			func(c *Config) any { return c.Workers }, 5},
		{"every source at once", []string{"-c", "a.py", "--keep-alive", "9"}, []string{"PORT=1", "WEB_CONCURRENCY=2", "GONICORN_CMD_ARGS=--keep-alive 8 --timeout 6"},
			func(c *Config) any { return [4]any{c.Workers, c.Bind[0], c.Timeout, c.KeepAlive} },
			[4]any{3, "127.0.0.1:3001", 6 * time.Second, 9 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFiles(tt.args, tt.environ, files)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tt.want(&c); !reflect.DeepEqual(got, tt.value) {
				t.Errorf("got %#v, want %#v", got, tt.value)
			}
		})
	}
}

func TestCmdArgsQuoting(t *testing.T) {
	c, err := parseFiles(nil, []string{`GONICORN_CMD_ARGS=--access-logformat '%(h)s "%(r)s" %(s)s' -e "GREETING=hello world" -e A=\"b\" --bind=unix:/tmp/with\ space.sock`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `%(h)s "%(r)s" %(s)s`; c.AccessLogFormat != want {
		t.Errorf("AccessLogFormat = %q, want %q", c.AccessLogFormat, want)
	}
	if want := []string{"GREETING=hello world", `A="b"`}; !reflect.DeepEqual(c.Env, want) {
		t.Errorf("Env = %q, want %q", c.Env, want)
	}
	if want := []string{"unix:/tmp/with space.sock"}; !reflect.DeepEqual(c.Bind, want) {
		t.Errorf("Bind = %q, want %q", c.Bind, want)
	}
}

func TestSplitShell(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"blanks separate words", "  -w   4\t-b x ", []string{"-w", "4", "-b", "x"}},
		{"single quotes keep everything", `'a "b" \c'`, []string{`a "b" \c`}},
		{"double quotes keep blanks", `"a b"`, []string{"a b"}},
		{"backslash escapes quote in double quotes", `"a\"b\\c\d"`, []string{`a"b\c\d`}},
		{"backslash outside quotes", `a\ b\'c`, []string{"a b'c"}},
		{"adjacent quoted parts join", `--x='a'"b"c`, []string{"--x=abc"}},
		{"empty quoted word survives", `'' x`, []string{"", "x"}},
		{"nothing", "   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitShell(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitShell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitShell(bad); err == nil {
			t.Errorf("splitShell(%q) succeeded, want error", bad)
		}
	}
}

func FuzzSplitShell(f *testing.F) {
	for _, s := range []string{`-w 4`, `'a b' "c\"d"`, `x\ y`, `"`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitShell(s)
		if err != nil {
			return
		}
		total := 0
		for _, w := range words {
			total += len(w)
		}
		if total > len(s) {
			t.Fatalf("words %q longer than input %q", words, s)
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	f.Add("-w 4 -b 127.0.0.1:0 --timeout 0.5 --reuse-port")
	f.Add("--limit-request-line=0 -m 022 --max-worker-memory 1G -e A=B")
	f.Add("--http-protocols h1,h2c --uwsgi-allow-from 10.0.0.0/8")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseFiles(strings.Fields(line), nil, nil)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but Validate refuses it: %v", line, err)
		}
	})
}
