package supervisor_test

import (
	"fmt"
	"time"

	"github.com/gonicorn/gonicorn/supervisor"
)

// A worker's heartbeat is a stream of fixed-size records; the master decodes each.
func ExampleDecodeMessage() {
	rec := supervisor.AppendMessage(nil, supervisor.Message{Kind: supervisor.MessageBeat, Served: 1234})
	m, err := supervisor.DecodeMessage(rec)
	fmt.Println(len(rec), m.Kind, m.Served, err)

	_, err = supervisor.DecodeMessage([]byte("not a heartbeat!"))
	fmt.Println(err != nil)
	// Output:
	// 16 beat 1234 <nil>
	// true
}

// HeartbeatInterval keeps a worker well inside its --timeout.
func ExampleHeartbeatInterval() {
	for _, timeout := range []string{"30s", "2s", "0s"} {
		d, _ := time.ParseDuration(timeout)
		fmt.Println(timeout, "->", supervisor.HeartbeatInterval(d))
	}
	// Output:
	// 30s -> 1s
	// 2s -> 500ms
	// 0s -> 1s
}
