package engine

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/panjf2000/gnet/v2"
)

// On a worker with no P beside its loops (Server.inline), a loop that readied a
// handler yields to it and writes the response when it resumes: the handler need
// not wake it. Gosched puts the loop on the scheduler's global queue, which the
// scheduler serves first one turn in 61 (fairness), before the handler readied on
// this P; the loop then yields once more. Before it did, about one uwsgi response
// in 60 cost a wake (an eventfd write, a task and another turn of the loop).
func TestYieldingLoopWritesWithoutAWake(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector randomizes which goroutine runs next")
	}
	// Registered before the server, so they run after it has stopped.
	prev := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	var wakes atomic.Int64
	final := onFinalWake
	onFinalWake = func(gc gnet.Conn, err error) error {
		wakes.Add(1)
		return final(gc, err)
	}
	t.Cleanup(func() { onFinalWake = final })

	cfg := testConfig()
	cfg.EventLoops = 1
	_, addr := serveOn(t, cfg, helloText(), "uwsgi")
	const requests = 3000
	rawClient(helloUWSGIPacket())(t, addr)(requests)
	// A handler preempted halfway (or one the collector's worker ran before)
	// still wakes the loop: allow a few in a thousand.
	if n := wakes.Load(); n*1000 > 3*requests {
		t.Fatalf("%d of %d responses woke the loop, want at most 3 in 1000", n, requests)
	}
}
