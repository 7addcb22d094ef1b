package engine

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/gonicorn/gonicorn/protocol/h2"
)

// h2Client returns an HTTP/2-only client speaking h2c by prior knowledge: net/http's
// Transport with UnencryptedHTTP2, which is x/net/http2's client bundled in the
// standard library (x/net/http2 itself needs golang.org/x/text, not in go.mod).
func h2Client(t *testing.T, cfg *http.HTTP2Config) *http.Client {
	t.Helper()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols:             &p,
		HTTP2:                 cfg,
		ResponseHeaderTimeout: 20 * time.Second,
		TLSClientConfig:       &tls.Config{},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// rawH2 is a frame-level HTTP/2 client for the tests that need to misbehave.
type rawH2 struct {
	t      *testing.T
	c      net.Conn
	in     []byte
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	dec    *hpack.Decoder
	// settings is what the server announced.
	settings map[h2.SettingID]uint32
}

// dialRaw connects, sends the preface with the given settings, and waits for the
// server's SETTINGS (which it acknowledges).
func dialRaw(t *testing.T, addr string, settings ...h2.Setting) *rawH2 {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := &rawH2{t: t, c: c, dec: hpackDecoder(), settings: map[h2.SettingID]uint32{}}
	r.enc = hpack.NewEncoder(&r.encBuf)
	r.write(h2.AppendSettings([]byte(h2.ClientPreface), settings...))
	for {
		f, err := r.next(5 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the server's SETTINGS: %v", err)
		}
		if f.Type == h2.FrameSettings && !f.Flags.Has(h2.FlagAck) {
			_ = h2.ForEachSetting(f.Data, func(s h2.Setting) error { r.settings[s.ID] = s.Val; return nil })
			r.write(h2.AppendSettingsAck(nil))
			return r
		}
	}
}

func (r *rawH2) write(b []byte) error {
	_ = r.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := r.c.Write(b)
	return err
}

// block HPACK-encodes name/value pairs.
func (r *rawH2) block(fields ...string) []byte {
	r.encBuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		_ = r.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), r.encBuf.Bytes()...)
}

func (r *rawH2) get(id uint32, path string, extra ...string) []byte {
	fields := append([]string{":method", "GET", ":scheme", "http", ":path", path, ":authority", "test"}, extra...)
	return h2.AppendHeaders(nil, id, true, true, r.block(fields...))
}

// next reads one frame, waiting at most d.
func (r *rawH2) next(d time.Duration) (h2.Frame, error) {
	deadline := time.Now().Add(d)
	for {
		f, n, err := h2.ReadFrame(r.in, h2.MaxMaxFrameSize)
		if err != nil {
			return f, err
		}
		if n > 0 {
			f.Data = append([]byte(nil), f.Data...)
			r.in = r.in[n:]
			return f, nil
		}
		_ = r.c.SetReadDeadline(deadline)
		buf := make([]byte, 64<<10)
		m, err := r.c.Read(buf)
		r.in = append(r.in, buf[:m]...)
		if err != nil && m == 0 {
			return f, err
		}
	}
}

// h2Response is what readResponse collected for one stream.
type h2Response struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
	frames  []h2.FrameType
	reset   h2.ErrCode
	isReset bool
}

// readResponse reads frames until stream id ends (END_STREAM or RST_STREAM),
// answering PINGs and skipping other streams' frames.
func (r *rawH2) readResponse(id uint32) h2Response {
	r.t.Helper()
	resp := h2Response{header: http.Header{}}
	var block []byte
	for {
		f, err := r.next(10 * time.Second)
		if err != nil {
			r.t.Fatalf("stream %d: %v", id, err)
		}
		if f.Type == h2.FrameGoAway {
			r.t.Fatalf("stream %d: GOAWAY %s %q", id, f.ErrCode, f.Data)
		}
		if f.StreamID != id {
			continue
		}
		resp.frames = append(resp.frames, f.Type)
		switch f.Type {
		case h2.FrameHeaders, h2.FrameContinuation:
			block = append(block, f.Data...)
			if !f.Flags.Has(h2.FlagEndHeaders) {
				continue
			}
			fields, err := r.dec.DecodeFull(block)
			block = nil
			if err != nil {
				r.t.Fatalf("HPACK: %v", err)
			}
			dst := resp.header
			if resp.status != 0 && resp.status >= 200 {
				resp.trailer = http.Header{}
				dst = resp.trailer
			}
			for _, hf := range fields {
				if hf.Name == ":status" {
					resp.status, _ = strconv.Atoi(hf.Value)
					if resp.status < 200 {
						resp.header = http.Header{}
						dst = resp.header
					}
					continue
				}
				dst.Add(hf.Name, hf.Value)
			}
			if f.Flags.Has(h2.FlagEndStream) {
				return resp
			}
		case h2.FrameData:
			resp.body = append(resp.body, f.Data...)
			if len(f.Data) > 0 {
				_ = r.write(h2.AppendWindowUpdate(h2.AppendWindowUpdate(nil, 0, uint32(len(f.Data))), id, uint32(len(f.Data))))
			}
			if f.Flags.Has(h2.FlagEndStream) {
				return resp
			}
		case h2.FrameRSTStream:
			resp.reset, resp.isReset = f.ErrCode, true
			return resp
		}
	}
}

// waitGoAway reads until GOAWAY and then the close, returning GOAWAY's code.
func (r *rawH2) waitGoAway(d time.Duration) h2.ErrCode {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		f, err := r.next(time.Until(deadline))
		if err != nil {
			r.t.Fatalf("connection ended without GOAWAY: %v", err)
		}
		if f.Type == h2.FrameGoAway {
			r.expectClose(time.Until(deadline) + 3*time.Second)
			return f.ErrCode
		}
	}
	r.t.Fatalf("no GOAWAY within %v", d)
	return 0
}

// expectClose reads until the server closes the connection.
func (r *rawH2) expectClose(d time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(d)
	buf := make([]byte, 64<<10)
	for {
		_ = r.c.SetReadDeadline(deadline)
		_, err := r.c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.t.Fatalf("connection not closed within %v", d)
		}
		if err == io.EOF || err != nil {
			return
		}
	}
}

func hpackDecoder() *hpack.Decoder { return hpack.NewDecoder(4096, nil) }
