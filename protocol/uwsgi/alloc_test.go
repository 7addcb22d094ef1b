package uwsgi

import (
	"context"
	"testing"

	"github.com/gonicorn/gonicorn/internal/reqmem"
)

// NewRequestIn's allocations: one buffer for every string, the header map (two
// allocations up to 8 fields, four above), and the *http.Request; the URL and
// up to reqmem.Values header values live in the Memory.
func TestNewRequestInAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	for _, tc := range []struct {
		name string
		buf  []byte
		max  float64
	}{
		// A percent-encoded path takes url.ParseRequestURI (its URL and the
		// unescaped path), and a repeated header grows its own value list.
		{"escaped target", readTestdata(t, "nginx_get.bin"), 8},
		{"browser", nginxGET("REQUEST_URI", "/api/items?page=2", "HTTP_HOST", "shop.example.test",
			"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64)", "HTTP_ACCEPT", "text/html,*/*;q=0.8",
			"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5", "HTTP_ACCEPT_ENCODING", "gzip, deflate, br",
			"HTTP_COOKIE", "session=0123456789abcdef", "HTTP_X_APP_TRACE", "abc-123"), 4},
		// Eight header fields and no body: the map is made for eight, small
		// (no room kept for the absent Content-Type and Content-Length).
		{"eight headers", nginxGET("REQUEST_URI", "/", "HTTP_HOST", "h",
			"HTTP_USER_AGENT", "ua", "HTTP_ACCEPT", "*/*", "HTTP_ACCEPT_LANGUAGE", "en",
			"HTTP_ACCEPT_ENCODING", "gzip", "HTTP_COOKIE", "a=b", "HTTP_X_APP_TRACE", "t",
			"HTTP_X_REQUEST_ID", "r", "HTTP_REFERER", "https://h/"), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if _, err := Parse(tc.buf, nil, &p); err != nil {
				t.Fatal(err)
			}
			mem := new(reqmem.Memory)
			n := testing.AllocsPerRun(100, func() {
				*mem = reqmem.Memory{}
				if _, err := NewRequestIn(context.Background(), &p, mem); err != nil {
					t.Fatal(err)
				}
			})
			if n > tc.max {
				t.Fatalf("NewRequestIn allocated %v times, want at most %v", n, tc.max)
			}
		})
	}
}
