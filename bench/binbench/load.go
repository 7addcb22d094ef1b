package binbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gonicorn/gonicorn/bench/internal/tools"
)

// WantBody is the answer every server gives to GET /: the demo app's, and the
// WSGI app's written for uWSGI.
const WantBody = "Hello, World!"

// Load is the traffic of a scenario.
type Load struct {
	// Tool is "wrk" (HTTP/1.1) or "h2load" (h2c by prior knowledge).
	Tool string
	// Conns is the number of connections.
	Conns int
	// Depth is the pipeline depth (wrk) or the concurrent streams per connection
	// (h2load); 0 or 1 for one at a time.
	Depth int
	// Close sends Connection: close: a new connection per request.
	Close bool
}

// describe is the load in words, for the report.
func (l Load) describe() string {
	switch {
	case l.Tool == "h2load":
		return fmt.Sprintf("h2load -t1 -c%d -m%d", l.Conns, l.Depth)
	case l.Depth > 1:
		return fmt.Sprintf("wrk -t1 -c%d, %d requests pipelined per write", l.Conns, l.Depth)
	case l.Close:
		return fmt.Sprintf("wrk -t1 -c%d -H 'Connection: close'", l.Conns)
	}
	return fmt.Sprintf("wrk -t1 -c%d", l.Conns)
}

// checkLua has wrk print its own counts at the end: requests, bytes read and
// responses with a status outside 2xx/3xx. With a depth above 1 it also sends
// that many requests per write and waits for all of them, as wrk's
// examples/pipeline.lua does. It has no response() callback: with one, wrk
// hands every response's headers and body to Lua, about 1 µs of the load core
// per response, which capped what a fast server could be measured at (the
// load core is nearly full at 100k requests/s). Responses are checked instead
// by size (checkSizes: every response the same length as a probe's, whose
// status and body were checked) and by wrk's own status count.
const checkLua = `-- written by gonicorn's bench/binbench: wrk's counts, checked by binbench
function init(args)
   local depth = tonumber(args[1]) or 1
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
   end
   pipelined = table.concat(r)
end
{{REQUEST}}
function done(summary, latency, requests)
   io.write(string.format("binbench-check requests=%d bytes=%d status_errors=%d\n",
      summary.requests, summary.bytes, summary.errors.status))
end
`

// toolResult is what one run of wrk or h2load measured.
type toolResult struct {
	requests int64
	elapsed  time.Duration
	p50, p99 time.Duration // wrk only; 0 when unknown
	cpu      time.Duration // the tool's own CPU time
	output   string
}

// runLoad runs l against url for d (whole seconds, at least 1), pinned to the load
// CPU, and fails on any error, unexpected status or wrong body.
func (c *Config) runLoad(dir, url string, l Load, d time.Duration) (*toolResult, error) {
	secs := strconv.Itoa(max(int(d.Round(time.Second)/time.Second), 1))
	var bin string
	var args []string
	var probe wireSize // one response's bytes on the wire (wrk)
	switch l.Tool {
	case "wrk":
		var err error
		if probe, err = probeResponse(url, l.Close); err != nil {
			return nil, err
		}
		depth := max(l.Depth, 1)
		script := filepath.Join(dir, "check.lua")
		req := ""
		if depth > 1 {
			req = "\nfunction request()\n   return pipelined\nend\n"
		}
		if err := os.WriteFile(script, []byte(strings.Replace(checkLua, "{{REQUEST}}", req, 1)), 0o644); err != nil {
			return nil, err
		}
		bin = c.Tools.Wrk
		args = []string{"-t1", "-c" + strconv.Itoa(l.Conns), "-d" + secs + "s", "--latency", "--timeout", "5s", "-s", script}
		if l.Close {
			args = append(args, "-H", "Connection: close")
		}
		args = append(args, url, "--", strconv.Itoa(depth))
	case "h2load":
		bin = c.Tools.H2load
		args = []string{"-t1", "-c" + strconv.Itoa(l.Conns), "-m" + strconv.Itoa(max(l.Depth, 1)), "-D", secs, url}
	default:
		return nil, fmt.Errorf("unknown load tool %q", l.Tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+60*time.Second)
	defer cancel()
	if c.LoadCPU >= 0 {
		args = append([]string{"-c", strconv.Itoa(c.LoadCPU), bin}, args...)
		bin = "taskset"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", l.Tool, err, clip(text, 3000))
	}
	var r *toolResult
	if l.Tool == "wrk" {
		r, err = parseWrk(text, probe, int64(l.Conns*max(l.Depth, 1)))
		if err == nil {
			// The server still answers right after the load.
			_, err = probeResponse(url, l.Close)
		}
	} else {
		r, err = parseH2load(text, int64(len(WantBody)))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", l.Tool, err, clip(text, 3000))
	}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = ps.UserTime() + ps.SystemTime()
	}
	r.output = text
	return r, nil
}

var wrkCheck = regexp.MustCompile(`binbench-check requests=(\d+) bytes=(\d+) status_errors=(\d+)`)

// wireSize is the length of a run's responses on the wire: the probe's, or up to
// shrink bytes less for the last response of a connection the server (nginx at
// its keepalive_requests) ends with "Connection: close" instead of "keep-alive".
type wireSize struct{ size, shrink int64 }

// parseWrk reads wrk --latency output with checkLua's line. Socket errors and
// non-2xx responses are errors, and so is any response of another length than
// the probe's: the bytes read must be those of the completed responses, plus at
// most inflight responses cut by the end of the run.
func parseWrk(out string, ws wireSize, inflight int64) (*toolResult, error) {
	o, err := tools.ParseWrk(out)
	if err != nil {
		return nil, err
	}
	ck := wrkCheck.FindStringSubmatch(out)
	if ck == nil {
		return nil, errors.New("no binbench-check line: the check script did not run")
	}
	requests, bytes := atoi(ck[1]), atoi(ck[2])
	if bad := atoi(ck[3]); bad > 0 {
		return nil, fmt.Errorf("%d responses with a non-2xx status", bad)
	}
	if requests != o.Requests {
		return nil, fmt.Errorf("wrk counted %d and %d requests", requests, o.Requests)
	}
	if bytes < requests*(ws.size-ws.shrink) || bytes > (requests+inflight)*ws.size {
		return nil, fmt.Errorf("wrong status or body: %d bytes read for %d responses of %d bytes", bytes, requests, ws.size)
	}
	return &toolResult{requests: o.Requests, elapsed: o.Elapsed, p50: o.P50, p99: o.P99}, nil
}

// probeResponse sends wrk's request (GET, Host, and Connection: close when
// closing) on a new connection and checks the answer's status and body; it
// returns the response's length on the wire, which every response of the run
// must have (the servers' Date fields are fixed-width).
func probeResponse(url string, closing bool) (wireSize, error) {
	var ws wireSize
	hostPath := strings.TrimPrefix(url, "http://")
	host, path, _ := strings.Cut(hostPath, "/")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return ws, fmt.Errorf("probe request: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET /" + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
	if closing {
		req += "Connection: close\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return ws, fmt.Errorf("probe request: %w", err)
	}
	cr := &countingReader{r: conn}
	br := bufio.NewReader(cr)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return ws, fmt.Errorf("probe request: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return ws, fmt.Errorf("probe request: reading the body: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ws, fmt.Errorf("probe request: non-2xx status %s", resp.Status)
	}
	if resp.StatusCode != http.StatusOK || string(body) != WantBody {
		return ws, fmt.Errorf("probe request: wrong status or body: %s %q, want 200 %q", resp.Status, clip(string(body), 200), WantBody)
	}
	if resp.ContentLength < 0 {
		return ws, errors.New("probe request: a response without Content-Length has no fixed size")
	}
	ws.size = cr.n - int64(br.Buffered())
	if strings.EqualFold(resp.Header.Get("Connection"), "keep-alive") {
		ws.shrink = int64(len("keep-alive") - len("close"))
	}
	return ws, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// parseH2load reads h2load's summary (failures are errors), and checks that the
// DATA bytes are those of bodyLen-byte bodies: between the succeeded and the
// started requests' worth (h2load checks no body; the content is checked on samples
// before the run).
func parseH2load(out string, bodyLen int64) (*toolResult, error) {
	o, err := tools.ParseH2load(out)
	if err != nil {
		return nil, err
	}
	if o.DataBytes < 0 {
		return nil, errors.New("no traffic line in h2load's summary")
	}
	if o.DataBytes < o.Requests*bodyLen || o.DataBytes > o.Started*bodyLen {
		return nil, fmt.Errorf("h2load received %d body bytes for %d responses of %d bytes", o.DataBytes, o.Requests, bodyLen)
	}
	return &toolResult{requests: o.Requests, elapsed: o.Elapsed}, nil
}

func atoi(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }

// checkSample sends a few requests with Go's client (HTTP/1.1, or h2c by prior
// knowledge) and checks status, protocol and body.
func checkSample(url string, h2c bool) error {
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, TLSClientConfig: &tls.Config{}}
	if h2c {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(url)
		if err != nil {
			return fmt.Errorf("sample request: %w", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("sample request: reading the body: %w", err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != WantBody {
			return fmt.Errorf("sample request: %s %q, want 200 %q", resp.Status, clip(string(body), 200), WantBody)
		}
		if h2c && resp.ProtoMajor != 2 {
			return fmt.Errorf("sample request: answered over %s, want HTTP/2", resp.Proto)
		}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
