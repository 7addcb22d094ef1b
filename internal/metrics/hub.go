package metrics

import (
	"maps"
	"sync"

	"github.com/rs/zerolog"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/supervisor"
)

// Hub collects the workers' reports and exits for the master. It implements
// supervisor.Observer; its methods are safe for concurrent use.
type Hub struct {
	agg *stats.Aggregate
	log zerolog.Logger

	mu       sync.Mutex
	restarts map[string]uint64
	status   func() supervisor.Status
}

// NewHub returns an empty Hub.
func NewHub(log zerolog.Logger) *Hub {
	return &Hub{agg: stats.NewAggregate(), log: log, restarts: map[string]uint64{}}
}

// SetStatus tells the hub where to read the herd's state (supervisor.Master.Status).
func (h *Hub) SetStatus(status func() supervisor.Status) {
	h.mu.Lock()
	h.status = status
	h.mu.Unlock()
}

// WorkerReport records a worker's counters (supervisor.Observer).
func (h *Hub) WorkerReport(id int, payload string) {
	s, err := stats.Decode([]byte(payload))
	if err != nil {
		h.log.Warn().Err(err).Int("worker", id).Msg("worker stats report dropped")
		return
	}
	h.agg.Report(id, &s)
}

// WorkerExited folds an exited worker's counters into the total and counts its
// restart (supervisor.Observer).
func (h *Hub) WorkerExited(id int, restart string) {
	h.agg.Retire(id)
	if restart == "" {
		return
	}
	h.mu.Lock()
	h.restarts[restart]++
	h.mu.Unlock()
}

// Total is the sum of every worker's counters, live and exited.
func (h *Hub) Total() stats.Sample { return h.agg.Total() }

// Worker is the last report of live worker id.
func (h *Hub) Worker(id int) (stats.Sample, bool) { return h.agg.Worker(id) }

// Restarts counts worker restarts by reason (supervisor.RestartReasons).
func (h *Hub) Restarts() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.restarts)
}

// Status is the herd's state, or a zero Status before SetStatus.
func (h *Hub) Status() supervisor.Status {
	h.mu.Lock()
	f := h.status
	h.mu.Unlock()
	if f == nil {
		return supervisor.Status{}
	}
	return f()
}

// Busy counts the live workers that were handling a request at their last report.
func (h *Hub) Busy(st *supervisor.Status) int {
	n := 0
	for _, w := range st.Workers {
		if s, ok := h.agg.Worker(w.ID); ok && s.InFlight() > 0 {
			n++
		}
	}
	return n
}
