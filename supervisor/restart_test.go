package supervisor

import (
	"bytes"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/config"
)

// goneLog records what the herd tells its gone callback.
type goneLog struct{ reasons []string }

func (g *goneLog) gone(_ int, restart string) { g.reasons = append(g.reasons, restart) }

func TestHerdRestartReasons(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
		act    func(f *herdFixture)
		want   []string
	}{
		{"a worker that exits by itself crashed", nil, func(f *herdFixture) {
			f.exit(1, exitStatus{code: -1, signal: syscall.SIGKILL})
		}, []string{RestartCrash}},
		{"a silent worker timed out", nil, func(f *herdFixture) {
			f.advance(11 * time.Second)
			f.exit(1, exitStatus{code: 1})
			f.exit(2, exitStatus{code: 1})
		}, []string{RestartTimeout, RestartTimeout}},
		{"a worker past --max-requests", func(c *config.Config) { c.MaxRequests = 10 }, func(f *herdFixture) {
			f.h.onMessage(1, Message{Kind: MessageStats, Served: 10}, f.now)
			f.h.maintain(f.now)
			f.ready(3)
			f.exit(1, exitStatus{})
		}, []string{RestartMaxRequests}},
		{"a worker above --max-worker-memory", func(c *config.Config) { c.MaxWorkerMemory = 1 << 20 }, func(f *herdFixture) {
			f.os.rssOf[f.proc(1).pid] = 2 << 20
			f.advance(memoryCheckEvery)
			f.ready(3)
			f.exit(1, exitStatus{})
		}, []string{RestartMemory}},
		{"a reload replaces every worker", nil, func(f *herdFixture) {
			f.h.reload(f.h.cfg)
			f.h.maintain(f.now)
			f.ready(3, 4)
			f.exit(1, exitStatus{})
			f.exit(2, exitStatus{})
		}, []string{RestartReload, RestartReload}},
		{"TTOU and stop are not restarts", nil, func(f *herdFixture) {
			f.h.resize(-1)
			f.h.maintain(f.now)
			f.exit(1, exitStatus{})
			f.h.stop(true, f.now)
			f.exit(2, exitStatus{})
		}, []string{"", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.mutate)
			var g goneLog
			f.h.gone = g.gone
			f.ready(1, 2)
			tc.act(f)
			if !slices.Equal(g.reasons, tc.want) {
				t.Fatalf("restart reasons %q, want %q", g.reasons, tc.want)
			}
		})
	}
}

func TestStatsMessageRoundTrip(t *testing.T) {
	m := Message{Kind: MessageStats, Served: 42, Stats: "\x01payload"}
	b := AppendMessage(nil, m)
	if len(b) != messageSize+len(m.Stats) {
		t.Fatalf("record is %d bytes", len(b))
	}
	got, err := DecodeMessage(b)
	if err != nil || got != m {
		t.Fatalf("DecodeMessage = %+v, %v", got, err)
	}
	// In a stream, stats records sit between fixed-size ones.
	stream := AppendMessage(nil, Message{Kind: MessageReady})
	stream = append(stream, b...)
	stream = AppendMessage(stream, Message{Kind: MessageBeat, Served: 43})
	var all []Message
	if err := readMessages(bytesReader(stream), func(m Message) { all = append(all, m) }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[1] != m || all[2].Served != 43 {
		t.Fatalf("read %+v", all)
	}
}

func TestStatsMessageRejects(t *testing.T) {
	valid := AppendMessage(nil, Message{Kind: MessageStats, Served: 1, Stats: "abc"})
	tests := []struct {
		name string
		rec  []byte
	}{
		{"payload shorter than announced", valid[:len(valid)-1]},
		{"payload longer than announced", append(slices.Clone(valid), 'x')},
		{"length on a beat", func() []byte {
			b := AppendMessage(nil, Message{Kind: MessageBeat})
			b[4] = 1
			return append(b, 'x')
		}()},
		{"payload above the bound", func() []byte {
			b := slices.Clone(valid[:messageSize])
			b[4], b[5], b[6] = 0, 0, 2 // 128 KiB
			return b
		}()},
	}
	for _, tc := range tests {
		if _, err := DecodeMessage(tc.rec); err == nil {
			t.Errorf("%s: decoded", tc.name)
		}
	}
	// A stream announcing a payload it never sends is broken, not hung.
	if err := readMessages(bytesReader(valid[:messageSize+1]), func(Message) {}); err == nil {
		t.Fatal("a torn stats record was accepted")
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
