package stats

import (
	"testing"
	"time"
)

func TestRequestSlots(t *testing.T) {
	c := NewCounters()
	c.Request(HTTP1, "GET", 200, 3*time.Millisecond, 0, 13)
	c.Request(HTTP1, "GET", 204, 7*time.Millisecond, 0, 0)
	c.Request(H2, "POST", 503, 2*time.Second, 100, 20)
	c.Request(UWSGI, "BREW", 999, 20*time.Second, -1, 5)
	s := c.Snapshot(3)
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"GET 2xx http1", s.Requests(0, 1, HTTP1), 2},
		{"POST 5xx h2", s.Requests(2, 4, H2), 1},
		{"unknown method and status count as _OTHER 5xx", s.Requests(9, 4, UWSGI), 1},
		{"status 200", s.Status(200), 1},
		{"status 204", s.Status(204), 1},
		{"status out of range not counted", s.Status(999), 0},
		{"5 ms bucket", s.Bucket(HTTP1, 0), 1},
		{"10 ms bucket", s.Bucket(HTTP1, 1), 1},
		{"2.5 s bucket", s.Bucket(H2, 10), 1},
		{"+Inf bucket", s.Bucket(UWSGI, len(DurationBuckets)), 1},
		{"duration sum", s.DurationSum(HTTP1), uint64(10 * time.Millisecond)},
		{"request bytes", s.RequestBytes(H2), 100},
		{"negative bytes ignored", s.RequestBytes(UWSGI), 0},
		{"response bytes", s.ResponseBytes(HTTP1), 13},
		{"total", s.TotalRequests(), 4},
		{"in flight", uint64(s.InFlight()), 3},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestBucketBoundsInclusive(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{5 * time.Millisecond, 0},
		{5*time.Millisecond + 1, 1},
		{10 * time.Second, len(DurationBuckets) - 1},
		{10*time.Second + 1, len(DurationBuckets)},
	}
	for _, tt := range tests {
		if got := bucketIndex(tt.d); got != tt.want {
			t.Errorf("bucketIndex(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestNilCountersCountNothing(t *testing.T) {
	var c *Counters
	c.Request(HTTP1, "GET", 200, time.Millisecond, 1, 1)
	c.Rejected(400)
	c.PoolRejected()
	c.TimedOut(TimeoutCut)
	c.ConnOpened(HTTP1)
	c.ConnUpgraded()
	c.ConnClosed(H2)
	if s := c.Snapshot(0); s.TotalRequests() != 0 {
		t.Fatal("nil counters counted")
	}
}

func TestConnectionGauges(t *testing.T) {
	c := NewCounters()
	c.ConnOpened(HTTP1)
	c.ConnOpened(HTTP1)
	c.ConnUpgraded()
	c.ConnOpened(UWSGI)
	c.ConnClosed(UWSGI)
	s := c.Snapshot(0)
	if s.OpenConns(HTTP1) != 1 || s.OpenConns(H2) != 1 || s.OpenConns(UWSGI) != 0 {
		t.Fatalf("open conns http1=%d h2=%d uwsgi=%d", s.OpenConns(HTTP1), s.OpenConns(H2), s.OpenConns(UWSGI))
	}
	if s.Accepted(HTTP1) != 2 || s.Accepted(H2) != 1 || s.Accepted(UWSGI) != 1 {
		t.Fatal("accepted counts wrong")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	c := NewCounters()
	c.Request(H2, "DELETE", 404, time.Second, 7, 9)
	c.Rejected(431)
	c.TimedOut(TimeoutAnswered)
	c.ConnOpened(UWSGI)
	s := c.Snapshot(2)
	b := s.AppendEncoded(nil)
	if len(b) > MaxEncodedSize {
		t.Fatalf("encoded %d bytes, bound %d", len(b), MaxEncodedSize)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Fatal("round trip changed the sample")
	}
	var full Sample
	for i := range full.v {
		full.v[i] = ^uint64(0)
	}
	if n := len(full.AppendEncoded(nil)); n != MaxEncodedSize {
		t.Fatalf("full sample encodes to %d bytes, MaxEncodedSize %d", n, MaxEncodedSize)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown version", []byte{9}},
		{"torn entry", []byte{1, 0, 0, 1}},
		{"slot out of range", []byte{1, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0}},
		{"slots out of order", []byte{1, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.b); err == nil {
			t.Errorf("%s: decoded", tt.name)
		}
	}
}

func TestAggregateNeverGoesBackwards(t *testing.T) {
	a := NewAggregate()
	w1, w2 := NewCounters(), NewCounters()
	for range 3 {
		w1.Request(HTTP1, "GET", 200, time.Millisecond, 0, 1)
	}
	w2.Request(HTTP1, "GET", 500, time.Millisecond, 0, 1)
	w1.ConnOpened(HTTP1)
	s1, s2 := w1.Snapshot(1), w2.Snapshot(0)
	a.Report(1, &s1)
	a.Report(2, &s2)
	if tot := a.Total(); tot.TotalRequests() != 4 || tot.InFlight() != 1 || tot.OpenConns(HTTP1) != 1 {
		t.Fatalf("total %d in flight %d", tot.TotalRequests(), tot.InFlight())
	}
	// A stale report (lower counters) does not lower the total.
	var stale Sample
	a.Report(1, &stale)
	if tot := a.Total(); tot.TotalRequests() != 4 {
		t.Fatalf("stale report lowered the total to %d", tot.TotalRequests())
	}
	// Worker 1 exits: its counters stay, its gauges go.
	a.Retire(1)
	tot := a.Total()
	if tot.TotalRequests() != 4 || tot.InFlight() != 0 || tot.OpenConns(HTTP1) != 0 {
		t.Fatalf("after exit: total %d in flight %d conns %d", tot.TotalRequests(), tot.InFlight(), tot.OpenConns(HTTP1))
	}
	if _, ok := a.Worker(1); ok {
		t.Fatal("retired worker still live")
	}
	// Its successor starts from zero; the total keeps growing.
	w3 := NewCounters()
	w3.Request(HTTP1, "GET", 200, time.Millisecond, 0, 1)
	s3 := w3.Snapshot(0)
	a.Report(3, &s3)
	if tot := a.Total(); tot.TotalRequests() != 5 || tot.Status(200) != 4 || tot.Status(500) != 1 {
		t.Fatalf("after restart: total %d", tot.TotalRequests())
	}
}

func FuzzDecode(f *testing.F) {
	c := NewCounters()
	c.Request(HTTP1, "GET", 200, time.Millisecond, 1, 2)
	s := c.Snapshot(1)
	f.Add(s.AppendEncoded(nil))
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(s.AppendEncoded(nil))
		if err != nil || again != s {
			t.Fatalf("re-encoding a decoded sample changed it: %v", err)
		}
	})
}

func BenchmarkRequest(b *testing.B) {
	c := NewCounters()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Request(HTTP1, "GET", 200, 300*time.Microsecond, 0, 13)
		}
	})
}
