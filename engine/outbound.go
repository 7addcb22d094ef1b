package engine

// The outbound budget: a slow reader's queue is bounded by highWater (256 KiB)
// while few clients read slowly, and by a share of outboundBudget when many do, so
// a flood of slow readers holds at most about outboundBudget of the worker's
// memory in queued responses (plus one piece each, maxPiece), not highWater each.
// A fast client rarely waits at all (the kernel's socket buffer takes its
// response), so it neither counts nor pays.

const (
	// outboundBudget is the response bytes the handlers waiting on slow readers
	// may keep queued in all, before their marks shrink.
	outboundBudget = 64 << 20
	// minHighWater is the least a waiting writer may queue, however many wait.
	minHighWater = 16 << 10
)

// highWaterNow is the queue length above which a handler's write waits: highWater,
// or a fair share of outboundBudget among the writers already waiting.
func (s *Server) highWaterNow() int {
	n := int(s.waitingWriters.Load())
	if n <= 0 {
		return highWater
	}
	return min(highWater, max(minHighWater, outboundBudget/n))
}

// lowWaterNow is the queue length at which a waiting write resumes.
func (s *Server) lowWaterNow() int {
	return min(lowWater, s.highWaterNow()/4)
}
