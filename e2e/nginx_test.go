package e2e

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/gonicorn/gonicorn/internal/testutil"
)

// nginx is a running nginx, started by startNginx for one test.
type nginx struct {
	dir  string // prefix directory: config, pid, logs and temp files
	addr string // 127.0.0.1:PORT it listens on
	proc *testutil.Proc
}

// URL returns the http URL of path on this nginx.
func (n *nginx) URL(path string) string { return "http://" + n.addr + path }

// ErrorLog returns what nginx wrote to its error log so far.
func (n *nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return string(b)
}

// nginxConfig is the template of every test's nginx.conf. The "http" part is given by
// the test (upstreams and locations); the rest keeps every file nginx writes inside
// the test's directory.
var nginxConfig = template.Must(template.New("nginx.conf").Parse(`
{{if .Root}}user root;{{end}}
worker_processes 1;
error_log {{.Dir}}/error.log info;
pid {{.Dir}}/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path {{.Dir}}/client_body;
	proxy_temp_path {{.Dir}}/proxy;
	fastcgi_temp_path {{.Dir}}/fastcgi;
	uwsgi_temp_path {{.Dir}}/uwsgi;
	scgi_temp_path {{.Dir}}/scgi;
	client_max_body_size 64m;
	{{.HTTP}}
	server {
		listen {{.Addr}};
		{{.Server}}
	}
}
`))

// nginxSite is what a test puts into the generated config.
type nginxSite struct {
	HTTP   string // directives at http level: upstream and map blocks
	Server string // directives inside the server block: locations
}

// startNginx starts nginx in the foreground with site's config on a free loopback
// port, waits until it accepts connections, and stops it when the test ends.
func startNginx(t testing.TB, site nginxSite) *nginx {
	t.Helper()
	bin := testutil.RequireTool(t, "nginx")
	n := &nginx{dir: t.TempDir(), addr: testutil.FreeAddr(t)}
	var conf bytes.Buffer
	err := nginxConfig.Execute(&conf, map[string]any{
		// As root, workers run as nobody unless told otherwise, and nobody cannot
		// reach a unix socket in a test's temp directory.
		"Root": os.Geteuid() == 0,
		"Dir":  n.dir, "Addr": n.addr, "HTTP": site.HTTP, "Server": site.Server,
	})
	if err != nil {
		t.Fatalf("nginx config: %v", err)
	}
	confPath := filepath.Join(n.dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		t.Fatalf("nginx config: %v", err)
	}
	// -e keeps even the errors from before the config is read out of /var/log.
	n.proc = testutil.Start(t, bin, "-p", n.dir, "-c", confPath, "-e", filepath.Join(n.dir, "error.log"),
		"-g", "daemon off;")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx.conf:\n%s\nnginx error.log:\n%s", conf.String(), tailString(n.ErrorLog(), 8000))
		}
		// Fast shutdown; testutil's own cleanup kills the process group if this
		// takes too long.
		if !n.proc.Exited() {
			_ = n.proc.Signal(syscall.SIGTERM)
			_, _ = n.proc.Wait(5 * time.Second)
		}
	})
	testutil.WaitDial(t, n.proc, "tcp", n.addr, 15*time.Second)
	return n
}

// uwsgiLocation is the location block passing everything to a uwsgi upstream, with the
// stock uwsgi_params as Debian ships them.
func uwsgiLocation(upstream string) string {
	return `
	location / {
		include /etc/nginx/uwsgi_params;
		uwsgi_pass ` + upstream + `;
		uwsgi_read_timeout 15s;
	}`
}

// waitUnixSocket waits until path accepts connections or the process exits.
func waitUnixSocket(t testing.TB, p *testutil.Proc, path string) {
	t.Helper()
	testutil.WaitDial(t, p, "unix", path, 20*time.Second)
}

// freePort returns the port part of a host:port address.
func freePort(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	return port
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimRight(s, "\n")
}
