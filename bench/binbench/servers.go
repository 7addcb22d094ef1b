package binbench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// The servers compared. gonicorn is the binary as users start it (master plus one
// worker); the Go peers are bench/peers/cmd/peerserver; uwsgi is uWSGI 2.0 with the
// python3 plugin running a hello-world WSGI app in one process.
const (
	Gonicorn = "gonicorn"
	// GonicornB is a second gonicorn binary (Tools.GonicornB), measured beside the
	// first in every scenario: an A/B comparison of two builds in one run.
	GonicornB  = "gonicorn-b"
	NetHTTP    = "nethttp"
	NetHTTPH2C = "nethttp-h2c"
	FastHTTP   = "fasthttp"
	UWSGI      = "uwsgi"
)

// Modes: what a server speaks and where.
const (
	modeHTTP      = "http"       // HTTP/1.1 (and h2c) on 127.0.0.1:PORT
	modeUWSGITCP  = "uwsgi-tcp"  // the uwsgi protocol on 127.0.0.1:PORT
	modeUWSGIUnix = "uwsgi-unix" // the uwsgi protocol on a unix socket
)

// server is a started server.
type server struct {
	proc *proc
	// upstream is where it listens: 127.0.0.1:PORT or unix:/path (nginx's spelling).
	upstream string
	stopSig  syscall.Signal
}

// helloApp is the WSGI app uWSGI runs: the same answer as the demo app's GET /.
const helloApp = `def application(environ, start_response):
    body = b"Hello, World!"
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
`

// startServer starts name speaking mode, pinned to the server CPU, with its files
// in dir, and waits until it accepts connections.
func (c *Config) startServer(dir, name, mode string) (*server, error) {
	s := &server{stopSig: syscall.SIGTERM}
	network, addr := "tcp", ""
	if mode == modeUWSGIUnix {
		network, addr = "unix", filepath.Join(dir, name+".sock")
		s.upstream = "unix:" + addr
	} else {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		addr, s.upstream = a, a
	}
	var err error
	switch name {
	case Gonicorn, GonicornB:
		bin := c.Tools.Gonicorn
		if name == GonicornB {
			bin = c.Tools.GonicornB
		}
		bind := addr
		switch mode {
		case modeUWSGITCP:
			bind = "uwsgi://" + addr
		case modeUWSGIUnix:
			bind = "uwsgi+unix:" + addr
		}
		// SIGINT: the fast stop; the measured run is over.
		s.stopSig = syscall.SIGINT
		s.proc, err = startProc(name, c.ServerCPU, dir, bin, "-w", "1", "-b", bind, "--log-level", "warning")
	case NetHTTP, NetHTTPH2C, FastHTTP:
		if mode != modeHTTP {
			return nil, fmt.Errorf("%s does not speak %s", name, mode)
		}
		s.proc, err = startProc(name, c.ServerCPU, dir, c.Tools.PeerServer, "-server", name, "-addr", addr)
	case UWSGI:
		if mode == modeHTTP {
			return nil, fmt.Errorf("uwsgi is benchmarked behind nginx uwsgi_pass only")
		}
		app := filepath.Join(dir, "hello_wsgi.py")
		if err := os.WriteFile(app, []byte(helloApp), 0o644); err != nil {
			return nil, err
		}
		// One process, no master; SIGTERM would make uWSGI 2.0 reload: stop with
		// SIGINT (and --die-on-term, should anything else send TERM).
		s.stopSig = syscall.SIGINT
		args := []string{"--plugin", "python3", "--wsgi-file", app, "--need-app", "--socket", addr,
			"--processes", "1", "--disable-logging", "--die-on-term", "--listen", "1024"}
		if mode == modeUWSGIUnix {
			args = append(args, "--chmod-socket=666")
		}
		s.proc, err = startProc(name, c.ServerCPU, dir, c.Tools.UWSGI, args...)
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	if err != nil {
		return nil, err
	}
	if err := waitDial(s.proc, network, addr, 20*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) stop() error { return s.proc.stop(s.stopSig) }

// worker returns the PID of the process that serves requests: gonicorn's one
// worker (the master's child), or the server process itself.
func (s *server) worker(timeout time.Duration) (int, error) {
	if s.proc.name != Gonicorn && s.proc.name != GonicornB {
		return s.proc.pid(), nil
	}
	deadline := time.Now().Add(timeout)
	for {
		if kids := descendants(s.proc.pid()); len(kids) == 1 {
			return kids[0], nil
		} else if time.Now().After(deadline) {
			return 0, fmt.Errorf("gonicorn master %d has %d children, want 1 worker", s.proc.pid(), len(kids))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nginxConfig keeps every file nginx writes inside its directory; it listens on
// 127.0.0.1 only.
var nginxConfig = template.Must(template.New("nginx.conf").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 1;
error_log {{.Dir}}/error.log warn;
pid {{.Dir}}/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/client_body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	upstream app {
		server {{.Upstream}};
		{{if .Proxy}}keepalive 32;{{end}}
	}
	server {
		listen {{.Addr}};
		location / {
{{- if .Proxy}}
			proxy_pass http://app;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
{{- else}}
			include {{.UWSGIParams}};
			uwsgi_pass app;
{{- end}}
		}
	}
}
`))

// startNginx starts nginx (one worker, pinned to the load CPU) in front of upstream:
// uwsgi_pass, or proxy_pass with upstream keepalive when proxy is set. It returns
// the process and its 127.0.0.1:PORT.
func (c *Config) startNginx(dir, upstream string, proxy bool) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	ndir := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(ndir, 0o755); err != nil {
		return nil, "", err
	}
	var conf bytes.Buffer
	err = nginxConfig.Execute(&conf, map[string]any{
		// As root, nginx's workers run as nobody unless told otherwise, and nobody
		// cannot reach a unix socket in the harness's temp directory.
		"Root": os.Geteuid() == 0, "Dir": ndir, "Addr": addr, "Upstream": upstream,
		"Proxy": proxy, "UWSGIParams": c.Tools.UWSGIParams,
	})
	if err != nil {
		return nil, "", fmt.Errorf("nginx config: %w", err)
	}
	confPath := filepath.Join(ndir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return nil, "", err
	}
	p, err := startProc("nginx", c.LoadCPU, ndir, c.Tools.Nginx, "-p", ndir, "-c", confPath,
		"-e", filepath.Join(ndir, "error.log"), "-g", "daemon off;")
	if err != nil {
		return nil, "", err
	}
	if err := waitDial(p, "tcp", addr, 15*time.Second); err != nil {
		p.stop(syscall.SIGTERM)
		return nil, "", fmt.Errorf("%w\nnginx error.log: %s", err, nginxErrors(ndir))
	}
	return p, addr, nil
}

// nginxErrors returns the tail of nginx's error log in dir.
func nginxErrors(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
