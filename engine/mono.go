package engine

import "time"

// The connections' deadlines and idle marks (conn.deadline, idleSince, heldAt,
// readySince) are nanoseconds on the monotonic clock since monoBase: reading it
// is one vDSO call where time.Now reads the wall clock as well (two, about 0.5 µs
// of a worker's CPU per nginx uwsgi_pass request on a virtual machine), and a
// wall-clock step neither fires nor delays them. monoBase lies a second in the
// past so that no reading is 0, which means "none".
var monoBase = time.Now().Add(-time.Second)

// monoNow returns the monotonic nanoseconds since monoBase.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// monoOf returns t in monoNow's terms.
func monoOf(t time.Time) int64 { return int64(t.Sub(monoBase)) }
