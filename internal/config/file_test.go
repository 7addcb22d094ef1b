package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRealisticConfigFile(t *testing.T) {
	c, err := Parse([]string{"-c", "testdata/gunicorn.conf.py"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.ConfigFile = "testdata/gunicorn.conf.py"
	want.Bind = []string{"0.0.0.0:8000", "unix:/run/app/app.sock"}
	want.Backlog = 1024
	want.Workers = 4
	want.Threads = 64
	want.WorkerConnections = 1000
	want.Timeout = 120 * time.Second
	want.GracefulTimeout = 30500 * time.Millisecond
	want.KeepAlive = 5 * time.Second
	want.MaxRequests = 1000
	want.MaxRequestsJitter = 50
	want.MaxWorkerMemory = 512 << 20
	want.LimitRequestLine = 8190
	want.LimitRequestFields = 200
	want.LimitRequestFieldSize = 16384
	want.HTTPProtocols = []string{"h1", "h2c"}
	want.HTTP2MaxFrameSize = 0x8000
	want.ForwardedAllowIPs = []string{"10.0.0.0/8", "127.0.0.1"}
	want.UWSGIAllowFrom = []string{"127.0.0.1"}
	want.AccessLogFile = "-"
	want.AccessLogFormat = DefaultAccessLogFormat + " %(L)s"
	want.ErrorLogFile = "/var/log/app/error.log"
	want.LogLevel = "warning"
	want.PidFile = "/run/app/app.pid"
	want.User = "www-data"
	want.Umask = 0o27
	want.ReusePort = true
	want.Env = []string{"DJANGO_SETTINGS_MODULE=app.settings", "MODE=prod"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("config file read as\n%+v\nwant\n%+v", c, want)
	}
}

func TestConfigFileForms(t *testing.T) {
	tests := []struct {
		name string
		file string
		get  func(c *Config) any
		want any
	}{
		{"integer", "workers = 3", func(c *Config) any { return c.Workers }, 3},
		{"integer with underscores", "worker_connections = 10_000", func(c *Config) any { return c.WorkerConnections }, 10000},
		{"hex integer", "backlog = 0x40", func(c *Config) any { return c.Backlog }, 64},
		{"binary integer", "backlog = 0b1000", func(c *Config) any { return c.Backlog }, 8},
		{"octal umask", "umask = 0o22", func(c *Config) any { return c.Umask }, 0o22},
		{"umask as a string", "umask = '022'", func(c *Config) any { return c.Umask }, 0o22},
		{"float seconds", "timeout = 0.25", func(c *Config) any { return c.Timeout }, 250 * time.Millisecond},
		{"float without fraction digits", "timeout = 3.", func(c *Config) any { return c.Timeout }, 3 * time.Second},
		{"duration string", "timeout = '1m'", func(c *Config) any { return c.Timeout }, time.Minute},
		{"integer seconds in parentheses", "timeout = (4)", func(c *Config) any { return c.Timeout }, 4 * time.Second},
		{"single-quoted string", "chdir = '/srv'", func(c *Config) any { return c.Chdir }, "/srv"},
		{"double-quoted string", `chdir = "/srv"`, func(c *Config) any { return c.Chdir }, "/srv"},
		{"escapes", `chdir = "/a\tb\\c\x41\u00e9\101\'"`, func(c *Config) any { return c.Chdir }, "/a\tb\\cAé" + "A'"},
		{"unknown escape kept", `chdir = "\d"`, func(c *Config) any { return c.Chdir }, `\d`},
		{"raw string", `chdir = r'C:\new'`, func(c *Config) any { return c.Chdir }, `C:\new`},
		{"u prefix", `chdir = u'x'`, func(c *Config) any { return c.Chdir }, "x"},
		{"triple-quoted string", "access_log_format = '''%(h)s \"%(r)s\"'''", func(c *Config) any { return c.AccessLogFormat }, `%(h)s "%(r)s"`},
		{"hash inside a string", `chdir = "/a#b"  # comment`, func(c *Config) any { return c.Chdir }, "/a#b"},
		{"True", "reuse_port = True", func(c *Config) any { return c.ReusePort }, true},
		{"False", "reuse_port = False", func(c *Config) any { return c.ReusePort }, false},
		{"None for an optional string", "pidfile = 'x'\npidfile = None", func(c *Config) any { return c.PidFile }, ""},
		{"None empties a list", "raw_env = None", func(c *Config) any { return len(c.Env) }, 0},
		{"list", "bind = ['127.0.0.1:1', '127.0.0.1:2']", func(c *Config) any { return c.Bind }, []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{"tuple", "bind = ('127.0.0.1:1',)", func(c *Config) any { return c.Bind }, []string{"127.0.0.1:1"}},
		{"string for a list", "bind = '127.0.0.1:3'", func(c *Config) any { return c.Bind }, []string{"127.0.0.1:3"}},
		{"multi-line list with comments and trailing comma",
			"bind = [\n  '127.0.0.1:1',  # one\n\n  # two:\n  '127.0.0.1:2',\n]\nworkers = 2",
			func(c *Config) any { return [2]any{c.Bind, c.Workers} }, [2]any{[]string{"127.0.0.1:1", "127.0.0.1:2"}, 2}},
		{"later assignment replaces a list", "bind = ['127.0.0.1:1']\nbind = ['127.0.0.1:2']", func(c *Config) any { return c.Bind }, []string{"127.0.0.1:2"}},
		{"backslash line continuation", "workers = \\\n  7", func(c *Config) any { return c.Workers }, 7},
		{"keep_alive alias", "keep_alive = 9", func(c *Config) any { return c.KeepAlive }, 9 * time.Second},
		{"access_logfile alias", "access_logfile = '-'", func(c *Config) any { return c.AccessLogFile }, "-"},
		{"error_logfile alias", "error_logfile = 'e.log'", func(c *Config) any { return c.ErrorLogFile }, "e.log"},
		{"log_level alias", "log_level = 'debug'", func(c *Config) any { return c.LogLevel }, "debug"},
		{"flag name with underscores", "limit_request_field_size = 100", func(c *Config) any { return c.LimitRequestFieldSize }, 100},
		{"config is ignored inside the file", "config = 'other.py'\nworkers = 2", func(c *Config) any { return c.Workers }, 2},
		{"no final newline", "workers = 6", func(c *Config) any { return c.Workers }, 6},
		{"CRLF line ends", "workers = 6\r\ntimeout = 1\r\n", func(c *Config) any { return c.Workers }, 6},
		{"blank indented comment lines", "workers = 2\n    # indented comment\n\t\nthreads = 3", func(c *Config) any { return c.Threads }, 3},
		{"bool accepts a string", "reuse_port = 'yes'", func(c *Config) any { return c.ReusePort }, true},
		{"negative number reaches the setting", "max_requests = -0", func(c *Config) any { return c.MaxRequests }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFiles([]string{"-c", "g.py"}, nil, map[string]string{"g.py": tt.file})
			if err != nil {
				t.Fatalf("file %q: %v", tt.file, err)
			}
			if got := tt.get(&c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("file %q gave %#v, want %#v", tt.file, got, tt.want)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"import", "import multiprocessing\nworkers = 2", "g.py:1: only `name = value` lines"},
		{"from import", "workers = 2\nfrom os import environ", "g.py:2:"},
		{"expression", "workers = multiprocessing.cpu_count() * 2 + 1", "g.py:1: multiprocessing: names and expressions are not supported"},
		{"arithmetic", "workers = 2 * 4", "g.py:1: workers: unsupported expression after 2"},
		{"def", "def on_starting(server):\n    pass", "g.py:1:"},
		{"indented statement", "workers = 2\n  threads = 3", "g.py:2: unexpected indentation"},
		{"unknown setting", "worker_class = 'gthread'", `g.py:1: unknown setting worker_class`},
		{"uppercase name is unknown", "WORKERS = 2", "unknown setting WORKERS"},
		{"comparison", "workers == 2", "g.py:1:"},
		{"augmented assignment", "workers += 2", "g.py:1:"},
		{"missing value", "workers =\nthreads = 2", "g.py:1: missing value"},
		{"unterminated string", "chdir = 'abc\nworkers = 1", "g.py:1: unterminated string"},
		{"unterminated triple string", "chdir = '''abc\n", "g.py:1: unterminated string"},
		{"f-string", "chdir = f'{x}'", "f-strings are not supported"},
		{"bytes", "chdir = b'x'", "bytes literals are not supported"},
		{"leading zero integer", "umask = 022", "leading zeros; write 0o22"},
		{"bad number", "workers = 4x", `bad number "4x"`},
		{"list for a scalar", "workers = [1, 2]", "g.py:1: workers: invalid value [1, 2]: must be a single value, not a list"},
		{"bool for a number", "workers = True", "workers: invalid value True: not a true/false setting"},
		{"None for a number", "timeout = None", "timeout: invalid value None"},
		{"nested list", "bind = [['a']]", "g.py:1: unsupported syntax"},
		{"list of bools", "bind = [True]", "list items must be strings"},
		{"unclosed list", "bind = ['a',\n", "g.py:"},
		{"missing comma in list", "bind = ['a' 'b']", "expected , or ]"},
		{"bad value reaches the setting", "workers = 0", `g.py:1: workers: invalid value 0: must be a positive integer`},
		{"bad list item reaches the setting", "bind = ['127.0.0.1:x']", `g.py:1: bind: invalid value ['127.0.0.1:x']: "x" is not a valid port number`},
		{"semicolon", "workers = 2; threads = 3", "g.py:1:"},
		{"bad escape", `chdir = "\xZZ"`, `bad \x escape`},
		{"not UTF-8", "chdir = '\xff'", "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles([]string{"-c", "g.py"}, nil, map[string]string{"g.py": tt.file})
			if err == nil {
				t.Fatalf("file %q accepted, want error containing %q", tt.file, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("file %q: error\n  %q\nwant it to contain\n  %q", tt.file, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "gonicorn: g.py") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	data, err := os.ReadFile("testdata/gunicorn.conf.py")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("bind = ['a',\n 'b'] # x\nworkers = 0x10\n")
	f.Add("chdir = r'''a\\'''\n")
	f.Add("timeout = -1.5e3\n")
	f.Fuzz(func(t *testing.T, file string) {
		as, err := parseFile("f.py", []byte(file))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gonicorn: f.py") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, a := range as {
			if a.s == nil || a.where == "" {
				t.Fatalf("assignment without setting or place: %+v", a)
			}
		}
	})
}
