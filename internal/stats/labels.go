package stats

import "time"

// Protocol is the wire protocol a request or connection arrived on.
type Protocol uint8

// The protocols, as the metrics label them.
const (
	HTTP1 Protocol = iota // HTTP/1.0 and HTTP/1.1
	H2                    // HTTP/2 (h2c)
	UWSGI                 // the uWSGI binary protocol
)

const numProtocols = 3

// ProtocolNames are the label values of the protocols, by Protocol.
var ProtocolNames = [numProtocols]string{"http1", "h2", "uwsgi"}

// MethodNames are the request methods counted by name, in slot order; every
// other method is counted as "_OTHER", as OpenTelemetry's http.request.method does.
var MethodNames = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "_OTHER"}

const numMethods = len(MethodNames)

// methodIndex is the slot of a request method.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "CONNECT":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "PATCH":
		return 8
	}
	return 9
}

// ClassNames are the status classes, in slot order.
var ClassNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

const numClasses = len(ClassNames)

// classIndex is the slot of a status code's class; codes outside 100..599 count
// as 5xx, the server's fault.
func classIndex(status int) int {
	if status < 100 || status > 599 {
		return 4
	}
	return status/100 - 1
}

// Status codes counted one by one (statsd's gunicorn.request.status.N and the
// rejections by status) span 100..599.
const (
	minStatus   = 100
	numStatuses = 500
)

// DurationBuckets are the upper bounds, in seconds, of the request duration
// histogram: OpenTelemetry's advice for http.server.request.duration.
var DurationBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

const numBuckets = len(DurationBuckets) + 1 // the last one is +Inf

// bucketBounds are DurationBuckets as durations, for the hot path.
var bucketBounds = func() (b [len(DurationBuckets)]time.Duration) {
	for i, s := range DurationBuckets {
		b[i] = time.Duration(s * float64(time.Second))
	}
	return b
}()

// bucketIndex is the histogram slot of d: the first bucket whose bound is at least d.
func bucketIndex(d time.Duration) int {
	for i, b := range bucketBounds {
		if d <= b {
			return i
		}
	}
	return len(bucketBounds)
}

// Timeout answers: what a client got from a handler that ran past --timeout.
const (
	TimeoutAnswered = iota // nothing was sent yet: a 503 went out
	TimeoutCut             // the response had started: the connection or stream was cut
	numTimeoutKinds
)

// TimeoutNames label the timeout answers.
var TimeoutNames = [numTimeoutKinds]string{"503", "cut"}
