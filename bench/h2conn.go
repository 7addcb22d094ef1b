package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"golang.org/x/sys/unix"
)

// The h2c client speaks HTTP/2 with prior knowledge, as h2load does: the connection
// preface, SETTINGS, then up to Depth concurrent streams, each a HEADERS frame (and a
// DATA frame for a body). Frames are read and written with x/net/http2's Framer over
// the loop's own buffers, header blocks are coded with hpack, and the dynamic table is
// used as real clients use it.

const (
	// h2Window is the receive window the client opens for the connection and each
	// stream, so that flow control never throttles the server.
	h2Window = 1 << 30
	// h2MaxFrame is the largest frame the client accepts (the protocol's default).
	h2MaxFrame = 16384
)

type h2State uint8

const (
	h2Closed h2State = iota
	h2Connecting
	h2AwaitSettings // preface sent, the server's SETTINGS not yet seen
	h2Ready
)

// h2Stream is one request in flight on an h2Conn.
type h2Stream struct {
	id      uint32 // 0: the slot is free
	sentAt  int64
	status  int
	got     int // body bytes received
	badBody bool
	headers bool // the final response head has been seen
	ended   bool // END_STREAM came on a header block still being continued
}

// frameSource hands the Framer one complete frame that already sits in the read
// buffer.
type frameSource struct{ b []byte }

func (s *frameSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// outBuffer collects frames until the connection flushes them in one write.
type outBuffer struct{ b []byte }

func (o *outBuffer) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// h2Conn is one h2c connection carrying up to Depth concurrent streams.
type h2Conn struct {
	slot  int
	fd    int
	state h2State

	fr   *http2.Framer
	src  frameSource
	out  outBuffer
	wpos int

	enc    *hpack.Encoder
	block  bytes.Buffer
	fields []hpack.HeaderField
	dec    *hpack.Decoder
	cur    *h2Stream // the stream whose header block is being decoded

	buf        []byte
	rpos, rend int

	streams    []h2Stream
	active     int
	nextID     uint32
	maxStreams int   // the server's SETTINGS_MAX_CONCURRENT_STREAMS
	sendWindow int64 // the connection's send window, for request bodies
	peerWindow int64 // the server's SETTINGS_INITIAL_WINDOW_SIZE
	peerFrame  int   // the server's SETTINGS_MAX_FRAME_SIZE
	unacked    int64 // DATA bytes received and not yet returned by WINDOW_UPDATE
	fieldErr   error
}

func newH2Conn(l *loop, slot int) (*h2Conn, error) {
	c := &h2Conn{slot: slot, fd: -1, buf: make([]byte, 64<<10), streams: make([]h2Stream, l.spec.Depth)}
	c.fields = h2RequestFields(l.spec)
	if len(l.spec.Body) > h2MaxFrame {
		return nil, fmt.Errorf("bench: h2c request body of %d bytes exceeds one %d-byte frame", len(l.spec.Body), h2MaxFrame)
	}
	return c, nil
}

// h2RequestFields are the header fields of every request of spec.
func h2RequestFields(spec *loadSpec) []hpack.HeaderField {
	f := []hpack.HeaderField{
		{Name: ":method", Value: spec.Method},
		{Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: spec.Host},
		{Name: ":path", Value: spec.Path},
		{Name: "user-agent", Value: userAgent},
	}
	for _, kv := range spec.Header {
		f = append(f, hpack.HeaderField{Name: strings.ToLower(kv[0]), Value: kv[1]})
	}
	if len(spec.Body) > 0 || spec.Method == "POST" || spec.Method == "PUT" {
		f = append(f, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(spec.Body))})
	}
	return f
}

func (c *h2Conn) ready() bool { return c.state == h2Ready }

func (c *h2Conn) inflight() (int, int64) {
	oldest := int64(0)
	for i := range c.streams {
		if s := &c.streams[i]; s.id != 0 && (oldest == 0 || s.sentAt < oldest) {
			oldest = s.sentAt
		}
	}
	return c.active, oldest
}

func (c *h2Conn) open(l *loop) error {
	fd, err := startConnect(l.sa, l.family)
	if err != nil {
		return err
	}
	if err := l.ep.add(fd, c.slot); err != nil {
		unix.Close(fd)
		return err
	}
	c.fd, c.state = fd, h2Connecting
	c.fr = http2.NewFramer(&c.out, &c.src)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(h2MaxFrame)
	c.enc = hpack.NewEncoder(&c.block)
	c.dec = hpack.NewDecoder(4096, c.onField)
	c.nextID, c.maxStreams, c.sendWindow, c.peerWindow, c.peerFrame = 1, len(c.streams), 65535, 65535, h2MaxFrame
	l.connects++
	return nil
}

func (c *h2Conn) close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	c.fd, c.state = -1, h2Closed
}

// onField receives each decoded header field of the response being read.
func (c *h2Conn) onField(f hpack.HeaderField) {
	if c.cur == nil || f.Name != ":status" {
		return
	}
	if len(f.Value) != 3 {
		c.fieldErr = fmt.Errorf("bad :status %q", f.Value)
		return
	}
	n := 0
	for i := range 3 {
		d := f.Value[i]
		if d < '0' || d > '9' {
			c.fieldErr = fmt.Errorf("bad :status %q", f.Value)
			return
		}
		n = n*10 + int(d-'0')
	}
	c.cur.status = n
}

func (c *h2Conn) handle(l *loop, ev uint32, now int64) error {
	if c.fd < 0 {
		return nil
	}
	if c.state == h2Connecting {
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return nil
		}
		if err := connectResult(c.fd); err != nil {
			return err
		}
		c.state = h2AwaitSettings
		c.out.b = append(c.out.b, http2.ClientPreface...)
		if err := c.fr.WriteSettings(
			http2.Setting{ID: http2.SettingEnablePush, Val: 0},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window},
			http2.Setting{ID: http2.SettingMaxFrameSize, Val: h2MaxFrame},
		); err != nil {
			return err
		}
		if err := c.fr.WriteWindowUpdate(0, h2Window-65535); err != nil {
			return err
		}
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		if err := c.readable(l, now, ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0); err != nil {
			return err
		}
	}
	if c.state == h2Ready {
		l.deferKick(c)
		return nil
	}
	return c.flush()
}

func (c *h2Conn) kick(l *loop, now int64) error {
	if c.state != h2Ready {
		return nil
	}
	c.issue(l, now)
	return c.flush()
}

// issue opens streams until Depth (or the server's limit) are in flight.
func (c *h2Conn) issue(l *loop, now int64) {
	body := l.spec.Body
	for c.active < min(len(c.streams), c.maxStreams) {
		if len(body) > 0 && (c.sendWindow < int64(len(body)) || c.peerWindow < int64(len(body)) || len(body) > c.peerFrame) {
			return // wait for the server to open its window
		}
		if l.take(1) == 0 {
			return
		}
		if c.nextID > 1<<31-1 {
			l.fail(errors.New("h2c connection ran out of stream ids"))
			return
		}
		s := c.freeStream()
		if s == nil {
			l.fail(errors.New("h2c stream table full")) // cannot happen: active < len(streams)
			return
		}
		*s = h2Stream{id: c.nextID, sentAt: now}
		c.nextID += 2
		c.active++
		c.block.Reset()
		for _, f := range c.fields {
			_ = c.enc.WriteField(f) // writes into a bytes.Buffer: cannot fail
		}
		_ = c.fr.WriteHeaders(http2.HeadersFrameParam{
			StreamID:      s.id,
			BlockFragment: c.block.Bytes(),
			EndStream:     len(body) == 0,
			EndHeaders:    true,
		})
		if len(body) > 0 {
			_ = c.fr.WriteData(s.id, true, body)
			c.sendWindow -= int64(len(body))
		}
	}
}

func (c *h2Conn) freeStream() *h2Stream {
	for i := range c.streams {
		if c.streams[i].id == 0 {
			return &c.streams[i]
		}
	}
	return nil
}

func (c *h2Conn) stream(id uint32) *h2Stream {
	if id == 0 {
		return nil
	}
	for i := range c.streams {
		if c.streams[i].id == id {
			return &c.streams[i]
		}
	}
	return nil
}

func (c *h2Conn) flush() error {
	for c.wpos < len(c.out.b) {
		n, err := unix.Write(c.fd, c.out.b[c.wpos:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("write: %w", err)
		}
		c.wpos += n
	}
	c.out.b, c.wpos = c.out.b[:0], 0
	return nil
}

// readable reads until the socket is drained and handles every complete frame.
func (c *h2Conn) readable(l *loop, now int64, hup bool) error {
	for {
		if c.rend == len(c.buf) {
			if c.rpos == 0 {
				return errors.New("h2c frame larger than the read buffer")
			}
			c.rend = copy(c.buf, c.buf[c.rpos:c.rend])
			c.rpos = 0
		}
		space := len(c.buf) - c.rend
		n, err := unix.Read(c.fd, c.buf[c.rend:])
		switch {
		case errors.Is(err, unix.EAGAIN):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("h2c read (%d streams in flight): %w", c.active, err)
		case n == 0:
			return fmt.Errorf("server closed the h2c connection with %d streams in flight", c.active)
		}
		c.rend += n
		l.bytesIn += int64(n)
		for c.rend-c.rpos >= 9 {
			size := 9 + (int(c.buf[c.rpos])<<16 | int(c.buf[c.rpos+1])<<8 | int(c.buf[c.rpos+2]))
			if size > 9+h2MaxFrame {
				return fmt.Errorf("h2c frame of %d bytes exceeds SETTINGS_MAX_FRAME_SIZE", size-9)
			}
			if c.rend-c.rpos < size {
				break
			}
			c.src.b = c.buf[c.rpos : c.rpos+size]
			f, err := c.fr.ReadFrame()
			if err != nil {
				if d := c.fr.ErrorDetail(); d != nil {
					err = fmt.Errorf("%w: %v", err, d)
				}
				return fmt.Errorf("h2c frame: %w", err)
			}
			c.rpos += size
			if err := c.frame(l, f, now); err != nil {
				return err
			}
		}
		if c.rpos == c.rend {
			c.rpos, c.rend = 0, 0
		}
		if n < space && !hup {
			return nil
		}
	}
}

// frame handles one frame from the server.
func (c *h2Conn) frame(l *loop, f http2.Frame, now int64) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		c.unacked += int64(f.Length)
		if c.unacked >= h2Window/2 {
			_ = c.fr.WriteWindowUpdate(0, uint32(c.unacked))
			c.unacked = 0
		}
		s := c.stream(f.StreamID)
		if s == nil || !s.headers {
			return fmt.Errorf("DATA on stream %d, which has no open response", f.StreamID)
		}
		data := f.Data()
		if l.spec.CheckBody && !s.badBody {
			want := l.spec.WantBody
			s.badBody = s.got+len(data) > len(want) || !bytes.Equal(want[s.got:s.got+len(data)], data)
		}
		s.got += len(data)
		if f.StreamEnded() {
			return c.finish(l, s, now)
		}
	case *http2.HeadersFrame:
		s := c.stream(f.StreamID)
		if s == nil {
			return fmt.Errorf("HEADERS on stream %d, which the client did not open", f.StreamID)
		}
		c.cur = s
		if s.headers {
			c.cur = nil // trailers: decoded for the table, not inspected
		}
		if err := c.decode(f.HeaderBlockFragment(), f.HeadersEnded()); err != nil {
			return err
		}
		if f.HeadersEnded() && !s.headers {
			if s.status >= 100 && s.status < 200 {
				s.status = 0 // an interim response: the final one follows
			} else {
				s.headers = true
			}
		}
		if f.StreamEnded() {
			if !f.HeadersEnded() {
				s.ended = true
				return nil
			}
			return c.endStream(l, s, now)
		}
	case *http2.ContinuationFrame:
		s := c.stream(f.StreamID)
		if s == nil {
			return fmt.Errorf("CONTINUATION on stream %d, which the client did not open", f.StreamID)
		}
		if err := c.decode(f.HeaderBlockFragment(), f.HeadersEnded()); err != nil {
			return err
		}
		if f.HeadersEnded() && !s.headers {
			if s.status >= 100 && s.status < 200 {
				s.status = 0
			} else {
				s.headers = true
			}
		}
		if f.HeadersEnded() && s.ended {
			return c.endStream(l, s, now)
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			switch s.ID {
			case http2.SettingMaxConcurrentStreams:
				c.maxStreams = int(s.Val)
			case http2.SettingInitialWindowSize:
				c.peerWindow = int64(s.Val)
			case http2.SettingMaxFrameSize:
				c.peerFrame = int(s.Val)
			case http2.SettingHeaderTableSize:
				c.enc.SetMaxDynamicTableSize(s.Val)
			}
			return nil
		})
		if err != nil {
			return err
		}
		_ = c.fr.WriteSettingsAck()
		if c.state == h2AwaitSettings {
			c.state = h2Ready
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendWindow += int64(f.Increment)
		}
	case *http2.PingFrame:
		if !f.IsAck() {
			_ = c.fr.WritePing(true, f.Data)
		}
	case *http2.GoAwayFrame:
		return fmt.Errorf("server sent GOAWAY (%v, last stream %d, %d in flight): %q",
			f.ErrCode, f.LastStreamID, c.active, f.DebugData())
	case *http2.RSTStreamFrame:
		return fmt.Errorf("server reset stream %d: %v", f.StreamID, f.ErrCode)
	}
	return nil
}

// decode feeds one header block fragment to the connection's HPACK decoder.
func (c *h2Conn) decode(frag []byte, end bool) error {
	if _, err := c.dec.Write(frag); err != nil {
		return fmt.Errorf("hpack: %w", err)
	}
	if end {
		if err := c.dec.Close(); err != nil {
			return fmt.Errorf("hpack: %w", err)
		}
	}
	if c.fieldErr != nil {
		return c.fieldErr
	}
	return nil
}

// endStream finishes a stream whose last header block carried END_STREAM.
func (c *h2Conn) endStream(l *loop, s *h2Stream, now int64) error {
	if !s.headers {
		return fmt.Errorf("stream %d ended without a final response", s.id)
	}
	return c.finish(l, s, now)
}

// finish checks a complete response and frees its stream.
func (c *h2Conn) finish(l *loop, s *h2Stream, now int64) error {
	if s.status != l.spec.WantStatus {
		return fmt.Errorf("status %d, want %d", s.status, l.spec.WantStatus)
	}
	if l.spec.CheckBody && (s.badBody || s.got != len(l.spec.WantBody)) {
		return fmt.Errorf("wrong body on stream %d (%d bytes), want %q", s.id, s.got, clip(l.spec.WantBody))
	}
	l.complete(s.sentAt, now)
	*s = h2Stream{}
	c.active--
	c.cur = nil
	return nil
}
