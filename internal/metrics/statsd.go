package metrics

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/stats"
)

// StatsdInterval is how often the master pushes to statsd.
const StatsdInterval = time.Second

// statsdPacketBound keeps each datagram inside one Ethernet frame; metrics are
// separated by newlines, which statsd, Telegraf and DogStatsD all read.
const statsdPacketBound = 1432

// Statsd pushes the Hub's totals to a statsd server with Gunicorn's metric names,
// as increments since the last push:
//
//	PREFIX.gunicorn.requests:N|c|@1.0              responses
//	PREFIX.gunicorn.request.status.CODE:N|c|@1.0   responses with status CODE
//	PREFIX.gunicorn.request.duration:MS|ms|@RATE   one timer per duration bucket hit
//	PREFIX.gunicorn.workers:N|g                    workers serving
//
// Gunicorn sends a timer per request from each worker; the master only has the
// workers' histograms, so each bucket hit in the interval becomes one timer
// line with the bucket's midpoint as value and 1/count as sample rate: statsd
// then counts every request and places it in the right bucket.
type Statsd struct {
	conn   net.Conn
	prefix string
	hub    *Hub
	log    zerolog.Logger

	mu      sync.Mutex
	last    stats.Sample
	buf     []byte
	packet  []byte
	failing bool
	done    chan struct{}
}

// trailingDots matches a prefix that needs its dot (Gunicorn's rule: one dot
// after a non-empty prefix, however many were given).
var trailingDots = regexp.MustCompile(`\.*$`)

// DialStatsd connects a datagram socket to host: HOST:PORT (UDP) or unix:PATH.
func DialStatsd(host, prefix string, hub *Hub, log zerolog.Logger) (*Statsd, error) {
	network, addr := "udp", host
	if p, ok := strings.CutPrefix(host, "unix:"); ok {
		network, addr = "unixgram", p
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: --statsd-host %s: %w", host, err)
	}
	if prefix != "" {
		prefix = trailingDots.ReplaceAllString(prefix, "") + "."
	}
	return &Statsd{conn: c, prefix: prefix, hub: hub, log: log, done: make(chan struct{})}, nil
}

// Run pushes every interval until stop is closed.
func (s *Statsd) Run(stop <-chan struct{}, interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.Push()
		}
	}
}

// Close makes a last push and closes the socket.
func (s *Statsd) Close() {
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
	s.Push()
	_ = s.conn.Close()
}

// Push sends what changed since the last push.
func (s *Statsd) Push() {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.hub.Total()
	st := s.hub.Status()
	s.packet = s.packet[:0]
	if d := t.TotalRequests() - s.last.TotalRequests(); d > 0 {
		s.line("gunicorn.requests", strconv.FormatUint(d, 10), "c|@1.0")
	}
	for code := 100; code < 600; code++ {
		if d := t.Status(code) - s.last.Status(code); d > 0 {
			s.line("gunicorn.request.status."+strconv.Itoa(code), strconv.FormatUint(d, 10), "c|@1.0")
		}
	}
	for i := range len(stats.DurationBuckets) + 1 {
		var d uint64
		for p := range 3 {
			d += t.Bucket(stats.Protocol(p), i) - s.last.Bucket(stats.Protocol(p), i)
		}
		if d == 0 {
			continue
		}
		rate := "ms"
		if d > 1 {
			rate = "ms|@" + strconv.FormatFloat(1/float64(d), 'g', 6, 64)
		}
		s.line("gunicorn.request.duration", strconv.FormatFloat(bucketMidMillis(i), 'f', -1, 64), rate)
	}
	// Sent at every push, as Gunicorn's arbiter does on every turn of its loop,
	// so a restarted statsd learns it within a second.
	s.line("gunicorn.workers", strconv.Itoa(st.Alive()), "g")
	s.flush()
	s.last = t
}

// bucketMidMillis is the value a duration bucket's hits are sent with: the middle
// of the bucket, in milliseconds; the last, unbounded bucket sends its lower bound.
func bucketMidMillis(i int) float64 {
	b := stats.DurationBuckets
	switch {
	case i == 0:
		return b[0] * 1000 / 2
	case i >= len(b):
		return b[len(b)-1] * 1000
	}
	return (b[i-1] + b[i]) * 1000 / 2
}

// line adds one metric to the datagram being built, sending it first if full.
func (s *Statsd) line(name, value, kind string) {
	s.buf = append(s.buf[:0], s.prefix...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, ':')
	s.buf = append(s.buf, value...)
	s.buf = append(s.buf, '|')
	s.buf = append(s.buf, kind...)
	if len(s.packet) > 0 && len(s.packet)+1+len(s.buf) > statsdPacketBound {
		s.flush()
	}
	if len(s.packet) > 0 {
		s.packet = append(s.packet, '\n')
	}
	s.packet = append(s.packet, s.buf...)
}

func (s *Statsd) flush() {
	if len(s.packet) == 0 {
		return
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := s.conn.Write(s.packet)
	s.packet = s.packet[:0]
	switch {
	case err != nil && !s.failing:
		// Said once, not every second, while statsd is down.
		s.failing = true
		s.log.Warn().Err(err).Msg("statsd push failed; retrying every interval")
	case err == nil && s.failing:
		s.failing = false
		s.log.Info().Msg("statsd push works again")
	}
}
