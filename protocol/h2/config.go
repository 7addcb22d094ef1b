package h2

import "net/http"

// Config is what a server connection announces to its client and enforces.
// Zero fields take the defaults named on each.
type Config struct {
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS. Default 100.
	MaxConcurrentStreams uint32
	// InitialWindowSize is SETTINGS_INITIAL_WINDOW_SIZE: how much request body a stream
	// may have in flight before its handler reads it. Default 65535.
	InitialWindowSize uint32
	// MaxFrameSize is SETTINGS_MAX_FRAME_SIZE, the largest frame accepted. Default 16384.
	MaxFrameSize uint32
	// MaxHeaderListSize is SETTINGS_MAX_HEADER_LIST_SIZE, enforced while HPACK decodes.
	// A larger request is answered 431; a header block whose encoded size passes twice
	// this is a flood (GOAWAY ENHANCE_YOUR_CALM). Default 65536.
	MaxHeaderListSize uint32
	// ConnWindowSize is the connection-level receive window. Default 1 MiB.
	ConnWindowSize uint32
	// MaxContinuations caps the CONTINUATION frames of one header block. Default 64.
	MaxContinuations int
	// ControlBurst and ControlRate bound frames that cost work but carry no request
	// (PING, SETTINGS, PRIORITY, empty DATA and CONTINUATION, frames on closed streams,
	// unknown types): a burst, then ControlRate per second. Defaults 1000 and 1000.
	ControlBurst, ControlRate int
	// ResetBurst and ResetRate bound streams the client cancels before their response
	// ends, or that are refused (rapid reset, CVE-2023-44487). Defaults
	// 2*MaxConcurrentStreams (at least 200) and MaxConcurrentStreams (at least 100).
	ResetBurst, ResetRate int
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 100
	}
	if c.InitialWindowSize == 0 {
		c.InitialWindowSize = 65535
	}
	if c.InitialWindowSize > MaxWindow {
		c.InitialWindowSize = MaxWindow
	}
	if c.MaxFrameSize < MinMaxFrameSize {
		c.MaxFrameSize = MinMaxFrameSize
	}
	if c.MaxFrameSize > MaxMaxFrameSize {
		c.MaxFrameSize = MaxMaxFrameSize
	}
	if c.MaxHeaderListSize == 0 {
		c.MaxHeaderListSize = 65536
	}
	if c.ConnWindowSize < 65535 {
		c.ConnWindowSize = 1 << 20
	}
	if c.ConnWindowSize > MaxWindow {
		c.ConnWindowSize = MaxWindow
	}
	if c.MaxContinuations <= 0 {
		c.MaxContinuations = 64
	}
	if c.ControlBurst <= 0 {
		c.ControlBurst = 1000
	}
	if c.ControlRate <= 0 {
		c.ControlRate = 1000
	}
	if c.ResetBurst <= 0 {
		c.ResetBurst = max(200, 2*int(c.MaxConcurrentStreams))
	}
	if c.ResetRate <= 0 {
		c.ResetRate = max(100, int(c.MaxConcurrentStreams))
	}
	return c
}

// EventKind says what an Event reports.
type EventKind uint8

// The events Conn.Next reports.
const (
	// EventNone: the frame was handled inside Conn (its answer, if any, is in Output).
	EventNone EventKind = iota
	// EventRequest: a new stream's request head (Request, valid until the next call to
	// Next). EndStream means it has no body. The caller must call ReleaseStream(StreamID)
	// once its handler is done.
	EventRequest
	// EventData: request body bytes (Data, aliasing Next's input). The caller calls
	// ConsumeData as its handler reads them, which reopens the stream's window.
	EventData
	// EventTrailers: the request's trailers (Trailer); the request body is complete.
	EventTrailers
	// EventReset: the stream is closed by RST_STREAM, the client's (Remote) or the
	// server's own answer to a stream error (Code, Reason). Its handler should stop.
	EventReset
	// EventWindow: the send window of StreamID grew, or with StreamID 0 the connection's
	// or every stream's did: blocked DATA may go on.
	EventWindow
	// EventGoAway: the client sent GOAWAY (LastStreamID, Code, Data as debug data).
	EventGoAway
)

// Event is one thing Conn.Next reports to the caller.
type Event struct {
	Kind         EventKind
	StreamID     uint32
	EndStream    bool
	Data         []byte
	Request      *RequestHead
	Trailer      http.Header
	Code         ErrCode
	Remote       bool
	Reason       string
	LastStreamID uint32
}
