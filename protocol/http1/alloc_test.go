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

// Parsing allocates nothing once a connection's Parser and Request are in use,
// and on a new connection only the field list (the field index of up to
// inlineSpans fields lives in the Parser), and the field index past that.
func TestParseAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	six := "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"
	for _, tc := range []struct {
		name, head string
		fresh      float64 // a new Parser and Request per head
		reused     float64 // one Parser and Request, Reset between heads
	}{
		{"three fields", "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\nConnection: close\r\n\r\n", 1, 0},
		{"six fields", six, 1, 0},
		{"browser, eight fields", benchRequest, 2, 0},
		{"twelve fields", six[:len(six)-2] + "G: 7\r\nH: 8\r\nI: 9\r\nJ: 10\r\nK: 11\r\nL: 12\r\n\r\n", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.head)
			fresh := testing.AllocsPerRun(100, func() {
				p := new(Parser)
				req := new(Request)
				if n, err := p.Parse(in, req); n != len(in) || err != nil {
					t.Fatalf("Parse = %d, %v", n, err)
				}
				sinkFields = req.Fields
			})
			// new(Parser) and new(Request) themselves: the engine allocates them
			// with its connection.
			if fresh -= 2; fresh > tc.fresh {
				t.Errorf("a new Parser allocated %v times besides itself, want at most %v", fresh, tc.fresh)
			}
			var p Parser
			var req Request
			reused := testing.AllocsPerRun(100, func() {
				p.Reset()
				if n, err := p.Parse(in, &req); n != len(in) || err != nil {
					t.Fatalf("Parse = %d, %v", n, err)
				}
			})
			if reused > tc.reused {
				t.Errorf("a reused Parser allocated %v times, want at most %v", reused, tc.reused)
			}
		})
	}
}

var sinkFields []Field
