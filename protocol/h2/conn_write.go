package h2

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/gonicorn/gonicorn/internal/header"
)

// ErrStreamClosed is returned by the write methods for a stream the server can no
// longer write on: unknown, reset, or already ended.
var ErrStreamClosed = errors.New("h2: stream closed")

// ResponseHead is what WriteResponse encodes: the status, the handler's header map
// (connection-specific fields and http.TrailerPrefix keys are left out) and the fields
// the server adds when the handler did not (empty strings are skipped).
type ResponseHead struct {
	Status        int
	Header        http.Header
	Date          string
	ContentType   string
	ContentLength string
}

var statusText [600]string

func init() {
	for i := 100; i < len(statusText); i++ {
		statusText[i] = strconv.Itoa(i)
	}
}

func statusString(code int) string {
	if code >= 100 && code < len(statusText) {
		return statusText[code]
	}
	return strconv.Itoa(code)
}

func (c *Conn) writable(id uint32) (*stream, error) {
	s := c.streams[id]
	if s == nil || s.localClosed || c.err != nil {
		return nil, ErrStreamClosed
	}
	return s, nil
}

// WriteResponse encodes a response head on stream id as HEADERS (and CONTINUATION)
// frames. endStream ends the response (no body, no trailers).
func (c *Conn) WriteResponse(id uint32, h *ResponseHead, endStream bool) error {
	s, err := c.writable(id)
	if err != nil {
		return err
	}
	c.encBuf.b = c.encBuf.b[:0]
	c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusString(h.Status)})
	c.encodeHeader(h.Header, false)
	if h.Date != "" {
		c.enc.WriteField(hpack.HeaderField{Name: "date", Value: h.Date})
	}
	if h.ContentType != "" {
		c.enc.WriteField(hpack.HeaderField{Name: "content-type", Value: h.ContentType})
	}
	if h.ContentLength != "" {
		c.enc.WriteField(hpack.HeaderField{Name: "content-length", Value: h.ContentLength})
	}
	c.out = AppendHeaderBlock(c.out, id, endStream, c.encBuf.b, c.peer.MaxFrameSize)
	if endStream {
		c.closeLocal(s)
	}
	return nil
}

// WriteTrailers ends stream id with a trailer block. Keys may carry
// http.TrailerPrefix; pseudo and connection-specific fields are left out.
func (c *Conn) WriteTrailers(id uint32, trailer http.Header) error {
	s, err := c.writable(id)
	if err != nil {
		return err
	}
	c.encBuf.b = c.encBuf.b[:0]
	c.encodeHeader(trailer, true)
	c.out = AppendHeaderBlock(c.out, id, true, c.encBuf.b, c.peer.MaxFrameSize)
	c.closeLocal(s)
	return nil
}

// encodeHeader HPACK-encodes the fields of h that may appear in an HTTP/2 message.
// With trailers, only keys carrying http.TrailerPrefix have it stripped; without, such
// keys are skipped.
func (c *Conn) encodeHeader(h http.Header, trailers bool) {
	for k, vv := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if !trailers {
				continue
			}
			k = k[len(http.TrailerPrefix):]
		}
		switch k {
		case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade":
			continue
		}
		if !header.IsToken(k) {
			continue
		}
		name := c.lower(k)
		if trailers {
			switch name {
			case "content-length", "trailer", "te", "host":
				continue
			}
		}
		for _, v := range vv {
			if !header.IsFieldValue(v) {
				continue
			}
			c.enc.WriteField(hpack.HeaderField{Name: name, Value: v})
		}
	}
}

// lower returns the lowercase form of a canonical key, from a fixed table or a small
// per-connection cache, so that encoding a known header allocates nothing.
func (c *Conn) lower(k string) string {
	if l, ok := header.Lower(k); ok {
		return l
	}
	if l, ok := c.lowered[k]; ok {
		return l
	}
	l := strings.ToLower(k)
	if c.lowered == nil {
		c.lowered = make(map[string]string)
	}
	if len(c.lowered) < 64 {
		c.lowered[k] = l
	}
	return l
}

// SendWindow returns how many DATA octets stream id may send now: the smaller of its
// window and the connection's, 0 when either is exhausted or the stream is not writable.
func (c *Conn) SendWindow(id uint32) int {
	s, err := c.writable(id)
	if err != nil {
		return 0
	}
	return min(s.send.Avail(), c.send.Avail())
}

// ConnSendWindow returns the connection-level send window, never less than 0.
func (c *Conn) ConnSendWindow() int { return c.send.Avail() }

// WriteData writes as much of p on stream id as the flow-control windows allow, in
// frames no larger than the client's SETTINGS_MAX_FRAME_SIZE, and returns how much it
// wrote. endStream ends the stream with the last frame, only once all of p is written;
// an empty p with endStream writes an empty DATA frame that ends the stream.
func (c *Conn) WriteData(id uint32, p []byte, endStream bool) (int, error) {
	s, err := c.writable(id)
	if err != nil {
		return 0, err
	}
	n := min(len(p), s.send.Avail(), c.send.Avail())
	end := endStream && n == len(p)
	if n == 0 && !end {
		return 0, nil
	}
	max := int(c.peer.MaxFrameSize)
	rest := p[:n]
	for {
		frame := rest
		if len(frame) > max {
			frame = rest[:max]
		}
		rest = rest[len(frame):]
		c.out = AppendData(c.out, id, end && len(rest) == 0, frame)
		if len(rest) == 0 {
			break
		}
	}
	s.send.Take(n)
	c.send.Take(n)
	if end {
		c.closeLocal(s)
	}
	return n, nil
}

// ResetStream resets stream id with code (a handler past its deadline, a write that
// stalled). The stream keeps its slot until ReleaseStream.
func (c *Conn) ResetStream(id uint32, code ErrCode) {
	s := c.streams[id]
	if s == nil || s.reset || c.err != nil {
		return
	}
	c.out = AppendRSTStream(c.out, id, code)
	c.rememberReset(id)
	s.reset, s.remoteClosed, s.localClosed = true, true, true
	c.maybeForget(s)
}

// ConsumeData tells the connection that the handler of stream id has read n request
// body octets, so that the client may send more (WINDOW_UPDATE, batched).
func (c *Conn) ConsumeData(id uint32, n int) {
	if s := c.streams[id]; s != nil && c.err == nil {
		c.giveStream(s, n)
	}
}

// ReleaseStream ends the caller's interest in stream id: its handler is done. A
// response the handler left unfinished is reset (INTERNAL_ERROR); a request body the
// handler did not wait for is refused with RST_STREAM NO_ERROR (RFC 9113 §8.1).
func (c *Conn) ReleaseStream(id uint32) {
	s := c.streams[id]
	if s == nil {
		return
	}
	s.held = false
	if !s.reset && c.err == nil {
		switch {
		case !s.localClosed:
			c.ResetStream(id, ErrCodeInternal)
			return
		case !s.remoteClosed:
			c.ResetStream(id, ErrCodeNo)
			return
		}
	}
	s.remoteClosed, s.localClosed = true, true
	c.maybeForget(s)
}

// GoAway starts a graceful stop: GOAWAY with the highest stream identifier seen, after
// which new streams are ignored while the open ones finish. Later calls do nothing.
func (c *Conn) GoAway(code ErrCode, debug string) {
	if c.goAwaySent || c.err != nil {
		return
	}
	c.goAwaySent = true
	c.goAwayID = c.maxClientID
	c.out = AppendGoAway(c.out, c.goAwayID, code, []byte(debug))
}

// Fail ends the connection with a connection error of the server's own (for example a
// flow-control stall): GOAWAY with code, after which the caller closes the connection.
func (c *Conn) Fail(code ErrCode, reason string) *ConnError {
	return c.fail(code, reason)
}

func (c *Conn) closeLocal(s *stream) {
	s.localClosed = true
	c.maybeForget(s)
}
