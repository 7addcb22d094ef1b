package control

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gonicorn/gonicorn/internal/config"
)

// DefaultSocket is where `gonicorn ctl` looks without -s or
// GONICORN_CONTROL_SOCKET: gonicorn.ctl in the current directory, as gunicornc does.
const DefaultSocket = "gonicorn.ctl"

// EnvSocket names the environment variable that sets the socket path for ctl.
const EnvSocket = "GONICORN_CONTROL_SOCKET"

const usage = `usage: gonicorn ctl [-s PATH] [--json] COMMAND

Talks to a running master's control socket (--control-socket PATH).

  -s, --socket PATH   the control socket (default $GONICORN_CONTROL_SOCKET, else ./gonicorn.ctl)
  -j, --json          print the answer as JSON

Commands:
  show stats                requests, status classes, timeouts, rejections, restarts
  show workers              pid, age, requests served, in flight, RSS, last heartbeat
  show config               the configuration of the current workers
  show listeners            bound sockets and their accept queues
  worker add [N]            keep N more workers (default 1)
  worker remove [N]         keep N fewer workers, never below 1
  worker kill PID           stop one worker gracefully; a new one replaces it
  reload                    as SIGHUP: new workers with the configuration re-read
  reopen                    as SIGUSR1: reopen the log files
  shutdown [--graceful]     stop now (as SIGQUIT), or let requests finish (as SIGTERM)
`

// Main runs `gonicorn ctl` with args (after "ctl") and returns the exit code: 0
// done, 1 the master refused or could not be reached, 2 bad usage.
func Main(args, environ []string, stdout, stderr io.Writer) int {
	path, asJSON := "", false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, EnvSocket+"="); ok {
			path = v
		}
	}
	var cmd []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, usage)
			return 0
		case a == "-j" || a == "--json":
			asJSON = true
		case a == "-s" || a == "--socket":
			if i+1 >= len(args) {
				fmt.Fprint(stderr, "gonicorn ctl: -s needs a path\n"+usage)
				return 2
			}
			i++
			path = args[i]
		case strings.HasPrefix(a, "--socket="):
			path = strings.TrimPrefix(a, "--socket=")
		default:
			cmd = append(cmd, a)
		}
	}
	if len(cmd) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if path == "" {
		path = DefaultSocket
	}
	resp, err := Call(path, cmd, ioBound)
	if err != nil {
		fmt.Fprintf(stderr, "gonicorn ctl: %v\n", err)
		return 1
	}
	if !resp.OK {
		fmt.Fprintf(stderr, "gonicorn ctl: %s\n", resp.Error)
		return 1
	}
	if asJSON {
		var v any
		if err := json.Unmarshal(resp.Data, &v); err != nil {
			fmt.Fprintf(stderr, "gonicorn ctl: bad answer: %v\n", err)
			return 1
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	if err := render(stdout, cmd, resp.Data); err != nil {
		fmt.Fprintf(stderr, "gonicorn ctl: bad answer: %v\n", err)
		return 1
	}
	return 0
}

// Call sends one command to the control socket at path and returns the answer.
func Call(path string, args []string, timeout time.Duration) (Response, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return Response{}, fmt.Errorf("control socket %s: %w (is the master started with --control-socket %s?)", path, err, path)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	b, _ := json.Marshal(Request{Args: args})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("control socket %s: %w", path, err)
	}
	line, err := readLine(bufio.NewReader(c))
	if err != nil {
		return Response{}, fmt.Errorf("control socket %s: reading the answer: %w", path, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("control socket %s: bad answer: %w", path, err)
	}
	return resp, nil
}

// render prints an answer for people.
func render(w io.Writer, cmd []string, data json.RawMessage) error {
	what := cmd[0]
	if what == "show" && len(cmd) > 1 {
		what += " " + cmd[1]
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch what {
	case "show stats":
		var s Stats
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		fmt.Fprintf(tw, "master pid\t%d\n", s.MasterPID)
		fmt.Fprintf(tw, "uptime\t%s\n", (time.Duration(s.Uptime) * time.Second).Round(time.Second))
		fmt.Fprintf(tw, "workers\t%d target, %d alive, %d busy\n", s.WorkersTarget, s.WorkersAlive, s.WorkersBusy)
		fmt.Fprintf(tw, "requests\t%d (%s)\n", s.Requests, joinCounts(s.ByClass))
		fmt.Fprintf(tw, "by protocol\t%s\n", joinCounts(s.ByProtocol))
		fmt.Fprintf(tw, "in flight\t%d\n", s.InFlight)
		fmt.Fprintf(tw, "open connections\t%s\n", joinCounts(s.OpenConns))
		fmt.Fprintf(tw, "mean duration\t%s\n", time.Duration(s.MeanDuration*float64(time.Second)).Round(time.Microsecond))
		fmt.Fprintf(tw, "handler timeouts\t%s\n", joinCounts(s.Timeouts))
		fmt.Fprintf(tw, "pool rejections\t%d\n", s.PoolRejections)
		fmt.Fprintf(tw, "rejected requests\t%s\n", joinCounts(s.Rejected))
		fmt.Fprintf(tw, "worker restarts\t%s\n", joinCounts(s.Restarts))
	case "show workers":
		var ws []Worker
		if err := json.Unmarshal(data, &ws); err != nil {
			return err
		}
		fmt.Fprintln(tw, "PID\tID\tGEN\tSTATE\tAGE\tSERVED\tIN FLIGHT\tRSS\tLAST BEAT")
		for _, x := range ws {
			beat := "-"
			if x.LastBeat >= 0 {
				beat = fmt.Sprintf("%.1fs ago", x.LastBeat)
			}
			state := x.State
			if !x.Ready && state == "running" {
				state = "booting"
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n", x.PID, x.ID, x.Generation, state,
				(time.Duration(x.Age) * time.Second).String(), x.Served, x.InFlight, mib(x.RSS), beat)
		}
		fmt.Fprintf(tw, "\n%d workers\n", len(ws))
	case "show config":
		var c config.Config
		if err := json.Unmarshal(data, &c); err != nil {
			return err
		}
		tw.Flush()
		return c.Print(w)
	case "show listeners":
		var ls []Listener
		if err := json.Unmarshal(data, &ls); err != nil {
			return err
		}
		fmt.Fprintln(tw, "BIND\tPROTOCOL\tADDRESS\tACCEPT QUEUE")
		for _, l := range ls {
			q := "-"
			if l.Queue >= 0 {
				q = fmt.Sprint(l.Queue)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Spec, l.Protocol, l.Address, q)
		}
	default:
		var d Done
		if err := json.Unmarshal(data, &d); err != nil {
			return err
		}
		fmt.Fprintln(tw, d.Message)
	}
	return nil
}

// joinCounts prints a map as "k v, k v" in key order, or "none".
func joinCounts[V int64 | uint64](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func mib(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
