package supervisor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"
	"unsafe"
)

// The heartbeat protocol: a worker writes records to a pipe the master reads. A
// record is a 16-byte header, followed for MessageStats by its payload. Only one
// goroutine of the worker writes at a time, so records never interleave.
//
//	byte 0     magic 'g'
//	byte 1     version 1
//	byte 2     kind (MessageReady, MessageBeat, MessageStats)
//	byte 3     zero
//	bytes 4-7  MessageStats: payload length, little endian; zero otherwise
//	bytes 8-15 requests served so far, little endian
const (
	messageSize    = 16
	messageMagic   = 'g'
	messageVersion = 1
	// MaxStatsSize bounds the payload of a MessageStats record.
	MaxStatsSize = 64 << 10
)

// MessageKind says what a heartbeat record reports.
type MessageKind uint8

const (
	// MessageReady: the worker serves its listeners.
	MessageReady MessageKind = 1
	// MessageBeat: the worker is healthy; Served is up to date.
	MessageBeat MessageKind = 2
	// MessageStats: a beat that also carries the worker's counters in Stats
	// (internal/stats wire format), sent instead of MessageBeat when the worker counts.
	MessageStats MessageKind = 3
)

// String names the kind for logs.
func (k MessageKind) String() string {
	switch k {
	case MessageReady:
		return "ready"
	case MessageBeat:
		return "beat"
	case MessageStats:
		return "stats"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Message is one decoded heartbeat record.
type Message struct {
	Kind   MessageKind
	Served uint64
	// Stats is the payload of a MessageStats record, opaque to the supervisor.
	Stats string
}

// errBadMessage wraps every decoding failure.
var errBadMessage = errors.New("bad heartbeat record")

// AppendMessage appends the record of m to b.
func AppendMessage(b []byte, m Message) []byte {
	var rec [messageSize]byte
	rec[0], rec[1], rec[2] = messageMagic, messageVersion, byte(m.Kind)
	if m.Kind == MessageStats {
		binary.LittleEndian.PutUint32(rec[4:], uint32(len(m.Stats)))
	}
	binary.LittleEndian.PutUint64(rec[8:], m.Served)
	b = append(b, rec[:]...)
	return append(b, m.Stats...)
}

// decodeHeader checks a record's header and returns its kind, served count and
// payload length.
func decodeHeader(rec []byte) (MessageKind, uint64, int, error) {
	if len(rec) < messageSize {
		return 0, 0, 0, fmt.Errorf("%w: %d bytes, want %d", errBadMessage, len(rec), messageSize)
	}
	if rec[0] != messageMagic || rec[1] != messageVersion {
		return 0, 0, 0, fmt.Errorf("%w: magic %#x version %d", errBadMessage, rec[0], rec[1])
	}
	k := MessageKind(rec[2])
	if k != MessageReady && k != MessageBeat && k != MessageStats {
		return 0, 0, 0, fmt.Errorf("%w: unknown kind %d", errBadMessage, rec[2])
	}
	n := binary.LittleEndian.Uint32(rec[4:8])
	if rec[3] != 0 || k != MessageStats && n != 0 {
		return 0, 0, 0, fmt.Errorf("%w: reserved bytes set", errBadMessage)
	}
	if n > MaxStatsSize {
		return 0, 0, 0, fmt.Errorf("%w: stats payload of %d bytes", errBadMessage, n)
	}
	return k, binary.LittleEndian.Uint64(rec[8:]), int(n), nil
}

// DecodeMessage decodes one whole record. It never panics: a short, long, foreign
// or unknown record is an error.
func DecodeMessage(rec []byte) (Message, error) {
	k, served, n, err := decodeHeader(rec)
	if err != nil {
		return Message{}, err
	}
	if len(rec) != messageSize+n {
		return Message{}, fmt.Errorf("%w: %d bytes, want %d", errBadMessage, len(rec), messageSize+n)
	}
	return Message{Kind: k, Served: served, Stats: string(rec[messageSize:])}, nil
}

// readMessages decodes records from r until it fails or ends, calling deliver for each.
// It returns nil at a clean end of stream (the worker closed its end or exited).
func readMessages(r io.Reader, deliver func(Message)) error {
	buf := make([]byte, messageSize, messageSize+1024)
	for {
		buf = buf[:messageSize]
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read heartbeat: %w", err)
		}
		_, _, n, err := decodeHeader(buf)
		if err != nil {
			return err
		}
		if n > 0 {
			buf = slices.Grow(buf, n)[:messageSize+n]
			if _, err := io.ReadFull(r, buf[messageSize:]); err != nil {
				return fmt.Errorf("read heartbeat stats: %w", err)
			}
		}
		m, err := DecodeMessage(buf)
		if err != nil {
			return err
		}
		deliver(m)
	}
}

// HeartbeatInterval is how often a worker reports for a given --timeout: a quarter of
// it (so a single late beat never trips the timeout), at most a second (so the master
// learns the served count promptly for --max-requests) and at least 10 ms.
func HeartbeatInterval(timeout time.Duration) time.Duration {
	const most, least = time.Second, 10 * time.Millisecond
	if timeout <= 0 || timeout/4 > most {
		return most
	}
	return max(timeout/4, least)
}

// ErrOrphaned is returned by Heartbeat.Run when the master is gone.
var ErrOrphaned = errors.New("master is gone")

// heartbeatWriteBound caps one write: a master that reads nothing for this long is as
// good as gone.
const heartbeatWriteBound = 5 * time.Second

// Heartbeat is the worker's end of the heartbeat pipe. Its methods are safe for one
// goroutine at a time.
type Heartbeat struct {
	f     *os.File
	buf   []byte
	stats func(dst []byte) []byte
	sbuf  []byte
}

// newHeartbeat adopts fd, switching it to non-blocking mode so that writes go through
// the runtime poller and can carry a deadline.
func newHeartbeat(fd int) (*Heartbeat, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("heartbeat fd %d: %w", fd, err)
	}
	return &Heartbeat{f: os.NewFile(uintptr(fd), "heartbeat"), buf: make([]byte, 0, messageSize)}, nil
}

// Ready tells the master the worker serves.
func (h *Heartbeat) Ready() error { return h.send(Message{Kind: MessageReady}) }

// Beat tells the master the worker is healthy and has served this many requests.
func (h *Heartbeat) Beat(served uint64) error {
	return h.send(Message{Kind: MessageBeat, Served: served})
}

// SetStats makes every later beat a MessageStats record carrying what stats
// appends (the worker's counters, internal/stats wire format, at most
// MaxStatsSize bytes). Call it before Run.
func (h *Heartbeat) SetStats(stats func(dst []byte) []byte) { h.stats = stats }

// Report sends a beat now: a MessageStats record when SetStats was called, else a
// MessageBeat. A worker sends one last report after its drain, so that the master
// counts every request it served.
func (h *Heartbeat) Report(served uint64) error {
	if h.stats == nil {
		return h.Beat(served)
	}
	h.sbuf = h.stats(h.sbuf[:0])
	if len(h.sbuf) > MaxStatsSize {
		return fmt.Errorf("heartbeat: stats of %d bytes exceed %d", len(h.sbuf), MaxStatsSize)
	}
	return h.send(Message{Kind: MessageStats, Served: served, Stats: unsafeString(h.sbuf)})
}

// Close closes the worker's end of the pipe.
func (h *Heartbeat) Close() error { return h.f.Close() }

func (h *Heartbeat) send(m Message) error {
	h.buf = AppendMessage(h.buf[:0], m)
	if err := h.f.SetWriteDeadline(time.Now().Add(heartbeatWriteBound)); err != nil {
		return fmt.Errorf("heartbeat deadline: %w", err)
	}
	if _, err := h.f.Write(h.buf); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return fmt.Errorf("heartbeat: %w", ErrOrphaned)
		}
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Run beats every interval while healthy() says so, reporting served(), until ctx ends
// (it returns nil) or the master is gone (it returns an error wrapping ErrOrphaned).
// A sick worker stays silent: that silence is what the master's --timeout catches.
// masterPID, when not zero, is compared with the parent pid at each beat, so an
// orphan notices even before its write fails.
func (h *Heartbeat) Run(ctx context.Context, interval time.Duration, masterPID int, healthy func() bool, served func() uint64) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if masterPID != 0 && os.Getppid() != masterPID {
			return fmt.Errorf("parent pid is %d, not %d: %w", os.Getppid(), masterPID, ErrOrphaned)
		}
		if !healthy() {
			continue
		}
		if err := h.Report(served()); err != nil {
			return err
		}
	}
}

// unsafeString views b as a string for the duration of one send, which copies it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
