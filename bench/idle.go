package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn"
)

// Idle connections cost memory, not CPU: the figure is the server's resident memory
// per open keep-alive connection. The server runs in a child process (this binary,
// re-executed with GONICORN_BENCH_ROLE=serve) so that its RSS is its own, and the
// benchmark process opens the connections.

// Servers a serve-role child can run.
const (
	ServerGonicorn = "gonicorn"
	ServerNetHTTP  = "nethttp"
)

// serveSpec is what a serve-role child runs.
type serveSpec struct {
	Server    string        `json:"server"`
	KeepAlive time.Duration `json:"keep_alive"`
	MaxConns  int           `json:"max_conns"`
}

// serveMain is the serve-role child: it serves the demo app until stdin closes.
func serveMain(stdin io.Reader, stdout io.Writer) int {
	fail := func(err error) int {
		send(stdout, childMsg{Error: err.Error()})
		return 1
	}
	in := bufio.NewReader(stdin)
	var spec serveSpec
	if err := readSpec(in, &spec); err != nil {
		return fail(err)
	}
	var start StartFunc
	switch spec.Server {
	case ServerGonicorn:
		cfg := gonicorn.DefaultConfig()
		cfg.KeepAlive = spec.KeepAlive
		cfg.WorkerConnections = spec.MaxConns
		start = Gonicorn(&cfg)
	case ServerNetHTTP:
		start = NetHTTP()
	default:
		return fail(fmt.Errorf("unknown server %q", spec.Server))
	}
	addr, stop, err := start(DemoHandler(), ServerEnv{Workload: KeepAlive})
	if err != nil {
		return fail(err)
	}
	send(stdout, childMsg{Addr: addr})
	io.Copy(io.Discard, in)
	if err := stop(); err != nil {
		return 1
	}
	return 0
}

// IdleResult is what MeasureIdle found.
type IdleResult struct {
	Conns                int
	RSSBefore, RSSAfter  int64 // bytes
	BytesPerConn         float64
	StillOpenSampleCheck int // connections re-used successfully after the measurement
}

// MeasureIdle starts server (ServerGonicorn or ServerNetHTTP) serving the demo app in
// a child process, opens n keep-alive connections that each complete one GET /, and
// returns the growth of the server's resident memory per connection. It raises this
// process's RLIMIT_NOFILE to its hard limit, which must leave room for n sockets.
func MeasureIdle(server string, n int) (*IdleResult, error) {
	if err := raiseNoFile(n + 256); err != nil {
		return nil, err
	}
	srv, err := startChild("serve", serveSpec{Server: server, KeepAlive: 10 * time.Minute, MaxConns: n + 1024})
	if err != nil {
		return nil, err
	}
	defer srv.stop(20 * time.Second)
	m, err := srv.next(30 * time.Second)
	if err != nil {
		return nil, err
	}
	pid := srv.cmd.Process.Pid
	req := []byte("GET / HTTP/1.1\r\nHost: " + m.Addr + "\r\nUser-Agent: " + userAgent + "\r\n\r\n")
	buf := make([]byte, 4096)
	// Warm the server (handler, pool, buffers) on a few connections, then close them.
	for range 8 {
		c, err := net.DialTimeout("tcp", m.Addr, 5*time.Second)
		if err != nil {
			return nil, fmt.Errorf("bench: warm-up connection: %w", err)
		}
		err = oneRequest(c, req, buf)
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: warm-up request: %w", err)
		}
	}
	before, err := settledRSS(pid)
	if err != nil {
		return nil, err
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", m.Addr, 5*time.Second)
		if err != nil {
			return nil, fmt.Errorf("bench: connection %d of %d: %w", i+1, n, err)
		}
		conns = append(conns, c)
		if err := oneRequest(c, req, buf); err != nil {
			return nil, fmt.Errorf("bench: request on connection %d of %d: %w", i+1, n, err)
		}
	}
	after, err := settledRSS(pid)
	if err != nil {
		return nil, err
	}
	r := &IdleResult{Conns: n, RSSBefore: before, RSSAfter: after}
	r.BytesPerConn = float64(after-before) / float64(n)
	// The connections must still be open and working: a server that dropped them
	// would look cheap.
	step := max(n/100, 1)
	for i := 0; i < n; i += step {
		if err := oneRequest(conns[i], req, buf); err != nil {
			return r, fmt.Errorf("bench: idle connection %d no longer served: %w", i, err)
		}
		r.StillOpenSampleCheck++
	}
	return r, nil
}

// oneRequest sends req on c and reads one 200 response with the hello body.
func oneRequest(c net.Conn, req, buf []byte) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(req); err != nil {
		return err
	}
	n := 0
	for {
		if n == len(buf) {
			return fmt.Errorf("response larger than %d bytes", len(buf))
		}
		k, err := c.Read(buf[n:])
		if err != nil {
			return err
		}
		n += k
		r, err := scanResponse(buf[:n], false)
		if err == errIncomplete {
			continue
		}
		if err != nil {
			return err
		}
		if r.untilEOF || r.status != http.StatusOK || string(buf[r.headLen:r.total]) != string(HelloBody) {
			return fmt.Errorf("unexpected response %q", clip(buf[:n]))
		}
		return nil
	}
}

// settledRSS reads pid's resident set size until two readings 200ms apart agree
// within 1%, or for at most 3 seconds.
func settledRSS(pid int) (int64, error) {
	prev, err := rssOf(pid)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond) // sampling interval, not a synchronisation
		cur, err := rssOf(pid)
		if err != nil {
			return 0, err
		}
		if d := cur - prev; d*100 <= cur && -d*100 <= cur {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// rssOf returns VmRSS of pid in bytes.
func rssOf(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("bench: reading RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: no VmRSS for pid %d", pid)
}

// raiseNoFile raises RLIMIT_NOFILE to its hard limit and checks that need fit.
func raiseNoFile(need int) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("bench: getrlimit: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return fmt.Errorf("bench: setrlimit: %w", err)
		}
	}
	if rl.Cur < uint64(need) {
		return fmt.Errorf("bench: RLIMIT_NOFILE is %d, %d connections need %d", rl.Cur, need-256, need)
	}
	return nil
}
