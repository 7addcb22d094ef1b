package h2

import "testing"

func TestWindow(t *testing.T) {
	w := NewWindow(10)
	if !w.Take(4) || w.Avail() != 6 {
		t.Fatalf("take 4: avail %d", w.Avail())
	}
	if w.Take(7) {
		t.Fatal("took more than available")
	}
	if !w.Add(-10) || w.Avail() != 0 || w.Size() != -4 {
		t.Fatalf("negative window: avail %d size %d", w.Avail(), w.Size())
	}
	if w.Take(1) {
		t.Fatal("took from a negative window")
	}
	if !w.Add(MaxWindow+4) || w.Size() != MaxWindow {
		t.Fatalf("size %d, want max", w.Size())
	}
	if w.Add(1) || w.Size() != MaxWindow {
		t.Fatal("overflow accepted")
	}
}

func TestInflowBatchesUpdates(t *testing.T) {
	f := newInflow(65535)
	if !f.take(65535) || f.take(1) {
		t.Fatal("window accounting")
	}
	// With the window fully used, any consumption is announced: the peer is stalled.
	if inc := f.give(100); inc != 100 {
		t.Fatalf("give(100) on an exhausted window = %d", inc)
	}
	f = newInflow(65535)
	f.take(2000)
	// With room left, small consumptions wait until they add up to the refresh size.
	if inc := f.give(1000); inc != 0 {
		t.Fatalf("give(1000) = %d, want batching", inc)
	}
	if inc := f.give(minWindowRefresh); inc != 1000+minWindowRefresh {
		t.Fatalf("give = %d", inc)
	}
}
