package binbench

import (
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

// checkLua makes wrk check every response's status and body, and print the counts
// at the end (per-thread counters collected through setup's thread handles). With
// a depth above 1 it also sends that many requests per write and waits for all of
// them, as wrk's examples/pipeline.lua does.
const checkLua = `-- written by gonicorn's bench/binbench: every response is checked
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   want_status = tonumber(args[1])
   want_body = args[2]
   good = 0
   bad = 0
   first_bad = ""
   local depth = tonumber(args[3]) or 1
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
   end
   pipelined = table.concat(r)
end
{{REQUEST}}
function response(status, headers, body)
   if status == want_status and body == want_body then
      good = good + 1
   else
      bad = bad + 1
      if first_bad == "" then
         first_bad = tostring(status) .. " " .. string.sub(tostring(body), 1, 80)
      end
   end
end

function done(summary, latency, requests)
   local g, b, fb = 0, 0, ""
   for _, t in ipairs(threads) do
      g = g + t:get("good")
      b = b + t:get("bad")
      if fb == "" then fb = t:get("first_bad") end
   end
   io.write(string.format("binbench-check good=%d bad=%d first_bad=%q\n", g, b, fb))
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
	switch l.Tool {
	case "wrk":
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
		args = append(args, url, "--", "200", WantBody, strconv.Itoa(depth))
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
		r, err = parseWrk(text)
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

var wrkCheck = regexp.MustCompile(`binbench-check good=(\d+) bad=(\d+) first_bad=(".*")`)

// parseWrk reads wrk --latency output with checkLua's line. Socket errors, non-2xx
// responses and responses checkLua found wrong are errors.
func parseWrk(out string) (*toolResult, error) {
	o, err := tools.ParseWrk(out)
	if err != nil {
		return nil, err
	}
	ck := wrkCheck.FindStringSubmatch(out)
	if ck == nil {
		return nil, errors.New("no binbench-check line: the check script did not run")
	}
	if bad := atoi(ck[2]); bad > 0 {
		return nil, fmt.Errorf("%d responses with a wrong status or body (first: %s)", bad, ck[3])
	}
	if good := atoi(ck[1]); good < o.Requests {
		return nil, fmt.Errorf("only %d of %d responses were checked", good, o.Requests)
	}
	return &toolResult{requests: o.Requests, elapsed: o.Elapsed, p50: o.P50, p99: o.P99}, nil
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
