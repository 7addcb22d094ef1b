package stats

import "sync"

// Aggregate adds up the reports of every worker a master ever ran: the last
// report of each live worker plus the counters of those that exited. Its methods
// are safe for concurrent use.
type Aggregate struct {
	mu      sync.Mutex
	retired Sample
	live    map[int]*Sample // by worker id
}

// NewAggregate returns an empty Aggregate.
func NewAggregate() *Aggregate { return &Aggregate{live: map[int]*Sample{}} }

// Report records worker id's latest report. A worker's counters only grow, so a
// slot that reads lower than before (a report decoded out of order) keeps the
// higher value; gauges take the new value.
func (a *Aggregate) Report(id int, s *Sample) {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.live[id]
	if old == nil {
		c := *s
		a.live[id] = &c
		return
	}
	for i := 0; i < offGauges; i++ {
		old.v[i] = max(old.v[i], s.v[i])
	}
	copy(old.v[offGauges:], s.v[offGauges:])
}

// Retire folds the counters of worker id, which exited, into the total; its
// gauges drop out.
func (a *Aggregate) Retire(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.live[id]; s != nil {
		a.retired.addCounters(s)
		delete(a.live, id)
	}
}

// Total is the sum over every worker, live and exited.
func (a *Aggregate) Total() Sample {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.retired
	for _, s := range a.live {
		t.Add(s)
	}
	return t
}

// Worker is the last report of live worker id.
func (a *Aggregate) Worker(id int) (Sample, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.live[id]
	if s == nil {
		return Sample{}, false
	}
	return *s, true
}
