package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBucketsCoverEveryValueInOrder(t *testing.T) {
	prevHi := uint64(0)
	for i := range histBuckets {
		lo, hi := histBounds(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if histIndex(lo) != i || histIndex(hi) != i {
			t.Fatalf("bucket %d [%d,%d]: index(lo)=%d index(hi)=%d", i, lo, hi, histIndex(lo), histIndex(hi))
		}
		prevHi = hi
	}
	if prevHi != histMax {
		t.Fatalf("last bucket ends at %d, want %d", prevHi, uint64(histMax))
	}
}

func TestHistogramQuantilesWithinBucketPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var vals []time.Duration
	for range 100000 {
		v := time.Duration(rng.ExpFloat64() * float64(200*time.Microsecond))
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 1.0/histSub || diff < -1.0/histSub {
			t.Errorf("q%v = %v, exact %v: off by %.2f%%", q, got, exact, 100*diff)
		}
	}
	if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] || h.Count() != uint64(len(vals)) {
		t.Errorf("min %v max %v count %d; want %v %v %d", h.Min(), h.Max(), h.Count(), vals[0], vals[len(vals)-1], len(vals))
	}
}

func TestHistogramEdgeCases(t *testing.T) {
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Fatal("empty histogram reports a value")
	}
	var h Histogram
	h.Record(-time.Second)   // clamped to 0
	h.Record(time.Hour * 24) // clamped to histMax
	if h.Min() != 0 || h.Max() != histMax {
		t.Fatalf("clamping: min %v max %v", h.Min(), h.Max())
	}
	if q := h.Quantile(2); q != histMax {
		t.Fatalf("Quantile(2) = %v, want the max", q)
	}
}

func TestHistogramSurvivesTheWireAndMerges(t *testing.T) {
	var a, b Histogram
	for i := range 1000 {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i) * time.Millisecond)
	}
	got, ok := a.wire().histogram()
	if !ok || *got != a {
		t.Fatal("histogram changed crossing the wire")
	}
	if _, ok := (histWire{Buckets: [][2]uint64{{histBuckets, 1}}}).histogram(); ok {
		t.Fatal("an out-of-range bucket was accepted")
	}
	got.Merge(&b)
	if got.Count() != 2000 || got.Min() != 0 || got.Max() != 999*time.Millisecond {
		t.Fatalf("merged: count %d min %v max %v", got.Count(), got.Min(), got.Max())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := range b.N {
		h.Record(time.Duration(i&0xfffff) * 100)
	}
}
