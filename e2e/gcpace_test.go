package e2e

import (
	"strings"
	"testing"
	"time"
)

// Each worker starts the GC pacer its --gc-min-heap asks for (internal/gcpace
// tests the pacing itself): the default 32 MiB, another size, none at 0, and
// none under GOGC=off, which leaves the collector to GOMEMLIMIT.
func TestWorkerGCFloor(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string // the floor the worker logs; "" for no pacer
	}{
		{"default", nil, nil, `"gc_min_heap":33554432`},
		{"64M", nil, []string{"--gc-min-heap", "64M"}, `"gc_min_heap":67108864`},
		{"off", nil, []string{"--gc-min-heap", "0"}, ""},
		{"GOGC=off", []string{"GOGC=off"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startHerd(t, tc.env, append([]string{"-w", "1", "--log-level", "debug"}, tc.args...)...)
			h.waitReady(1, 30*time.Second)
			logs := h.p.Stderr()
			h.stop()
			got := strings.Contains(logs, "the heap goal is at least --gc-min-heap")
			if got != (tc.want != "") || tc.want != "" && !strings.Contains(logs, tc.want) {
				t.Fatalf("worker log, want pacer line %q (none when empty):\n%s", tc.want, logs)
			}
		})
	}
}
