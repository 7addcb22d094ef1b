// Package metrics is the master's side of observability: it adds up what the
// workers report (a Hub, the supervisor's Observer), exposes the total as
// Prometheus metrics (Collector, Serve) and pushes it to statsd with Gunicorn's
// metric names (Statsd). The workers count; this package never touches a request.
package metrics
