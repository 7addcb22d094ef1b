package engine

import "testing"

func TestHighWaterSharesTheOutboundBudget(t *testing.T) {
	tests := []struct {
		waiting   int64
		high, low int
	}{
		{0, highWater, lowWater},
		{1, highWater, lowWater},
		{outboundBudget / highWater, highWater, lowWater},
		{outboundBudget / (128 << 10), 128 << 10, 32 << 10},
		{100000, minHighWater, minHighWater / 4},
	}
	for _, tt := range tests {
		var s Server
		s.waitingWriters.Store(tt.waiting)
		if h, l := s.highWaterNow(), s.lowWaterNow(); h != tt.high || l != tt.low {
			t.Errorf("%d waiting: high %d low %d, want %d %d", tt.waiting, h, l, tt.high, tt.low)
		}
	}
}
