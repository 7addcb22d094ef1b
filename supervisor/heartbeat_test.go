package supervisor

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Kind: MessageReady},
		{Kind: MessageBeat, Served: 0},
		{Kind: MessageBeat, Served: 1<<64 - 1},
	} {
		b := AppendMessage(nil, m)
		if len(b) != messageSize {
			t.Fatalf("record of %+v is %d bytes", m, len(b))
		}
		got, err := DecodeMessage(b)
		if err != nil || got != m {
			t.Fatalf("DecodeMessage(AppendMessage(%+v)) = %+v, %v", m, got, err)
		}
	}
}

func TestDecodeMessageRejects(t *testing.T) {
	valid := AppendMessage(nil, Message{Kind: MessageBeat, Served: 7})
	with := func(i int, b byte) []byte {
		c := bytes.Clone(valid)
		c[i] = b
		return c
	}
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty record", nil},
		{"short record", valid[:15]},
		{"long record", append(bytes.Clone(valid), 0)},
		{"foreign magic", with(0, 'x')},
		{"future version", with(1, 2)},
		{"unknown kind", with(2, 9)},
		{"kind zero", with(2, 0)},
		{"reserved byte set", with(5, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeMessage(tc.rec); !errors.Is(err, errBadMessage) {
				t.Fatalf("DecodeMessage = %v, want errBadMessage", err)
			}
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(AppendMessage(nil, Message{Kind: MessageReady}))
	f.Add(AppendMessage(nil, Message{Kind: MessageBeat, Served: 12345}))
	f.Add([]byte("g\x01\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{})
	f.Add(AppendMessage(nil, Message{Kind: MessageStats, Served: 9, Stats: "\x01stats"}))
	f.Fuzz(func(t *testing.T, rec []byte) {
		m, err := DecodeMessage(rec)
		if err != nil {
			return
		}
		if again := AppendMessage(nil, m); !bytes.Equal(again, rec) {
			t.Fatalf("accepted %x but re-encodes as %x", rec, again)
		}
	})
}

func TestReadMessagesDeliversUntilEOF(t *testing.T) {
	var stream []byte
	stream = AppendMessage(stream, Message{Kind: MessageReady})
	stream = AppendMessage(stream, Message{Kind: MessageBeat, Served: 3})
	var got []Message
	if err := readMessages(bytes.NewReader(stream), func(m Message) { got = append(got, m) }); err != nil {
		t.Fatalf("readMessages: %v", err)
	}
	if len(got) != 2 || got[1].Served != 3 {
		t.Fatalf("got %+v", got)
	}
}

func TestReadMessagesStopsAtGarbage(t *testing.T) {
	stream := AppendMessage(nil, Message{Kind: MessageReady})
	stream = append(stream, bytes.Repeat([]byte{'z'}, messageSize)...)
	n := 0
	err := readMessages(bytes.NewReader(stream), func(Message) { n++ })
	if !errors.Is(err, errBadMessage) || n != 1 {
		t.Fatalf("readMessages = %v after %d messages, want errBadMessage after 1", err, n)
	}
	err = readMessages(io.MultiReader(bytes.NewReader(stream[:10])), func(Message) {})
	if err == nil {
		t.Fatal("a torn record was accepted")
	}
}

func TestHeartbeatInterval(t *testing.T) {
	tests := []struct {
		timeout, want time.Duration
	}{
		{0, time.Second},
		{30 * time.Second, time.Second},
		{4 * time.Second, time.Second},
		{2 * time.Second, 500 * time.Millisecond},
		{20 * time.Millisecond, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := HeartbeatInterval(tc.timeout); got != tc.want {
			t.Errorf("HeartbeatInterval(%v) = %v, want %v", tc.timeout, got, tc.want)
		}
		if tc.timeout > 0 && HeartbeatInterval(tc.timeout) > tc.timeout/2 && tc.timeout >= 40*time.Millisecond {
			t.Errorf("HeartbeatInterval(%v) is more than timeout/2", tc.timeout)
		}
	}
}
