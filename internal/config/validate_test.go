package config

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"no bind", func(c *Config) { c.Bind = nil }, "gonicorn: --bind: at least one address is needed"},
		{"bad bind", func(c *Config) { c.Bind = []string{"unix:"} }, `gonicorn: --bind: invalid value "unix:": unix: needs a socket path`},
		{"unix path too long", func(c *Config) { c.Bind = []string{"unix:/" + strings.Repeat("a", 200)} }, "longer than the 107"},
		{"duplicate bind", func(c *Config) { c.Bind = []string{"127.0.0.1", "127.0.0.1:8000"} }, "are the same"},
		{"zero backlog", func(c *Config) { c.Backlog = 0 }, `gonicorn: --backlog: invalid value "0": must be a positive integer`},
		{"zero workers", func(c *Config) { c.Workers = 0 }, `gonicorn: --workers: invalid value "0": must be a positive integer`},
		{"zero threads", func(c *Config) { c.Threads = 0 }, `--threads: invalid value "0"`},
		{"zero worker connections", func(c *Config) { c.WorkerConnections = 0 }, "--worker-connections"},
		{"negative event loops", func(c *Config) { c.EventLoops = -1 }, `--event-loops: invalid value "-1": must be an integer from 0 to 4096`},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "--timeout: invalid value"},
		{"negative graceful timeout", func(c *Config) { c.GracefulTimeout = -1 }, "--graceful-timeout"},
		{"negative keep-alive", func(c *Config) { c.KeepAlive = -1 }, "--keep-alive"},
		{"zero header timeout", func(c *Config) { c.HeaderTimeout = 0 }, "--header-timeout: invalid value \"0\": must be greater than 0"},
		{"zero body timeout", func(c *Config) { c.BodyTimeout = 0 }, "--body-timeout"},
		{"zero write timeout", func(c *Config) { c.WriteTimeout = 0 }, "--write-timeout"},
		{"negative max requests", func(c *Config) { c.MaxRequests = -1 }, "--max-requests:"},
		{"negative jitter", func(c *Config) { c.MaxRequestsJitter = -1 }, "--max-requests-jitter"},
		{"negative memory", func(c *Config) { c.MaxWorkerMemory = -1 }, "--max-worker-memory"},
		{"request line above 8190", func(c *Config) { c.LimitRequestLine = 8191 }, `--limit-request-line: invalid value "8191": must be an integer from 0 to 8190`},
		{"negative request line", func(c *Config) { c.LimitRequestLine = -1 }, "--limit-request-line"},
		{"request fields above 32768", func(c *Config) { c.LimitRequestFields = 40000 }, `--limit-request-fields: invalid value "40000": must be an integer from 1 to 32768`},
		{"zero request fields", func(c *Config) { c.LimitRequestFields = 0 }, "--limit-request-fields"},
		{"negative field size", func(c *Config) { c.LimitRequestFieldSize = -1 }, "--limit-request-field_size"},
		{"zero body buffer", func(c *Config) { c.BodyBufferSize = 0 }, "--body-buffer-size"},
		{"huge body buffer", func(c *Config) { c.BodyBufferSize = 2 << 30 }, "--body-buffer-size"},
		{"bad protocol", func(c *Config) { c.Protocol = "HTTP" }, `--protocol: invalid value "HTTP": must be one of http, uwsgi`},
		{"no http protocols", func(c *Config) { c.HTTPProtocols = nil }, "--http-protocols: at least one"},
		{"bad http protocol", func(c *Config) { c.HTTPProtocols = []string{"h1", "spdy"} }, `--http-protocols: invalid value "spdy"`},
		{"zero concurrent streams", func(c *Config) { c.HTTP2MaxConcurrentStreams = 0 }, "--http2-max-concurrent-streams"},
		{"window above 2^31-1", func(c *Config) { c.HTTP2InitialWindowSize = 1 << 31 }, "--http2-initial-window-size"},
		{"frame size below minimum", func(c *Config) { c.HTTP2MaxFrameSize = 1024 }, "--http2-max-frame-size"},
		{"frame size above maximum", func(c *Config) { c.HTTP2MaxFrameSize = 1 << 24 }, "--http2-max-frame-size"},
		{"zero header list size", func(c *Config) { c.HTTP2MaxHeaderListSize = 0 }, "--http2-max-header-list-size"},
		{"bad uwsgi allow entry", func(c *Config) { c.UWSGIAllowFrom = []string{"nginx"} }, `--uwsgi-allow-from: invalid value "nginx"`},
		{"bad forwarded entry", func(c *Config) { c.ForwardedAllowIPs = []string{"1.2.3.4/99"} }, "--forwarded-allow-ips"},
		{"bad access format", func(c *Config) { c.AccessLogFormat = "%(x)s" }, "--access-logformat"},
		{"empty error log", func(c *Config) { c.ErrorLogFile = "" }, "--error-logfile"},
		{"bad log level", func(c *Config) { c.LogLevel = "fatal" }, "--log-level"},
		{"umask too large", func(c *Config) { c.Umask = 0o1000 }, `--umask: invalid value "0o1000"`},
		{"negative umask", func(c *Config) { c.Umask = -1 }, "--umask"},
		{"bad env", func(c *Config) { c.Env = []string{"=x"} }, `--env: invalid value "=x": must be KEY=VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted it, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate error\n  %q\nwant one line containing\n  %q", err, tt.want)
			}
		})
	}
}

func TestValidateAcceptsBoundaries(t *testing.T) {
	c := Default()
	c.Timeout, c.GracefulTimeout, c.KeepAlive = 0, 0, 0
	c.LimitRequestLine, c.LimitRequestFields, c.LimitRequestFieldSize = 8190, 32768, 0
	c.HTTP2InitialWindowSize, c.HTTP2MaxFrameSize = 1<<31-1, 1<<24-1
	c.Umask = 0o777
	c.EventLoops = 4096
	c.UWSGIAllowFrom, c.ForwardedAllowIPs = nil, []string{"*"}
	c.HTTPProtocols = []string{"h2c"}
	c.Bind = []string{"127.0.0.1:0", "[::1]:0", "unix:/tmp/x.sock", "fd://3", "uwsgi+unix:/tmp/y.sock", "uwsgi://127.0.0.1:9"}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate refused boundary values: %v", err)
	}
}

func TestSplitBind(t *testing.T) {
	tests := []struct {
		spec, network, address, proto string
	}{
		{"127.0.0.1:8000", "tcp", "127.0.0.1:8000", "http"},
		{"127.0.0.1", "tcp", "127.0.0.1:8000", "http"},
		{"localhost:9", "tcp", "localhost:9", "http"},
		{"LOCALHOST:9", "tcp", "localhost:9", "http"},
		{":8080", "tcp", ":8080", "http"},
		{"0.0.0.0:0", "tcp", "0.0.0.0:0", "http"},
		{"[::1]:8000", "tcp", "[::1]:8000", "http"},
		{"[::1]", "tcp", "[::1]:8000", "http"},
		{"::1", "tcp", "[::1]:8000", "http"},
		{"[fe80::1%eth0]:80", "tcp", "[fe80::1%eth0]:80", "http"},
		{"tcp://127.0.0.1:81", "tcp", "127.0.0.1:81", "http"},
		{"unix:/tmp/a.sock", "unix", "/tmp/a.sock", "http"},
		{"unix:///tmp/a.sock", "unix", "/tmp/a.sock", "http"},
		{"unix:relative.sock", "unix", "relative.sock", "http"},
		{"unix:@abstract", "unix", "@abstract", "http"},
		{"fd://3", "fd", "3", "http"},
		{"uwsgi://127.0.0.1:3031", "tcp", "127.0.0.1:3031", "uwsgi"},
		{"uwsgi://[::1]:3031", "tcp", "[::1]:3031", "uwsgi"},
		{"uwsgi+unix:/tmp/u.sock", "unix", "/tmp/u.sock", "uwsgi"},
		{"uwsgi+unix:///tmp/u.sock", "unix", "/tmp/u.sock", "uwsgi"},
		{"uwsgi+fd://4", "fd", "4", "uwsgi"},
		{"uwsgi+tcp://127.0.0.1:5", "tcp", "127.0.0.1:5", "uwsgi"},
		{"http://127.0.0.1:5", "tcp", "127.0.0.1:5", "http"},
		{"http+unix:/tmp/h.sock", "unix", "/tmp/h.sock", "http"},
		{" 127.0.0.1:1 ", "tcp", "127.0.0.1:1", "http"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			network, address, proto, err := SplitBind(tt.spec, "http")
			if err != nil {
				t.Fatal(err)
			}
			if network != tt.network || address != tt.address || proto != tt.proto {
				t.Errorf("SplitBind(%q) = %q %q %q, want %q %q %q", tt.spec, network, address, proto, tt.network, tt.address, tt.proto)
			}
		})
	}
	t.Run("plain binds take the default protocol", func(t *testing.T) {
		if _, _, proto, _ := SplitBind("unix:/x", "uwsgi"); proto != "uwsgi" {
			t.Errorf("proto = %q, want uwsgi", proto)
		}
		if _, _, proto, _ := SplitBind("http://127.0.0.1:1", "uwsgi"); proto != "http" {
			t.Errorf("explicit http:// gave %q", proto)
		}
	})
	for _, bad := range []string{"", "unix:", "fd://", "fd://-1", "fd://x", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:+1",
		"127.0.0.1:65536", "[::1", "[::1]x", "[127.0.0.1]:80", "1::2::3", "host name:80", "uwsgi+ftp://x", "a/b:80", "unix:/a\x00b"} {
		if _, _, _, err := SplitBind(bad, "http"); err == nil {
			t.Errorf("SplitBind(%q) succeeded, want error", bad)
		}
	}
}

func FuzzSplitBind(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8000", "[::1]:1", "unix:/a", "fd://3", "uwsgi+unix:/x", "uwsgi://h:1", "::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		network, address, proto, err := SplitBind(spec, "http")
		if err != nil {
			return
		}
		if proto != "http" && proto != "uwsgi" {
			t.Fatalf("proto %q", proto)
		}
		if network == "tcp" {
			// What SplitBind returns for TCP must be what net.Listen takes.
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				t.Fatalf("SplitBind(%q) -> %q: %v", spec, address, err)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				t.Fatalf("SplitBind(%q) -> port %q", spec, port)
			}
		}
	})
}
