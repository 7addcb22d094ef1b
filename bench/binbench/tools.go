package binbench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// FindTools locates the programs the harness needs: gonicorn and peerserver at the
// given paths (and a second gonicorn build when $GONICORN_BIN_B names one), the rest on $PATH (and /usr/sbin for nginx). A missing one is an
// error naming the Debian package that has it (`make deps` installs them all).
func FindTools(gonicorn, peer string) (*Tools, error) {
	t := &Tools{UWSGIParams: "/etc/nginx/uwsgi_params"}
	var missing []string
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	for _, f := range []struct {
		dst  *string
		path string
		hint string
	}{{&t.Gonicorn, gonicorn, "make build"}, {&t.PeerServer, peer, "cd bench/peers && go build -o ../../bin/peerserver ./cmd/peerserver"}} {
		if st, err := os.Stat(f.path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, fmt.Sprintf("%s (%s)", f.path, f.hint))
			continue
		}
		*f.dst = abs(f.path)
	}
	if b := os.Getenv("GONICORN_BIN_B"); b != "" {
		if st, err := os.Stat(b); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, "$GONICORN_BIN_B "+b)
		} else {
			t.GonicornB = abs(b)
		}
	}
	for _, f := range []struct {
		dst      *string
		name, pk string
	}{
		{&t.Nginx, "nginx", "nginx"}, {&t.UWSGI, "uwsgi", "uwsgi-core"}, {&t.Wrk, "wrk", "wrk"},
		{&t.H2load, "h2load", "nghttp2-client"}, {&t.Strace, "strace", "strace"}, {new(string), "taskset", "util-linux"},
	} {
		p, err := exec.LookPath(f.name)
		if err != nil {
			if _, e := os.Stat("/usr/sbin/" + f.name); e == nil {
				p, err = "/usr/sbin/"+f.name, nil
			}
		}
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", f.name, f.pk))
			continue
		}
		*f.dst = p
	}
	if _, err := os.Stat("/usr/lib/uwsgi/plugins/python3_plugin.so"); err != nil {
		missing = append(missing, "uWSGI's python3 plugin (apt-get install uwsgi-plugin-python3)")
	}
	if _, err := os.Stat(t.UWSGIParams); err != nil {
		missing = append(missing, t.UWSGIParams+" (apt-get install nginx)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing: %s", strings.Join(missing, "; "))
	}
	return t, nil
}

// stopped is set by Stop: no further run starts.
var stopped atomic.Bool

// Stop makes Run return after the run in progress (its processes stopped as usual).
func (c *Config) Stop() { stopped.Store(true) }
