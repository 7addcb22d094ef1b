// Package stats counts what a worker serves and adds up what every worker
// reported, for the master's metrics, statsd push and control socket.
//
// A worker counts into Counters: fixed slots of atomic integers, so the hot path
// costs a few atomic adds and never a system call or an allocation. Its
// heartbeat goroutine encodes a Snapshot of the slots (AppendSample) every
// heartbeat interval and sends it to the master over the supervisor's heartbeat
// pipe. The master decodes each report into a Sample and keeps, in an
// Aggregate, the last report of every live worker plus the sum of the workers
// that exited: counters never go backwards across worker restarts, reloads and
// killed workers, and a worker killed between two reports loses at most what it
// served since the last one.
//
// The package does no I/O: it only counts, encodes and adds up.
package stats
