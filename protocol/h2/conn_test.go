package h2

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnErrors pins the answer to each protocol violation: a connection error
// (GOAWAY with the code, then close) or a stream error (RST_STREAM, connection lives).
func TestConnErrors(t *testing.T) {
	get := getHeaders()
	cases := []struct {
		name   string
		script func(p *peer)
		conn   ErrCode // connection error expected when rst is 0
		rst    ErrCode
		rstID  uint32
	}{
		{"DATA on an idle stream", func(p *peer) { p.raw(AppendData(nil, 1, true, []byte("x"))) }, ErrCodeProtocol, 0, 0},
		{"RST_STREAM on an idle stream", func(p *peer) { p.raw(AppendRSTStream(nil, 1, ErrCodeCancel)) }, ErrCodeProtocol, 0, 0},
		{"WINDOW_UPDATE on an idle stream", func(p *peer) { p.raw(AppendWindowUpdate(nil, 1, 1)) }, ErrCodeProtocol, 0, 0},
		{"CONTINUATION without HEADERS", func(p *peer) { p.raw(AppendContinuation(nil, 1, true, nil)) }, ErrCodeProtocol, 0, 0},
		{"even stream identifier", func(p *peer) { p.headers(2, true, get...) }, ErrCodeProtocol, 0, 0},
		{"stream identifier lower than a previous one", func(p *peer) {
			p.headers(5, true, get...).headers(3, true, get...)
		}, ErrCodeStreamClosed, 0, 0},
		{"HEADERS on a closed stream", func(p *peer) {
			p.headers(1, true, get...)
			p.run()
			p.c.WriteResponse(1, &ResponseHead{Status: 200}, true)
			p.c.ReleaseStream(1)
			p.headers(1, true, get...)
		}, ErrCodeStreamClosed, 0, 0},
		{"HEADERS on a half-closed (remote) stream", func(p *peer) {
			p.headers(1, true, get...).headers(1, true, get...)
		}, ErrCodeStreamClosed, 0, 0},
		{"DATA on a half-closed (remote) stream", func(p *peer) {
			p.headers(1, true, get...).raw(AppendData(nil, 1, true, []byte("test")))
		}, 0, ErrCodeStreamClosed, 1},
		{"DATA after the client's RST_STREAM", func(p *peer) {
			p.headers(1, false, get...).raw(AppendRSTStream(nil, 1, ErrCodeCancel)).raw(AppendData(nil, 1, true, []byte("test")))
		}, 0, ErrCodeStreamClosed, 1},
		{"frame inside a header block", func(p *peer) {
			p.raw(AppendHeaders(nil, 1, true, false, p.block(get...))).raw(AppendPing(nil, false, [8]byte{}))
		}, ErrCodeProtocol, 0, 0},
		{"HEADERS for another stream inside a header block", func(p *peer) {
			p.raw(AppendHeaders(nil, 1, true, false, p.block(get...))).headers(3, true, get...)
		}, ErrCodeProtocol, 0, 0},
		{"CONTINUATION after END_HEADERS", func(p *peer) {
			p.headers(1, true, get...).raw(AppendContinuation(nil, 1, true, nil))
		}, ErrCodeProtocol, 0, 0},
		{"invalid HPACK", func(p *peer) { p.raw(AppendHeaders(nil, 1, true, true, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})) }, ErrCodeCompression, 0, 0},
		{"PUSH_PROMISE from a client", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 4, Type: FramePushPromise, Flags: FlagEndHeaders, StreamID: 1})).raw([]byte{0, 0, 0, 2})
		}, ErrCodeProtocol, 0, 0},
		{"SETTINGS ENABLE_PUSH of 2", func(p *peer) { p.raw(AppendSettings(nil, Setting{SettingEnablePush, 2})) }, ErrCodeProtocol, 0, 0},
		{"SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", func(p *peer) { p.raw(AppendSettings(nil, Setting{SettingInitialWindowSize, 1 << 31})) }, ErrCodeFlowControl, 0, 0},
		{"SETTINGS_MAX_FRAME_SIZE below 16384", func(p *peer) { p.raw(AppendSettings(nil, Setting{SettingMaxFrameSize, 16383})) }, ErrCodeProtocol, 0, 0},
		{"SETTINGS_MAX_FRAME_SIZE above 2^24-1", func(p *peer) { p.raw(AppendSettings(nil, Setting{SettingMaxFrameSize, 1 << 24})) }, ErrCodeProtocol, 0, 0},
		{"WINDOW_UPDATE of 0 on the connection", func(p *peer) { p.raw(AppendWindowUpdate(nil, 0, 0)) }, ErrCodeProtocol, 0, 0},
		{"WINDOW_UPDATE of 0 on a stream", func(p *peer) {
			p.headers(1, true, get...).raw(AppendWindowUpdate(nil, 1, 0))
		}, 0, ErrCodeProtocol, 1},
		{"connection window above 2^31-1", func(p *peer) {
			p.raw(AppendWindowUpdate(nil, 0, MaxWindow)).raw(AppendWindowUpdate(nil, 0, MaxWindow))
		}, ErrCodeFlowControl, 0, 0},
		{"stream window above 2^31-1", func(p *peer) {
			p.headers(1, true, get...).raw(AppendWindowUpdate(nil, 1, MaxWindow)).raw(AppendWindowUpdate(nil, 1, MaxWindow))
		}, 0, ErrCodeFlowControl, 1},
		{"HEADERS depending on itself", func(p *peer) {
			blk := p.block(get...)
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: uint32(5 + len(blk)), Type: FrameHeaders, Flags: FlagEndHeaders | FlagEndStream | FlagPriority, StreamID: 1}))
			p.raw([]byte{0, 0, 0, 1, 16}).raw(blk)
		}, 0, ErrCodeProtocol, 1},
		{"PRIORITY depending on itself", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 5, Type: FramePriority, StreamID: 3})).raw([]byte{0, 0, 0, 3, 16})
		}, 0, ErrCodeProtocol, 3},
		{"PRIORITY of the wrong length", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 4, Type: FramePriority, StreamID: 3})).raw([]byte{0, 0, 0, 1})
		}, 0, ErrCodeFrameSize, 3},
		{"frame larger than SETTINGS_MAX_FRAME_SIZE", func(p *peer) {
			p.raw(AppendData(nil, 1, true, make([]byte, MinMaxFrameSize+1)))
		}, ErrCodeFrameSize, 0, 0},
		{"unknown pseudo-header", func(p *peer) { p.headers(1, true, getHeaders(":foo", "bar")...) }, 0, ErrCodeProtocol, 1},
		{"response pseudo-header in a request", func(p *peer) { p.headers(1, true, getHeaders(":status", "200")...) }, 0, ErrCodeProtocol, 1},
		{"pseudo-header after a regular field", func(p *peer) {
			p.headers(1, true, ":method", "GET", ":scheme", "http", "x", "y", ":path", "/")
		}, 0, ErrCodeProtocol, 1},
		{"uppercase field name", func(p *peer) { p.headers(1, true, getHeaders("X-Upper", "1")...) }, 0, ErrCodeProtocol, 1},
		{"connection-specific field", func(p *peer) { p.headers(1, true, getHeaders("connection", "keep-alive")...) }, 0, ErrCodeProtocol, 1},
		{"te other than trailers", func(p *peer) { p.headers(1, true, getHeaders("te", "gzip")...) }, 0, ErrCodeProtocol, 1},
		{"empty :path", func(p *peer) { p.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "") }, 0, ErrCodeProtocol, 1},
		{"missing :method", func(p *peer) { p.headers(1, true, ":scheme", "http", ":path", "/") }, 0, ErrCodeProtocol, 1},
		{"duplicated :path", func(p *peer) { p.headers(1, true, getHeaders(":path", "/")...) }, 0, ErrCodeProtocol, 1},
		{"field value with a newline", func(p *peer) { p.headers(1, true, getHeaders("x", "a\nb")...) }, 0, ErrCodeProtocol, 1},
		{"body longer than content-length", func(p *peer) {
			p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", "content-length", "1").raw(AppendData(nil, 1, true, []byte("test")))
		}, 0, ErrCodeProtocol, 1},
		{"body shorter than content-length", func(p *peer) {
			p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", "content-length", "9").raw(AppendData(nil, 1, true, []byte("test")))
		}, 0, ErrCodeProtocol, 1},
		{"trailers without END_STREAM", func(p *peer) {
			p.headers(1, false, get...).headers(1, false, "x", "y")
		}, 0, ErrCodeProtocol, 1},
		{"pseudo-header in trailers", func(p *peer) {
			p.headers(1, false, get...).headers(1, true, ":method", "GET")
		}, 0, ErrCodeProtocol, 1},
		{"DATA padding longer than the payload", func(p *peer) {
			p.headers(1, false, get...)
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 3, Type: FrameData, Flags: FlagPadded, StreamID: 1})).raw([]byte{5, 'a', 'b'})
		}, ErrCodeProtocol, 0, 0},
		{"SETTINGS ACK with a payload", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 6, Type: FrameSettings, Flags: FlagAck})).raw(make([]byte, 6))
		}, ErrCodeFrameSize, 0, 0},
		{"PING on a stream", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 8, Type: FramePing, StreamID: 3})).raw(make([]byte, 8))
		}, ErrCodeProtocol, 0, 0},
		{"GOAWAY on a stream", func(p *peer) {
			p.raw(AppendFrameHeader(nil, FrameHeader{Length: 8, Type: FrameGoAway, StreamID: 1})).raw(make([]byte, 8))
		}, ErrCodeProtocol, 0, 0},
		{"stream window overrun", func(p *peer) {
			p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/")
			for i := 0; i < 5; i++ {
				p.raw(AppendData(nil, 1, false, make([]byte, 16384)))
			}
		}, 0, ErrCodeFlowControl, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, Config{}).handshake()
			tc.script(p)
			p.run()
			if tc.rst != 0 || tc.conn == 0 {
				p.rst(tc.rstID, tc.rst)
				return
			}
			p.connErr(tc.conn)
		})
	}
}

func TestPrefaceMustComeFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"invalid preface", "GET / HTTP/1.1\r\n\r\n", false},
		{"partial preface waits", ClientPreface[:10], true},
		{"preface then PING instead of SETTINGS", ClientPreface + string(AppendPing(nil, false, [8]byte{})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, Config{})
			p.raw([]byte(tc.in)).run()
			if (p.err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", p.err, tc.ok)
			}
		})
	}
}

func TestSettingsPingAndUnknownFrames(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.raw(AppendSettings(nil, Setting{SettingHeaderTableSize, 0}, Setting{0x99, 7}))
	p.raw(AppendFrameHeader(nil, FrameHeader{Length: 3, Type: 0x20, Flags: 0xff, StreamID: 1})).raw([]byte("abc"))
	p.raw(AppendPing(nil, false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8}))
	p.raw(AppendPing(nil, true, [8]byte{9}))
	p.run()
	if p.err != nil {
		t.Fatal(p.err)
	}
	acks := p.find(FrameSettings)
	if len(acks) != 1 || !acks[0].Flags.Has(FlagAck) {
		t.Fatalf("want one SETTINGS ACK, got %v", acks)
	}
	pings := p.find(FramePing)
	if len(pings) != 1 || !pings[0].Flags.Has(FlagAck) || pings[0].Ping != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("want one PING ACK echoing the payload, got %v", pings)
	}
}

func TestRequestBodyAndTrailers(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/echo?x=1", ":authority", "h:1",
		"content-length", "10", "cookie", "a=1", "cookie", "b=2", "trailer", "x-sum")
	p.raw(AppendData(nil, 1, false, []byte("hello")))
	padded := AppendFrameHeader(nil, FrameHeader{Length: 9, Type: FrameData, Flags: FlagPadded, StreamID: 1})
	padded = append(padded, 3, 'w', 'o', 'r', 'l', 'd', 0, 0, 0)
	p.raw(padded)
	p.headers(1, true, "x-sum", "abc")
	p.run()
	if p.err != nil {
		t.Fatal(p.err)
	}
	want := []EventKind{EventRequest, EventData, EventData, EventTrailers}
	if got := p.kinds(); len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	req := p.events[0].Request
	if req.Method != "POST" || req.Path != "/echo?x=1" || req.Authority != "h:1" || req.ContentLength != 10 {
		t.Fatalf("request head %+v", req)
	}
	p.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/", "host", "from-host:9")
	p.run()
	if last := p.events[len(p.events)-1]; last.Request == nil || last.Request.Authority != "from-host:9" || last.Request.Header["Host"] != nil {
		t.Fatalf("host without :authority: %+v", last.Request)
	}
	if got := req.Header.Get("Cookie"); got != "a=1; b=2" {
		t.Fatalf("cookie %q", got)
	}
	if string(p.events[1].Data)+string(p.events[2].Data) != "helloworld" {
		t.Fatalf("body %q %q", p.events[1].Data, p.events[2].Data)
	}
	if p.events[3].Trailer.Get("X-Sum") != "abc" || !p.events[3].EndStream {
		t.Fatalf("trailers %+v", p.events[3])
	}
	// Padding (3 octets + pad length) is handed back at once; the body when consumed.
	p.c.ConsumeData(1, 10)
	p.run()
}

func TestResponseFlowControl(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.raw(AppendSettings(nil, Setting{SettingInitialWindowSize, 3}))
	p.headers(1, true, getHeaders()...)
	p.run()
	if err := p.c.WriteResponse(1, &ResponseHead{Status: 200, Header: http.Header{"X-A": {"b"}}, ContentLength: "10"}, false); err != nil {
		t.Fatal(err)
	}
	n, err := p.c.WriteData(1, []byte("0123456789"), true)
	if err != nil || n != 3 {
		t.Fatalf("WriteData = %d, %v; want 3 (the stream window)", n, err)
	}
	if w := p.c.SendWindow(1); w != 0 {
		t.Fatalf("SendWindow = %d, want 0", w)
	}
	// A negative window: the client shrinks the initial size below what was used.
	p.raw(AppendSettings(nil, Setting{SettingInitialWindowSize, 1})).run()
	if w := p.c.SendWindow(1); w != 0 {
		t.Fatalf("SendWindow after shrink = %d, want 0", w)
	}
	p.raw(AppendWindowUpdate(nil, 1, 4)).run()
	if w := p.c.SendWindow(1); w != 2 {
		t.Fatalf("SendWindow = %d, want 2 (-2 + 4)", w)
	}
	p.raw(AppendWindowUpdate(nil, 1, 100)).run()
	n, err = p.c.WriteData(1, []byte("3456789"), true)
	if err != nil || n != 7 {
		t.Fatalf("WriteData = %d, %v", n, err)
	}
	p.c.ReleaseStream(1)
	p.run()
	var body []byte
	for _, f := range p.find(FrameData) {
		body = append(body, f.Data...)
	}
	if string(body) != "0123456789" {
		t.Fatalf("body %q", body)
	}
	data := p.find(FrameData)
	if !data[len(data)-1].Flags.Has(FlagEndStream) {
		t.Fatal("last DATA frame does not end the stream")
	}
	if p.c.ActiveStreams() != 0 {
		t.Fatalf("%d streams left", p.c.ActiveStreams())
	}
	if got := p.fields[1]; len(got) < 3 || got[0].Name != ":status" || got[0].Value != "200" {
		t.Fatalf("response fields %v", got)
	}
}

func TestLargeResponseHeadersSplitIntoContinuation(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.headers(1, true, getHeaders()...).run()
	big := strings.Repeat("v", 40000)
	if err := p.c.WriteResponse(1, &ResponseHead{Status: 200, Header: http.Header{"X-Big": {big}}}, true); err != nil {
		t.Fatal(err)
	}
	p.run()
	if len(p.find(FrameContinuation)) < 2 {
		t.Fatalf("want CONTINUATION frames, got %v", p.frames)
	}
	for _, f := range p.fields[1] {
		if f.Name == "x-big" && f.Value == big {
			return
		}
	}
	t.Fatal("x-big not decoded")
}

func TestConcurrencyLimitRefusesStreams(t *testing.T) {
	p := newPeer(t, Config{MaxConcurrentStreams: 2}).handshake()
	p.headers(1, true, getHeaders()...).headers(3, true, getHeaders()...).headers(5, true, getHeaders()...)
	p.run()
	p.rst(5, ErrCodeRefusedStream)
	// A reset stream keeps its slot until the handler is released (rapid reset).
	p.raw(AppendRSTStream(nil, 1, ErrCodeCancel)).headers(7, true, getHeaders()...).run()
	p.rst(7, ErrCodeRefusedStream)
	p.c.ReleaseStream(1)
	p.headers(9, true, getHeaders()...).run()
	if last := p.events[len(p.events)-1]; last.Kind != EventRequest || last.StreamID != 9 {
		t.Fatalf("stream 9 not accepted: %+v", last)
	}
}

func TestHeaderListTooLargeAnswers431(t *testing.T) {
	p := newPeer(t, Config{MaxHeaderListSize: 1024}).handshake()
	p.headers(1, true, getHeaders("x-big", strings.Repeat("a", 1500))...).run()
	if p.err != nil {
		t.Fatal(p.err)
	}
	if got := p.fields[1]; len(got) != 1 || got[0].Value != "431" {
		t.Fatalf("want :status 431, got %v", got)
	}
	// The HPACK context survives: the next request decodes.
	p.headers(3, true, getHeaders()...).run()
	if last := p.events[len(p.events)-1]; last.Kind != EventRequest || last.StreamID != 3 {
		t.Fatalf("stream 3: %+v", last)
	}
}

func TestDefences(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		script func(p *peer)
	}{
		{"HPACK bomb: small block decoding to a huge list", Config{MaxHeaderListSize: 4096}, func(p *peer) {
			// One 4000-byte field enters the dynamic table, then 1-byte references
			// to it repeat: the block grows by one byte per 4000 decoded.
			first := p.block("x-bomb", strings.Repeat("b", 3900))
			refs := bytes.Repeat([]byte{0xbe}, 9000) // indexed field 62
			blk := append(append(p.block(getHeaders()...), first...), refs...)
			half := len(blk) / 2
			p.raw(AppendHeaders(nil, 1, true, false, blk[:half])).raw(AppendContinuation(nil, 1, true, blk[half:]))
		}},
		{"CONTINUATION flood", Config{}, func(p *peer) {
			p.raw(AppendHeaders(nil, 1, true, false, p.block(getHeaders()...)))
			for i := 0; i < 100; i++ {
				p.raw(AppendContinuation(nil, 1, false, []byte{0x40, 1, 'a', 1, 'b'}))
			}
		}},
		{"PING flood", Config{}, func(p *peer) {
			for i := 0; i < 3000; i++ {
				p.raw(AppendPing(nil, false, [8]byte{}))
			}
		}},
		{"SETTINGS flood", Config{}, func(p *peer) {
			for i := 0; i < 3000; i++ {
				p.raw(AppendSettings(nil, Setting{SettingInitialWindowSize, uint32(i)}))
			}
		}},
		{"empty DATA flood", Config{}, func(p *peer) {
			p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/")
			for i := 0; i < 3000; i++ {
				p.raw(AppendData(nil, 1, false, nil))
			}
		}},
		{"rapid reset", Config{}, func(p *peer) {
			for id := uint32(1); id < 2000; id += 2 {
				p.headers(id, true, getHeaders()...).raw(AppendRSTStream(nil, id, ErrCodeCancel))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, tc.cfg).handshake()
			// Release every stream as soon as it is announced, as a fast handler would,
			// so that only the meters stop the flood.
			tc.script(p)
			for p.err == nil {
				before := len(p.in)
				p.run()
				for _, e := range p.events {
					if e.Kind == EventRequest || e.Kind == EventReset {
						p.c.ReleaseStream(e.StreamID)
					}
				}
				p.events = nil
				if len(p.in) == before {
					break
				}
			}
			p.connErr(ErrCodeEnhanceYourCalm)
		})
	}
}

func TestFloodMetersRefillWithTime(t *testing.T) {
	p := newPeer(t, Config{ControlBurst: 10, ControlRate: 10}).handshake()
	for i := 0; i < 100; i++ {
		p.now = p.now.Add(200 * time.Millisecond)
		p.raw(AppendPing(nil, false, [8]byte{})).run()
	}
	if p.err != nil {
		t.Fatalf("paced pings tripped the meter: %v", p.err)
	}
}

func TestStreamIDExhaustionSendsGoAway(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.headers(MaxStreamID, true, getHeaders()...).run()
	g := p.find(FrameGoAway)
	if len(g) != 1 || g[0].ErrCode != ErrCodeNo || g[0].LastStreamID != MaxStreamID {
		t.Fatalf("want GOAWAY NO_ERROR last=%d, got %v", uint32(MaxStreamID), g)
	}
	if !p.c.Draining() {
		t.Fatal("not draining")
	}
	p.c.WriteResponse(MaxStreamID, &ResponseHead{Status: 204}, true)
	p.c.ReleaseStream(MaxStreamID)
	if p.c.ActiveStreams() != 0 {
		t.Fatal("stream not forgotten")
	}
}

func TestGracefulGoAwayIgnoresNewStreams(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.headers(1, true, getHeaders()...).run()
	p.c.GoAway(ErrCodeNo, "shutdown")
	p.headers(3, true, getHeaders()...).headers(5, true, getHeaders()...).run()
	if p.err != nil {
		t.Fatal(p.err)
	}
	if len(p.events) != 1 {
		t.Fatalf("streams above GOAWAY's last id were served: %v", p.kinds())
	}
	g := p.find(FrameGoAway)
	if len(g) != 1 || g[0].LastStreamID != 1 {
		t.Fatalf("GOAWAY %v", g)
	}
	if err := p.c.WriteResponse(1, &ResponseHead{Status: 200}, true); err != nil {
		t.Fatalf("in-flight stream cannot finish: %v", err)
	}
}

func TestReleaseBeforeBodyRefusesRestWithNoError(t *testing.T) {
	p := newPeer(t, Config{}).handshake()
	p.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/").run()
	p.c.WriteResponse(1, &ResponseHead{Status: 413}, true)
	p.c.ReleaseStream(1)
	p.run()
	p.rst(1, ErrCodeNo)
	// In-flight DATA for it is ignored, not answered.
	p.frames = nil
	p.raw(AppendData(nil, 1, true, []byte("late"))).run()
	if len(p.find(FrameRSTStream)) != 0 || p.err != nil {
		t.Fatalf("late DATA answered: %v %v", p.frames, p.err)
	}
}

func TestUpgradeOpensStreamOne(t *testing.T) {
	p := newPeer(t, Config{})
	if err := p.c.Upgrade(AppendSettings(nil, Setting{SettingInitialWindowSize, 10})[FrameHeaderLen:]); err != nil {
		t.Fatal(err)
	}
	p.handshake()
	if err := p.c.WriteResponse(1, &ResponseHead{Status: 200}, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.c.WriteData(1, make([]byte, 100), true); n != 10 {
		t.Fatalf("HTTP2-Settings window not applied: wrote %d", n)
	}
	if err := p.c.Upgrade(make([]byte, 5)); err == nil {
		t.Fatal("bad HTTP2-Settings length accepted")
	}
}
