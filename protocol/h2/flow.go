package h2

// MaxWindow is the largest flow-control window (RFC 9113 §6.9.1).
const MaxWindow = 1<<31 - 1

// Window is a send-side flow-control window (RFC 9113 §6.9): how many DATA octets may
// still be sent. It may go negative when the peer shrinks SETTINGS_INITIAL_WINDOW_SIZE.
type Window struct {
	n int64
}

// NewWindow returns a window holding n octets.
func NewWindow(n int32) Window { return Window{n: int64(n)} }

// Avail returns the octets that may be sent now, never less than 0.
func (w *Window) Avail() int {
	if w.n < 0 {
		return 0
	}
	return int(w.n)
}

// Size returns the window's value, which may be negative.
func (w *Window) Size() int64 { return w.n }

// Add grows (or, with a negative n, shrinks) the window. It reports false, leaving the
// window unchanged, when the result would exceed MaxWindow: a flow-control error.
func (w *Window) Add(n int64) bool {
	sum := w.n + n
	if sum > MaxWindow {
		return false
	}
	w.n = sum
	return true
}

// Take spends n octets. It reports false, leaving the window unchanged, when fewer than
// n are available.
func (w *Window) Take(n int) bool {
	if n < 0 || int64(n) > w.n {
		return false
	}
	w.n -= int64(n)
	return true
}

// minWindowRefresh is the smallest WINDOW_UPDATE increment sent while the peer still has
// room to send: batching keeps the number of WINDOW_UPDATE frames low.
const minWindowRefresh = 4 << 10

// inflow is a receive-side window: avail is what the peer may still send, unsent is
// what the consumer has freed but not yet announced with WINDOW_UPDATE.
type inflow struct {
	avail  int64
	unsent int64
}

func newInflow(n uint32) inflow { return inflow{avail: int64(n)} }

// take accounts n received octets; false means the peer overran the window.
func (f *inflow) take(n uint32) bool {
	if int64(n) > f.avail {
		return false
	}
	f.avail -= int64(n)
	return true
}

// give frees n consumed octets and returns the increment to announce now (0 to wait
// for more, so that updates stay batched).
func (f *inflow) give(n int) uint32 {
	f.unsent += int64(n)
	if f.unsent < minWindowRefresh && f.unsent < f.avail {
		return 0
	}
	if f.avail+f.unsent > MaxWindow {
		f.unsent = MaxWindow - f.avail
	}
	inc := f.unsent
	f.avail += inc
	f.unsent = 0
	return uint32(inc)
}
