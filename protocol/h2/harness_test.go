package h2

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// peer is a scripted client: it writes frames into a buffer fed to a server Conn and
// decodes what the server answers.
type peer struct {
	t      *testing.T
	c      *Conn
	in     []byte
	now    time.Time
	events []Event
	err    error
	enc    *hpack.Encoder
	encBuf bytes.Buffer
	dec    *hpack.Decoder
	// frames and fields are what the server wrote, parsed.
	frames []Frame
	fields map[uint32][]hpack.HeaderField
	out    []byte
}

func newPeer(t *testing.T, cfg Config) *peer {
	t.Helper()
	p := &peer{t: t, c: NewConn(cfg), now: time.Unix(1000, 0), fields: map[uint32][]hpack.HeaderField{}}
	p.enc = hpack.NewEncoder(&p.encBuf)
	p.dec = hpack.NewDecoder(4096, nil)
	return p
}

// handshake sends the preface and an empty SETTINGS and checks the server's preface.
func (p *peer) handshake() *peer {
	p.t.Helper()
	p.in = append(p.in, ClientPreface...)
	p.in = AppendSettings(p.in)
	p.run()
	if len(p.frames) == 0 || p.frames[0].Type != FrameSettings || p.frames[0].Flags.Has(FlagAck) {
		p.t.Fatalf("server preface: got %v", p.frames)
	}
	p.frames = nil
	return p
}

// run feeds everything written so far and collects events and server frames.
func (p *peer) run() {
	p.t.Helper()
	for p.err == nil {
		ev, n, err := p.c.Next(p.in, p.now)
		if err != nil {
			p.err = err
			break
		}
		if n == 0 {
			break
		}
		if ev.Kind != EventNone {
			if ev.Data != nil {
				ev.Data = append([]byte(nil), ev.Data...)
			}
			if ev.Request != nil {
				r := *ev.Request
				ev.Request = &r
			}
			p.events = append(p.events, ev)
		}
		p.in = p.in[n:]
	}
	p.out = append(p.out, p.c.Output()...)
	p.c.ClearOutput()
	for {
		f, n, err := ReadFrame(p.out, MaxMaxFrameSize)
		if err != nil {
			p.t.Fatalf("server wrote a bad frame: %v", err)
		}
		if n == 0 {
			break
		}
		f.Data = append([]byte(nil), f.Data...)
		if f.Type == FrameHeaders || f.Type == FrameContinuation {
			var got []hpack.HeaderField
			p.dec.SetEmitFunc(func(hf hpack.HeaderField) { got = append(got, hf) })
			if _, err := p.dec.Write(f.Data); err != nil {
				p.t.Fatalf("server wrote a bad header block: %v", err)
			}
			p.fields[f.StreamID] = append(p.fields[f.StreamID], got...)
		}
		p.frames = append(p.frames, f)
		p.out = p.out[n:]
	}
}

func (p *peer) block(fields ...string) []byte {
	p.encBuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		p.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), p.encBuf.Bytes()...)
}

func getHeaders(extra ...string) []string {
	return append([]string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "example.com"}, extra...)
}

func (p *peer) headers(id uint32, end bool, fields ...string) *peer {
	p.in = AppendHeaders(p.in, id, end, true, p.block(fields...))
	return p
}

func (p *peer) raw(b []byte) *peer { p.in = append(p.in, b...); return p }

func (p *peer) find(t FrameType) []Frame {
	var out []Frame
	for _, f := range p.frames {
		if f.Type == t {
			out = append(out, f)
		}
	}
	return out
}

// connErr asserts that the connection failed with code and wrote GOAWAY with it.
func (p *peer) connErr(code ErrCode) {
	p.t.Helper()
	ce, ok := p.err.(*ConnError)
	if !ok || ce.Code != code {
		p.t.Fatalf("want connection error %s, got %v", code, p.err)
	}
	g := p.find(FrameGoAway)
	if len(g) != 1 || g[0].ErrCode != code {
		p.t.Fatalf("want one GOAWAY %s, got %v", code, g)
	}
}

// rst asserts that the server reset stream id with code and the connection lives.
func (p *peer) rst(id uint32, code ErrCode) {
	p.t.Helper()
	if p.err != nil {
		p.t.Fatalf("want RST_STREAM %s on %d, got connection error %v", code, id, p.err)
	}
	for _, f := range p.find(FrameRSTStream) {
		if f.StreamID == id && f.ErrCode == code {
			return
		}
	}
	p.t.Fatalf("want RST_STREAM %s on stream %d, got frames %v", code, id, p.frames)
}

func (p *peer) kinds() []EventKind {
	var k []EventKind
	for _, e := range p.events {
		k = append(k, e.Kind)
	}
	return k
}
