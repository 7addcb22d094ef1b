package h2

// stream is the protocol state of one client-initiated stream (RFC 9113 §5.1). Idle
// streams are never stored: an identifier above the highest one seen is idle, and one at
// or below it that is not stored is closed.
type stream struct {
	id uint32
	// remoteClosed is set once the client ended its side (END_STREAM or RST_STREAM);
	// localClosed once the server did (END_STREAM or RST_STREAM).
	remoteClosed bool
	localClosed  bool
	// reset is set when either side sent RST_STREAM: the stream is closed both ways.
	reset bool
	// held is true from the request event until the caller calls ReleaseStream: the
	// stream keeps its concurrency slot while the handler may still be running.
	held bool
	// send is what the server may still send on this stream; recv what the client may.
	send Window
	recv inflow
	// declaredLen is the request's content-length or -1; receivedLen the DATA so far.
	declaredLen int64
	receivedLen int64
}

func (s *stream) closed() bool { return s.remoteClosed && s.localClosed }

// meter is a rate limiter in the GCRA form: every event moves a theoretical arrival
// time forward by interval; an event that puts it more than burst ahead of now is one
// too many. Times are nanoseconds from an origin the caller's clock defines.
type meter struct {
	interval int64
	burst    int64
	tat      int64
}

func newMeter(burst, perSecond int) meter {
	if perSecond < 1 {
		perSecond = 1
	}
	interval := int64(1e9) / int64(perSecond)
	return meter{interval: interval, burst: interval * int64(burst)}
}

// allow charges one event at now and reports whether it stays within the limit.
func (m *meter) allow(now int64) bool {
	if m.tat < now {
		m.tat = now
	}
	m.tat += m.interval
	return m.tat-now <= m.burst
}
