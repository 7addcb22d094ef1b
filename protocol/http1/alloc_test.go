package http1

import (
	"context"
	"testing"

	"github.com/gonicorn/gonicorn/internal/reqmem"
)

// NewRequestIn's allocations: one copy of the head, the header map (two
// allocations up to 8 fields, four above), and the *http.Request; the URL and
// up to reqmem.Values header values live in the Memory.
func TestNewRequestInAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	for _, tc := range []struct {
		name, head string
		max        float64
	}{
		{"small", "GET /hello?x=1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n", 4},
		{"browser", benchRequest, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.head)
			var p Parser
			var req Request
			if n, err := p.Parse(in, &req); n != len(in) || err != nil {
				t.Fatalf("Parse = %d, %v", n, err)
			}
			mem := new(reqmem.Memory)
			n := testing.AllocsPerRun(100, func() {
				*mem = reqmem.Memory{}
				if _, err := NewRequestIn(context.Background(), in, &req, mem); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Fatalf("NewRequestIn allocated %v times, want at most %v", n, tc.max)
			}
		})
	}
}
