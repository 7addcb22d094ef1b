package h2

import (
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2/hpack"
)

// headerBlock is the header block being assembled across HEADERS and CONTINUATION.
type headerBlock struct {
	active    bool
	streamID  uint32
	endStream bool
	kind      blockKind
	// resetCode and reason are the stream error to answer once the block is decoded.
	resetCode ErrCode
	reason    string
	frames    int
	encoded   int
}

type blockKind uint8

const (
	blockRequest  blockKind = iota // a new stream
	blockTrailers                  // trailers of an open stream
	blockReset                     // decode to keep HPACK in sync, then reset the stream
	blockIgnore                    // decode and drop (a stream above our GOAWAY)
)

// Conn is the server side of one HTTP/2 connection: it consumes the client's bytes with
// Next and accumulates the server's frames, read with Output. It is not safe for
// concurrent use.
type Conn struct {
	cfg  Config
	peer PeerSettings

	out []byte
	err *ConnError

	prefaceDone  bool
	settingsSeen bool
	// maxClientID is the highest stream identifier the client has used.
	maxClientID uint32
	// goAwaySent is set once the server sent GOAWAY; streams above goAwayID are ignored.
	goAwaySent bool
	goAwayID   uint32
	// peerGoAway is set once the client sent GOAWAY.
	peerGoAway bool

	send    Window
	recv    inflow
	streams map[uint32]*stream
	free    []*stream
	// recentResets remembers the last streams the server reset, whose in-flight frames
	// are ignored rather than answered (RFC 9113 §5.1, closed).
	recentResets [8]uint32
	resetPos     int

	block   headerBlock
	list    headerList
	dec     *hpack.Decoder
	enc     *hpack.Encoder
	encBuf  appendWriter
	head    RequestHead
	lowered map[string]string

	origin  time.Time
	now     time.Time
	control meter
	resets  meter
}

// NewConn returns a server connection whose preface (SETTINGS, and a WINDOW_UPDATE
// that opens the connection window to cfg.ConnWindowSize) is already in Output.
func NewConn(cfg Config) *Conn {
	cfg = cfg.withDefaults()
	c := &Conn{
		cfg:     cfg,
		peer:    DefaultPeerSettings(),
		send:    NewWindow(65535),
		recv:    newInflow(65535),
		streams: make(map[uint32]*stream),
		control: newMeter(cfg.ControlBurst, cfg.ControlRate),
		resets:  newMeter(cfg.ResetBurst, cfg.ResetRate),
	}
	c.dec = hpack.NewDecoder(4096, c.onField)
	// A literal cannot be longer than the block that carries it, which feedBlock bounds.
	c.dec.SetMaxStringLength(2 * int(cfg.MaxHeaderListSize))
	c.enc = hpack.NewEncoder(&c.encBuf)
	c.out = AppendSettings(c.out,
		Setting{SettingMaxConcurrentStreams, cfg.MaxConcurrentStreams},
		Setting{SettingInitialWindowSize, cfg.InitialWindowSize},
		Setting{SettingMaxFrameSize, cfg.MaxFrameSize},
		Setting{SettingMaxHeaderListSize, cfg.MaxHeaderListSize},
		Setting{SettingEnablePush, 0},
	)
	if inc := cfg.ConnWindowSize - 65535; inc > 0 {
		c.out = AppendWindowUpdate(c.out, 0, inc)
		c.recv.avail += int64(inc)
	}
	return c
}

// Upgrade applies the HTTP2-Settings of an "Upgrade: h2c" request (already
// base64url-decoded) and opens stream 1, half-closed (remote), for that request's
// response (RFC 7540 §3.2). The caller then calls ReleaseStream(1) like for any request.
func (c *Conn) Upgrade(settings []byte) error {
	if len(settings)%6 != 0 {
		return c.fail(ErrCodeProtocol, "HTTP2-Settings length is not a multiple of 6")
	}
	if err := c.applySettings(settings); err != nil {
		return err
	}
	s := c.newStream(1)
	s.remoteClosed = true
	s.held = true
	c.maxClientID = 1
	return nil
}

// Err returns the connection error that ended the connection, or nil.
func (c *Conn) Err() *ConnError { return c.err }

// Output returns the frames waiting to be written, in order.
func (c *Conn) Output() []byte { return c.out }

// ClearOutput forgets the frames Output returned, once the caller has written them.
func (c *Conn) ClearOutput() {
	if cap(c.out) > 1<<20 {
		c.out = nil
		return
	}
	c.out = c.out[:0]
}

// ActiveStreams returns how many streams hold a concurrency slot.
func (c *Conn) ActiveStreams() int { return len(c.streams) }

// Draining reports whether no new stream will be served: GOAWAY went either way, or the
// stream identifiers are exhausted. The connection can close once ActiveStreams is 0.
func (c *Conn) Draining() bool {
	return c.goAwaySent || c.peerGoAway || c.err != nil
}

// PeerMaxFrameSize returns the client's SETTINGS_MAX_FRAME_SIZE.
func (c *Conn) PeerMaxFrameSize() uint32 { return c.peer.MaxFrameSize }

// Next consumes the client's bytes at the start of in: the connection preface, or one
// frame. It returns n == 0 (and EventNone) when in holds no whole frame yet. now is the
// caller's clock, used only by the flood meters. A *ConnError ends the connection: its
// GOAWAY is already in Output, and every later call returns the same error.
func (c *Conn) Next(in []byte, now time.Time) (ev Event, n int, err error) {
	if c.err != nil {
		return ev, 0, c.err
	}
	if !c.prefaceDone {
		m := min(len(in), len(ClientPreface))
		if string(in[:m]) != ClientPreface[:m] {
			return ev, 0, c.fail(ErrCodeProtocol, "invalid connection preface")
		}
		if m < len(ClientPreface) {
			return ev, 0, nil
		}
		c.prefaceDone = true
		return ev, len(ClientPreface), nil
	}
	f, n, ferr := ReadFrame(in, c.cfg.MaxFrameSize)
	if ferr != nil {
		if se, ok := ferr.(*StreamError); ok && !c.block.active {
			c.now = now
			return c.streamFailed(se.StreamID, se.Code, se.Reason), n, nil
		}
		ce, ok := ferr.(*ConnError)
		if !ok {
			ce = connError(ErrCodeProtocol, ferr.Error())
		}
		return ev, 0, c.fail(ce.Code, ce.Reason)
	}
	if n == 0 {
		return ev, 0, nil
	}
	c.now = now
	if c.origin.IsZero() {
		c.origin = now
	}
	ev, err = c.handle(&f)
	if err != nil {
		return Event{}, 0, err
	}
	return ev, n, nil
}

// fail records a connection error and queues its GOAWAY.
func (c *Conn) fail(code ErrCode, reason string) *ConnError {
	if c.err == nil {
		c.err = connError(code, reason)
		c.out = AppendGoAway(c.out, c.maxClientID, code, []byte(reason))
	}
	return c.err
}

func (c *Conn) handle(f *Frame) (Event, error) {
	if c.block.active && f.Type != FrameContinuation {
		return Event{}, c.fail(ErrCodeProtocol, f.Type.String()+" frame inside a header block")
	}
	if !c.settingsSeen {
		if f.Type != FrameSettings || f.Flags.Has(FlagAck) {
			return Event{}, c.fail(ErrCodeProtocol, "connection preface not followed by SETTINGS")
		}
		c.settingsSeen = true
	}
	switch f.Type {
	case FrameData:
		return c.onData(f)
	case FrameHeaders:
		return c.onHeaders(f)
	case FrameContinuation:
		return c.onContinuation(f)
	case FramePriority:
		if err := c.chargeControl(); err != nil {
			return Event{}, err
		}
		if f.Priority.StreamDep == f.StreamID {
			return c.streamFailed(f.StreamID, ErrCodeProtocol, "stream depends on itself"), nil
		}
		return Event{}, nil
	case FrameRSTStream:
		return c.onRSTStream(f)
	case FrameSettings:
		return c.onSettings(f)
	case FramePushPromise:
		return Event{}, c.fail(ErrCodeProtocol, "PUSH_PROMISE from a client")
	case FramePing:
		if f.Flags.Has(FlagAck) {
			return Event{}, nil
		}
		if err := c.chargeControl(); err != nil {
			return Event{}, err
		}
		c.out = AppendPing(c.out, true, f.Ping)
		return Event{}, nil
	case FrameGoAway:
		c.peerGoAway = true
		return Event{Kind: EventGoAway, LastStreamID: f.LastStreamID, Code: f.ErrCode, Data: f.Data}, nil
	case FrameWindowUpdate:
		return c.onWindowUpdate(f)
	default:
		// RFC 9113 §5.5: unknown frame types are ignored (outside header blocks).
		return Event{}, c.chargeControl()
	}
}

func (c *Conn) nowNanos() int64 { return int64(c.now.Sub(c.origin)) }

// chargeControl counts one frame against the control-frame flood meter.
func (c *Conn) chargeControl() error {
	if !c.control.allow(c.nowNanos()) {
		return c.fail(ErrCodeEnhanceYourCalm, "flood of control frames")
	}
	return nil
}

// chargeReset counts one cancelled or refused stream against the rapid-reset meter.
func (c *Conn) chargeReset() error {
	if !c.resets.allow(c.nowNanos()) {
		return c.fail(ErrCodeEnhanceYourCalm, "rapid reset: too many streams cancelled or refused")
	}
	return nil
}

func (c *Conn) onData(f *Frame) (Event, error) {
	id := f.StreamID
	if id > c.maxClientID {
		return Event{}, c.fail(ErrCodeProtocol, "DATA frame on an idle stream")
	}
	if !c.recv.take(f.Length) {
		return Event{}, c.fail(ErrCodeFlowControl, "DATA exceeds the connection window")
	}
	// The connection window bounds nothing the stream windows do not already bound,
	// so it is reopened as soon as the bytes arrive.
	c.giveConn(int(f.Length))
	s := c.streams[id]
	if s == nil || s.remoteClosed {
		if err := c.chargeControl(); err != nil {
			return Event{}, err
		}
		if c.recentlyReset(id) {
			return Event{}, nil
		}
		return c.streamFailed(id, ErrCodeStreamClosed, "DATA frame on a closed stream"), nil
	}
	if !s.recv.take(f.Length) {
		return c.streamFailed(id, ErrCodeFlowControl, "DATA exceeds the stream window"), nil
	}
	if pad := int(f.Length) - len(f.Data); pad > 0 {
		c.giveStream(s, pad)
	}
	end := f.Flags.Has(FlagEndStream)
	if len(f.Data) == 0 && !end {
		if err := c.chargeControl(); err != nil {
			return Event{}, err
		}
	}
	s.receivedLen += int64(len(f.Data))
	if s.declaredLen >= 0 && (s.receivedLen > s.declaredLen || end && s.receivedLen != s.declaredLen) {
		return c.streamFailed(id, ErrCodeProtocol, "request body length differs from content-length"), nil
	}
	if end {
		c.closeRemote(s)
	}
	return Event{Kind: EventData, StreamID: id, Data: f.Data, EndStream: end}, nil
}

func (c *Conn) onHeaders(f *Frame) (Event, error) {
	id := f.StreamID
	if id%2 == 0 {
		return Event{}, c.fail(ErrCodeProtocol, "HEADERS on an even (server) stream identifier")
	}
	c.block = headerBlock{active: true, streamID: id, endStream: f.Flags.Has(FlagEndStream), frames: 1}
	if s := c.streams[id]; s != nil {
		switch {
		case s.remoteClosed:
			return Event{}, c.fail(ErrCodeStreamClosed, "HEADERS frame on a closed stream")
		case !c.block.endStream:
			c.block.kind, c.block.resetCode, c.block.reason = blockReset, ErrCodeProtocol, "trailers without END_STREAM"
		default:
			c.block.kind = blockTrailers
		}
	} else {
		if id <= c.maxClientID {
			return Event{}, c.fail(ErrCodeStreamClosed, "HEADERS frame on a closed stream")
		}
		c.maxClientID = id
		switch {
		case c.goAwaySent && id > c.goAwayID:
			c.block.kind = blockIgnore
		case uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams:
			c.block.kind, c.block.resetCode, c.block.reason = blockReset, ErrCodeRefusedStream, "concurrent stream limit reached"
			if err := c.chargeReset(); err != nil {
				return Event{}, err
			}
		default:
			c.block.kind = blockRequest
		}
	}
	if f.Flags.Has(FlagPriority) && f.Priority.StreamDep == id && c.block.kind != blockIgnore {
		c.block.kind, c.block.resetCode, c.block.reason = blockReset, ErrCodeProtocol, "stream depends on itself"
	}
	c.list.reset()
	c.dec.SetEmitEnabled(true)
	return c.feedBlock(f.Data, f.Flags.Has(FlagEndHeaders))
}

func (c *Conn) onContinuation(f *Frame) (Event, error) {
	if !c.block.active || f.StreamID != c.block.streamID {
		return Event{}, c.fail(ErrCodeProtocol, "CONTINUATION frame without a header block to continue")
	}
	c.block.frames++
	if c.block.frames > c.cfg.MaxContinuations+1 {
		return Event{}, c.fail(ErrCodeEnhanceYourCalm, "flood of CONTINUATION frames")
	}
	end := f.Flags.Has(FlagEndHeaders)
	if len(f.Data) == 0 && !end {
		if err := c.chargeControl(); err != nil {
			return Event{}, err
		}
	}
	return c.feedBlock(f.Data, end)
}

// feedBlock decodes one fragment as it arrives, so that a block is never buffered whole;
// onField keeps the decoded list within MaxHeaderListSize.
func (c *Conn) feedBlock(frag []byte, end bool) (Event, error) {
	c.block.encoded += len(frag)
	if uint64(c.block.encoded) > 2*uint64(c.cfg.MaxHeaderListSize) {
		return Event{}, c.fail(ErrCodeEnhanceYourCalm, "header block larger than twice SETTINGS_MAX_HEADER_LIST_SIZE")
	}
	if _, err := c.dec.Write(frag); err != nil {
		return Event{}, c.fail(ErrCodeCompression, "HPACK: "+err.Error())
	}
	if !end {
		return Event{}, nil
	}
	if err := c.dec.Close(); err != nil {
		return Event{}, c.fail(ErrCodeCompression, "HPACK: "+err.Error())
	}
	c.block.active = false
	return c.endBlock()
}

// onField is the HPACK decoder's emit function: it keeps the field while the list fits
// MaxHeaderListSize and stops emitting (the decoder still runs, so that its dynamic
// table stays in step with the client's) once it does not.
func (c *Conn) onField(f hpack.HeaderField) {
	size := uint64(len(f.Name)) + uint64(len(f.Value)) + 32
	if uint64(c.list.size)+size > uint64(c.cfg.MaxHeaderListSize) {
		c.list.truncated = true
		c.list.size = c.cfg.MaxHeaderListSize
		c.dec.SetEmitEnabled(false)
		return
	}
	c.list.size += uint32(size)
	c.list.fields = append(c.list.fields, f)
}

func (c *Conn) endBlock() (Event, error) {
	b := &c.block
	id := b.streamID
	switch b.kind {
	case blockIgnore:
		return Event{}, nil
	case blockReset:
		return c.streamFailed(id, b.resetCode, b.reason), nil
	case blockTrailers:
		s := c.streams[id]
		if c.list.truncated {
			return c.streamFailed(id, ErrCodeProtocol, "trailers larger than SETTINGS_MAX_HEADER_LIST_SIZE"), nil
		}
		trailer, reason := parseTrailers(c.list.fields)
		if reason != "" {
			return c.streamFailed(id, ErrCodeProtocol, string(reason)), nil
		}
		if s.declaredLen >= 0 && s.receivedLen != s.declaredLen {
			return c.streamFailed(id, ErrCodeProtocol, "request body length differs from content-length"), nil
		}
		c.closeRemote(s)
		return Event{Kind: EventTrailers, StreamID: id, Trailer: trailer, EndStream: true}, nil
	}
	if c.list.truncated {
		c.writeStatusOnly(id, http.StatusRequestHeaderFieldsTooLarge, b.endStream)
		return Event{Kind: EventReset, StreamID: id, Code: ErrCodeNo, Reason: "request header list larger than SETTINGS_MAX_HEADER_LIST_SIZE (431)"}, nil
	}
	if reason := parseRequest(c.list.fields, &c.head); reason != "" {
		return c.streamFailed(id, ErrCodeProtocol, "malformed request: "+string(reason)), nil
	}
	if b.endStream && c.head.ContentLength > 0 {
		return c.streamFailed(id, ErrCodeProtocol, "request body length differs from content-length"), nil
	}
	s := c.newStream(id)
	s.held = true
	s.declaredLen = c.head.ContentLength
	if b.endStream {
		s.remoteClosed = true
	}
	if id == MaxStreamID {
		// The client cannot open another stream: tell it to use a new connection.
		c.GoAway(ErrCodeNo, "stream identifiers exhausted")
	}
	return Event{Kind: EventRequest, StreamID: id, Request: &c.head, EndStream: b.endStream}, nil
}

// writeStatusOnly answers a request the server refuses to read with a bare status and,
// when the request is still open, RST_STREAM NO_ERROR (RFC 9113 §8.1).
func (c *Conn) writeStatusOnly(id uint32, status int, endStream bool) {
	c.encBuf.b = c.encBuf.b[:0]
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: strconv.Itoa(status)})
	c.out = AppendHeaderBlock(c.out, id, true, c.encBuf.b, c.peer.MaxFrameSize)
	if !endStream {
		c.out = AppendRSTStream(c.out, id, ErrCodeNo)
		c.rememberReset(id)
	}
}

func (c *Conn) onRSTStream(f *Frame) (Event, error) {
	id := f.StreamID
	if id > c.maxClientID {
		return Event{}, c.fail(ErrCodeProtocol, "RST_STREAM frame on an idle stream")
	}
	s := c.streams[id]
	if s == nil || s.reset {
		return Event{}, nil
	}
	if !s.localClosed {
		// The client cancelled a stream whose response was still being produced.
		if err := c.chargeReset(); err != nil {
			return Event{}, err
		}
	}
	s.reset, s.remoteClosed, s.localClosed = true, true, true
	c.maybeForget(s)
	return Event{Kind: EventReset, StreamID: id, Code: f.ErrCode, Remote: true}, nil
}

func (c *Conn) onSettings(f *Frame) (Event, error) {
	if f.Flags.Has(FlagAck) {
		return Event{}, nil
	}
	if err := c.chargeControl(); err != nil {
		return Event{}, err
	}
	before := c.peer.InitialWindowSize
	if err := c.applySettings(f.Data); err != nil {
		return Event{}, err
	}
	c.out = AppendSettingsAck(c.out)
	if c.peer.InitialWindowSize > before {
		return Event{Kind: EventWindow}, nil
	}
	return Event{}, nil
}

// applySettings validates and applies a SETTINGS payload in order.
func (c *Conn) applySettings(p []byte) error {
	initial := int64(c.peer.InitialWindowSize)
	for ; len(p) >= 6; p = p[6:] {
		s := Setting{ID: SettingID(uint16(p[0])<<8 | uint16(p[1])), Val: uint32(p[2])<<24 | uint32(p[3])<<16 | uint32(p[4])<<8 | uint32(p[5])}
		if err := s.Valid(); err != nil {
			return c.fail(err.Code, err.Reason)
		}
		switch s.ID {
		case SettingHeaderTableSize:
			c.peer.HeaderTableSize = s.Val
			c.enc.SetMaxDynamicTableSizeLimit(min(s.Val, 4096))
		case SettingInitialWindowSize:
			c.peer.InitialWindowSize = s.Val
		case SettingMaxFrameSize:
			c.peer.MaxFrameSize = s.Val
		case SettingMaxHeaderListSize:
			c.peer.MaxHeaderListSize = s.Val
		}
	}
	// Only the net change matters to the windows: intermediate values are never seen
	// by a frame (RFC 9113 §6.9.2).
	if delta := int64(c.peer.InitialWindowSize) - initial; delta != 0 {
		for _, s := range c.streams {
			if !s.send.Add(delta) {
				return c.fail(ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window")
			}
		}
	}
	return nil
}

func (c *Conn) onWindowUpdate(f *Frame) (Event, error) {
	id := f.StreamID
	if id == 0 {
		if f.Increment == 0 {
			return Event{}, c.fail(ErrCodeProtocol, "WINDOW_UPDATE with a zero increment")
		}
		if !c.send.Add(int64(f.Increment)) {
			return Event{}, c.fail(ErrCodeFlowControl, "WINDOW_UPDATE overflows the connection window")
		}
		return Event{Kind: EventWindow}, nil
	}
	if id > c.maxClientID {
		return Event{}, c.fail(ErrCodeProtocol, "WINDOW_UPDATE frame on an idle stream")
	}
	s := c.streams[id]
	if s == nil || s.localClosed {
		return Event{}, nil
	}
	if f.Increment == 0 {
		return c.streamFailed(id, ErrCodeProtocol, "WINDOW_UPDATE with a zero increment"), nil
	}
	if !s.send.Add(int64(f.Increment)) {
		return c.streamFailed(id, ErrCodeFlowControl, "WINDOW_UPDATE overflows the stream window"), nil
	}
	return Event{Kind: EventWindow, StreamID: id}, nil
}

// streamFailed answers a stream error with RST_STREAM and closes the stream; the caller
// learns of it through EventReset.
func (c *Conn) streamFailed(id uint32, code ErrCode, reason string) Event {
	c.out = AppendRSTStream(c.out, id, code)
	c.rememberReset(id)
	if s := c.streams[id]; s != nil {
		s.reset, s.remoteClosed, s.localClosed = true, true, true
		c.maybeForget(s)
	}
	return Event{Kind: EventReset, StreamID: id, Code: code, Reason: reason}
}

func (c *Conn) rememberReset(id uint32) {
	c.recentResets[c.resetPos] = id
	c.resetPos = (c.resetPos + 1) % len(c.recentResets)
}

func (c *Conn) recentlyReset(id uint32) bool {
	for _, r := range c.recentResets {
		if r == id {
			return true
		}
	}
	return false
}

func (c *Conn) newStream(id uint32) *stream {
	var s *stream
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		s = new(stream)
	}
	*s = stream{
		id:          id,
		send:        NewWindow(int32(c.peer.InitialWindowSize)),
		recv:        newInflow(c.cfg.InitialWindowSize),
		declaredLen: -1,
	}
	c.streams[id] = s
	return s
}

func (c *Conn) closeRemote(s *stream) {
	s.remoteClosed = true
	c.maybeForget(s)
}

// maybeForget drops a stream that is closed both ways and released by the caller.
func (c *Conn) maybeForget(s *stream) {
	if s.held || !s.closed() {
		return
	}
	delete(c.streams, s.id)
	if len(c.free) < 16 {
		c.free = append(c.free, s)
	}
}

func (c *Conn) giveConn(n int) {
	if inc := c.recv.give(n); inc > 0 {
		c.out = AppendWindowUpdate(c.out, 0, inc)
	}
}

func (c *Conn) giveStream(s *stream, n int) {
	if s.remoteClosed {
		return
	}
	if inc := s.recv.give(n); inc > 0 {
		c.out = AppendWindowUpdate(c.out, s.id, inc)
	}
}

// appendWriter is the io.Writer the HPACK encoder writes into.
type appendWriter struct{ b []byte }

// Write appends p; it never fails.
func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
