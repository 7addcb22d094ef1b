package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/supervisor"
)

// Every metric is named gonicorn_*, in base units (seconds, bytes).
var (
	descRequests = prometheus.NewDesc("gonicorn_http_requests_total",
		"Responses by request method, status class and protocol (rejections before a handler ran are in gonicorn_http_rejected_requests_total).",
		[]string{"method", "status_class", "protocol"}, nil)
	descDuration = prometheus.NewDesc("gonicorn_http_request_duration_seconds",
		"Time from a complete request head to the end of its response (OpenTelemetry http.server.request.duration buckets).",
		[]string{"protocol"}, nil)
	descInFlight = prometheus.NewDesc("gonicorn_http_requests_in_flight",
		"Requests being handled, at the workers' last reports.", nil, nil)
	descReqBytes = prometheus.NewDesc("gonicorn_http_request_body_bytes_total",
		"Request body bytes, as declared by Content-Length.", []string{"protocol"}, nil)
	descRespBytes = prometheus.NewDesc("gonicorn_http_response_body_bytes_total",
		"Response body bytes written by handlers.", []string{"protocol"}, nil)
	descTimeouts = prometheus.NewDesc("gonicorn_handler_timeouts_total",
		"Handlers that ran past --timeout, by what the client got: a 503, or a cut response.", []string{"answer"}, nil)
	descPoolRejected = prometheus.NewDesc("gonicorn_pool_rejections_total",
		"Requests answered 503 because every handler slot (--threads) was busy.", nil, nil)
	descRejected = prometheus.NewDesc("gonicorn_http_rejected_requests_total",
		"Requests refused before any handler ran (malformed, too large, too slow), by status.", []string{"status"}, nil)
	descConnsOpen = prometheus.NewDesc("gonicorn_connections_open",
		"Open client connections by protocol, at the workers' last reports.", []string{"protocol"}, nil)
	descConns = prometheus.NewDesc("gonicorn_connections_total",
		"Client connections opened by protocol (h2: connections that became HTTP/2).", []string{"protocol"}, nil)
	descTarget = prometheus.NewDesc("gonicorn_workers_target",
		"Workers the master keeps (--workers, changed by TTIN/TTOU and the control socket).", nil, nil)
	descAlive = prometheus.NewDesc("gonicorn_workers_alive",
		"Workers that run and serve.", nil, nil)
	descBusy = prometheus.NewDesc("gonicorn_workers_busy",
		"Workers handling at least one request, at their last reports.", nil, nil)
	descRestarts = prometheus.NewDesc("gonicorn_worker_restarts_total",
		"Workers replaced, by reason.", []string{"reason"}, nil)
	descQueue = prometheus.NewDesc("gonicorn_listen_queue_length",
		"Connections waiting in a listener's accept queue (Linux: /proc/net/tcp for TCP, sock_diag for unix sockets).", []string{"listener"}, nil)
)

// Collector exposes a Hub's totals as Prometheus metrics.
type Collector struct {
	hub       *Hub
	listeners []Listener
}

// NewCollector returns a Collector over hub and the master's listeners.
func NewCollector(hub *Hub, listeners []Listener) *Collector {
	return &Collector{hub: hub, listeners: listeners}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descDuration, descInFlight, descReqBytes, descRespBytes,
		descTimeouts, descPoolRejected, descRejected, descConnsOpen, descConns, descTarget, descAlive, descBusy,
		descRestarts, descQueue} {
		ch <- d
	}
}

// Collect sends the current totals.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	t := c.hub.Total()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for p, proto := range stats.ProtocolNames {
		p := stats.Protocol(p)
		for m, method := range stats.MethodNames {
			for cl, class := range stats.ClassNames {
				if v := t.Requests(m, cl, p); v > 0 {
					counter(descRequests, v, method, class, proto)
				}
			}
		}
		buckets := make(map[float64]uint64, len(stats.DurationBuckets))
		var cum uint64
		for i, ub := range stats.DurationBuckets {
			cum += t.Bucket(p, i)
			buckets[ub] = cum
		}
		count := cum + t.Bucket(p, len(stats.DurationBuckets))
		sum := time.Duration(t.DurationSum(p)).Seconds()
		ch <- prometheus.MustNewConstHistogram(descDuration, count, sum, buckets, proto)
		counter(descReqBytes, t.RequestBytes(p), proto)
		counter(descRespBytes, t.ResponseBytes(p), proto)
		gauge(descConnsOpen, float64(t.OpenConns(p)), proto)
		counter(descConns, t.Accepted(p), proto)
	}
	gauge(descInFlight, float64(t.InFlight()))
	for i, name := range stats.TimeoutNames {
		counter(descTimeouts, t.Timeouts(i), name)
	}
	counter(descPoolRejected, t.PoolRejected())
	for code := 100; code < 600; code++ {
		if v := t.Rejected(code); v > 0 {
			counter(descRejected, v, strconv.Itoa(code))
		}
	}
	st := c.hub.Status()
	gauge(descTarget, float64(st.Target))
	gauge(descAlive, float64(st.Alive()))
	gauge(descBusy, float64(c.hub.Busy(&st)))
	restarts := c.hub.Restarts()
	for _, r := range supervisor.RestartReasons {
		counter(descRestarts, restarts[r], r)
	}
	for spec, q := range ListenQueues(c.listeners) {
		gauge(descQueue, float64(q), spec)
	}
}
