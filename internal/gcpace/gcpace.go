// Package gcpace keeps a worker's garbage-collection heap goal at or above a
// floor (--gc-min-heap).
//
// Go's collector starts a cycle when the heap has grown GOGC percent (100 by
// default) beyond what the last cycle found live. A worker serving small
// requests keeps little alive, a few MiB, yet allocates hundreds of MiB a
// second at full load, so at GOGC=100 it collects dozens of times a second
// and spends a fifth of its CPU in the collector. The floor makes the goal
// max(floor, what GOGC alone would give): a small heap grows to the floor
// before a cycle, while a heap already above it is paced by GOGC as before.
// GOMEMLIMIT, when set, still caps the heap.
//
// After every cycle the pacer reads the live heap and the GC roots
// (runtime/metrics) and sets the GC percent (runtime/debug) that puts the next
// goal at the floor; it learns of cycles from a finalizer that re-arms itself.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// maxPercent bounds the GC percent read from GOGC; more is taken for off.
const maxPercent = 1 << 20

// runtimeHeapMinimum is the Go runtime's smallest heap goal at GOGC=100 (its
// defaultHeapMinimum, 4 MiB); it scales with the GC percent, so a percent above
// floor/4 MiB × 100 would put the goal above the floor.
const runtimeHeapMinimum = 4 << 20

// Pacer holds a process's heap goal at or above a floor. Start one per process.
type Pacer struct {
	floor   uint64
	base    int // the GC percent GOGC asked for; the pacer never goes below it
	set     atomic.Int64
	stopped atomic.Bool
	samples []metrics.Sample
}

const (
	liveMetric    = "/gc/heap/live:bytes"
	stackMetric   = "/gc/scan/stack:bytes"
	globalsMetric = "/gc/scan/globals:bytes"
	gogcMetric    = "/gc/gogc:percent"
)

// Start begins holding the heap goal at or above floor bytes and returns the
// pacer; nil when floor is 0 or GOGC=off (then the collector is left alone).
func Start(floor uint64) *Pacer {
	if floor == 0 {
		return nil
	}
	gogc := []metrics.Sample{{Name: gogcMetric}}
	metrics.Read(gogc)
	if gogc[0].Value.Kind() != metrics.KindUint64 || gogc[0].Value.Uint64() > maxPercent {
		return nil // GOGC=off (read as -1): the user runs the collector by GOMEMLIMIT alone
	}
	base := int(gogc[0].Value.Uint64())
	p := &Pacer{floor: floor, base: base, samples: []metrics.Sample{
		{Name: liveMetric}, {Name: stackMetric}, {Name: globalsMetric},
	}}
	p.set.Store(int64(base))
	p.adjust()
	p.arm()
	return p
}

// Stop hands the collector back to GOGC.
func (p *Pacer) Stop() {
	if p == nil || p.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(p.base)
	p.set.Store(int64(p.base))
}

// Percent returns the GC percent the pacer last set.
func (p *Pacer) Percent() int { return int(p.set.Load()) }

// sentinel is garbage from birth: its finalizer runs after the cycle that found
// it unreachable, adjusts the pacing, and makes the next sentinel. It holds a
// pointer, so it is never merged into a tiny allocation (whose finalizer might
// never run).
type sentinel struct{ p *Pacer }

func (p *Pacer) arm() {
	runtime.SetFinalizer(&sentinel{p: p}, func(s *sentinel) {
		if s.p.stopped.Load() {
			return
		}
		s.p.adjust()
		s.p.arm()
	})
}

// adjust sets the GC percent for the next cycle. It runs on the finalizer
// goroutine (or in Start), never concurrently with itself.
func (p *Pacer) adjust() {
	metrics.Read(p.samples)
	var live, roots uint64
	if v := p.samples[0].Value; v.Kind() == metrics.KindUint64 {
		live = v.Uint64()
	}
	for _, s := range p.samples[1:] {
		if s.Value.Kind() == metrics.KindUint64 {
			roots += s.Value.Uint64()
		}
	}
	want := percentFor(p.floor, live, roots, p.base)
	cur := int(p.set.Load())
	// Small moves are not worth a change of pacing (each takes the heap lock).
	if want == cur || want > p.base && cur > p.base && absDiff(want, cur)*20 < cur {
		return
	}
	if p.stopped.Load() {
		return
	}
	debug.SetGCPercent(want)
	p.set.Store(int64(want))
}

// percentFor returns the GC percent whose goal is the floor for a heap with
// live bytes after marking and roots bytes of stacks and globals, never below
// base. Go's goal is live + (live + roots) × percent / 100, and at least
// runtimeHeapMinimum × percent / 100.
func percentFor(floor, live, roots uint64, base int) int {
	scan := live + roots
	if scan == 0 || live >= floor {
		return base
	}
	pct := min((floor-live)*100/scan, floor*100/runtimeHeapMinimum)
	return max(int(min(pct, maxPercent)), base)
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
