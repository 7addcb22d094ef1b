package stats

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Slot layout of a Sample. Counters come first; the gauges (values that go up
// and down: open connections, requests in flight) are the last slots.
const (
	offRequests   = 0                                                // [method][class][protocol]
	offStatus     = offRequests + numMethods*numClasses*numProtocols // responses by status code
	offRejected   = offStatus + numStatuses                          // requests refused before a handler, by status
	offHist       = offRejected + numStatuses                        // [protocol][bucket] duration histogram
	offDurSum     = offHist + numProtocols*numBuckets                // [protocol] total duration, nanoseconds
	offReqBytes   = offDurSum + numProtocols                         // [protocol] request body bytes
	offRespBytes  = offReqBytes + numProtocols                       // [protocol] response body bytes
	offTimeouts   = offRespBytes + numProtocols                      // [answer] handlers past --timeout
	offPoolReject = offTimeouts + numTimeoutKinds                    // requests refused for want of a handler slot
	offAccepted   = offPoolReject + 1                                // [protocol] connections accepted (h2: upgraded or prior knowledge)
	offGauges     = offAccepted + numProtocols                       // first gauge slot
	offConns      = offGauges                                        // [protocol] open connections
	offInFlight   = offConns + numProtocols                          // requests in flight
	numSlots      = offInFlight + 1
)

// Sample is one worker's report, or the sum of several: every counter and gauge
// by slot. Read it through its methods.
type Sample struct {
	v [numSlots]uint64
}

// Requests is the number of responses by method, status class and protocol
// (indexes into MethodNames, ClassNames, ProtocolNames).
func (s *Sample) Requests(method, class int, p Protocol) uint64 {
	return s.v[offRequests+(method*numClasses+class)*numProtocols+int(p)]
}

// Status is the number of responses with status code code (100..599).
func (s *Sample) Status(code int) uint64 {
	if code < minStatus || code >= minStatus+numStatuses {
		return 0
	}
	return s.v[offStatus+code-minStatus]
}

// Rejected is the number of requests refused before a handler ran, with status code.
func (s *Sample) Rejected(code int) uint64 {
	if code < minStatus || code >= minStatus+numStatuses {
		return 0
	}
	return s.v[offRejected+code-minStatus]
}

// Bucket is the number of requests on protocol p whose duration fell in bucket i
// (not cumulative; i == len(DurationBuckets) is the +Inf bucket).
func (s *Sample) Bucket(p Protocol, i int) uint64 { return s.v[offHist+int(p)*numBuckets+i] }

// DurationSum is the total duration of the requests on p, in nanoseconds.
func (s *Sample) DurationSum(p Protocol) uint64 { return s.v[offDurSum+int(p)] }

// RequestBytes is the request body bytes received on p.
func (s *Sample) RequestBytes(p Protocol) uint64 { return s.v[offReqBytes+int(p)] }

// ResponseBytes is the response body bytes sent on p.
func (s *Sample) ResponseBytes(p Protocol) uint64 { return s.v[offRespBytes+int(p)] }

// Timeouts is the number of handlers that ran past --timeout, by answer
// (TimeoutAnswered, TimeoutCut).
func (s *Sample) Timeouts(answer int) uint64 { return s.v[offTimeouts+answer] }

// PoolRejected is the number of requests answered 503 because every handler slot was busy.
func (s *Sample) PoolRejected() uint64 { return s.v[offPoolReject] }

// Accepted is the number of connections opened on p.
func (s *Sample) Accepted(p Protocol) uint64 { return s.v[offAccepted+int(p)] }

// OpenConns is the number of connections open on p (a gauge).
func (s *Sample) OpenConns(p Protocol) int64 { return int64(s.v[offConns+int(p)]) }

// InFlight is the number of requests being handled (a gauge).
func (s *Sample) InFlight() int64 { return int64(s.v[offInFlight]) }

// TotalRequests is the number of responses of every kind.
func (s *Sample) TotalRequests() uint64 {
	var n uint64
	for i := offRequests; i < offStatus; i++ {
		n += s.v[i]
	}
	return n
}

// Add adds o's counters and gauges to s.
func (s *Sample) Add(o *Sample) {
	for i := range s.v {
		s.v[i] += o.v[i]
	}
}

// addCounters adds o's counters, not its gauges, to s: what an exited worker leaves.
func (s *Sample) addCounters(o *Sample) {
	for i := 0; i < offGauges; i++ {
		s.v[i] += o.v[i]
	}
}

// The wire format of a sample: a version byte, then one entry per non-zero slot,
// each a little-endian uint16 slot index and uint64 value, in increasing index order.
const (
	wireVersion = 1
	entrySize   = 10
)

// MaxEncodedSize bounds an encoded sample.
const MaxEncodedSize = 1 + numSlots*entrySize

var errBadSample = errors.New("bad stats sample")

// AppendEncoded appends the wire form of s to b.
func (s *Sample) AppendEncoded(b []byte) []byte {
	b = append(b, wireVersion)
	for i, v := range s.v {
		if v == 0 {
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(i))
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// Decode reads a sample from its wire form. It never panics: bad input is an error.
func Decode(b []byte) (Sample, error) {
	var s Sample
	if len(b) == 0 || b[0] != wireVersion {
		return s, fmt.Errorf("%w: missing or unknown version", errBadSample)
	}
	b = b[1:]
	if len(b)%entrySize != 0 {
		return s, fmt.Errorf("%w: %d bytes of entries", errBadSample, len(b))
	}
	last := -1
	for ; len(b) > 0; b = b[entrySize:] {
		i := int(binary.LittleEndian.Uint16(b))
		if i >= numSlots || i <= last {
			return s, fmt.Errorf("%w: slot %d out of order or range", errBadSample, i)
		}
		last = i
		s.v[i] = binary.LittleEndian.Uint64(b[2:])
	}
	return s, nil
}
