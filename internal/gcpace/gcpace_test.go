package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name               string
		floor, live, roots uint64
		base, want         int
	}{
		{"small heap grows to the floor", 32 * mib, 3 * mib, 1 * mib, 100, 725},
		{"heap above the floor keeps GOGC", 32 * mib, 40 * mib, mib, 100, 100},
		{"GOGC's own goal above the floor", 32 * mib, 20 * mib, 0, 100, 100},
		{"a larger GOGC stands", 32 * mib, 3 * mib, mib, 1000, 1000},
		{"nothing measured yet", 32 * mib, 0, 0, 100, 100},
		{"a small heap's goal is the floor, not the runtime's scaled minimum", 32 * mib, mib / 2, mib / 2, 100, 800},
		{"a nearly empty heap is capped", 1 << 50, 1, 0, 100, maxPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentFor(tc.floor, tc.live, tc.roots, tc.base); got != tc.want {
				t.Fatalf("percentFor(%d, %d, %d, %d) = %d, want %d", tc.floor, tc.live, tc.roots, tc.base, got, tc.want)
			}
		})
	}
}

var sink []byte

// churn allocates total bytes of garbage in 1 KiB pieces, keeping keep live.
func churn(total int) (cycles uint32) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumGC
	for n := 0; n < total; n += 1024 {
		sink = make([]byte, 1024)
	}
	runtime.ReadMemStats(&ms)
	return ms.NumGC - before
}

// With the floor, the same garbage costs a fraction of the cycles; after Stop,
// GOGC paces the collector again.
func TestFloorSpacesCycles(t *testing.T) {
	const total = 512 << 20
	runtime.GC()
	without := churn(total)
	p := Start(64 << 20)
	if p == nil {
		t.Skip("GOGC=off in this environment")
	}
	runtime.GC() // a cycle, so the pacer has measured the live heap
	churn(8 << 20)
	with := churn(total)
	// The percent moves with each cycle's live heap, which counts what the loop
	// allocated while the cycle marked: only its value is logged.
	pct := p.Percent()
	p.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after Stop the GC percent is %d, want GOGC's 100", got)
	}
	t.Logf("GC cycles for %d MiB of garbage: %d at GOGC=100, %d with a 64 MiB floor (percent %d)", total>>20, without, with, pct)
	// 512 MiB over a 64 MiB goal is about 8 cycles; GOGC=100 on a heap of a few MiB makes 50 or more.
	if with*2 > without || with > 16 {
		t.Fatalf("with the floor %d cycles, without %d: want far fewer", with, without)
	}
}

func TestStartOff(t *testing.T) {
	if Start(0) != nil {
		t.Fatal("a zero floor started a pacer")
	}
	prev := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(prev)
	if Start(64<<20) != nil {
		t.Fatal("GOGC=off started a pacer")
	}
	var p *Pacer
	p.Stop() // a nil pacer stops harmlessly
}
