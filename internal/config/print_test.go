package config

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPrintConfigGolden(t *testing.T) {
	c, err := Parse([]string{"-c", "testdata/gunicorn.conf.py", "--print-config", "-t", "0.5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := c.Print(&b); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/print-config.golden"
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("Print output differs from %s (run with -update to accept):\n%s", golden, b.String())
	}
}

func TestPrintIsSortedAndAligned(t *testing.T) {
	c := Default()
	var b bytes.Buffer
	if err := c.Print(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	eq := strings.Index(lines[0], " = ")
	prev := ""
	for _, l := range lines {
		name := strings.TrimSpace(l[:eq])
		if strings.Index(l, " = ") != eq {
			t.Errorf("line %q: '=' not aligned", l)
		}
		if name <= prev {
			t.Errorf("%q is not after %q", name, prev)
		}
		prev = name
	}
	for _, want := range []string{"workers", "bind", "keepalive", "accesslog", "errorlog", "loglevel", "pidfile", "raw_env"} {
		if !strings.Contains(b.String(), "\n"+want+" ") && !strings.HasPrefix(b.String(), want+" ") {
			t.Errorf("no %s line in\n%s", want, b.String())
		}
	}
}

// TestPrintRoundTrips pins that --print-config output is a config file that gives
// the same configuration back.
func TestPrintRoundTrips(t *testing.T) {
	c := Default()
	c.Bind = []string{"127.0.0.1:1", `unix:/tmp/it's "quoted"\.sock`}
	c.Timeout = 1500 * time.Millisecond
	c.GracefulTimeout = time.Nanosecond
	c.KeepAlive = 0
	c.Umask = 0o27
	c.MaxWorkerMemory = 3 << 29
	c.AccessLogFormat = "%(h)s\t'%(r)s' é"
	c.Env = []string{"A=line1\nline2", "B=\x01"}
	c.ReusePort = true
	c.PidFile = "/run/g.pid"
	c.Chdir = "/srv/ü"
	var b bytes.Buffer
	if err := c.Print(&b); err != nil {
		t.Fatal(err)
	}
	back, err := parseFiles([]string{"-c", "printed.py"}, nil, map[string]string{"printed.py": b.String()})
	if err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, b.String())
	}
	back.ConfigFile = c.ConfigFile
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the config:\n got %+v\nwant %+v\nprinted:\n%s", back, c, b.String())
	}
}

func TestUsageListsEveryFlagWithDefault(t *testing.T) {
	var b bytes.Buffer
	Usage(&b)
	text := b.String()
	for _, s := range settings {
		if !strings.Contains(text, "--"+s.flag) {
			t.Errorf("usage does not list --%s", s.flag)
		}
		if s.short != 0 && !strings.Contains(text, "-"+string(s.short)+", --"+s.flag) {
			t.Errorf("usage does not list -%c with --%s", s.short, s.flag)
		}
	}
	for _, want := range []string{"(default: 2048)", "(default: 30)", "(default: $WEB_CONCURRENCY or 1)", "(default: info)", "GONICORN_CMD_ARGS"} {
		if !strings.Contains(text, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if n := strings.Count(text, "(default:"); n < len(settings)-2 {
		t.Errorf("usage shows %d defaults for %d settings", n, len(settings)-2)
	}
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 100 {
			t.Errorf("usage line longer than 100 columns: %q", line)
		}
	}
}

func TestVersion(t *testing.T) {
	if Version != "0.1.0" {
		t.Errorf("Version = %q", Version)
	}
}
