package h2

import (
	"bytes"
	"testing"
	"time"
)

var timeZero time.Time

func TestReadFrame(t *testing.T) {
	hdr := func(length uint32, typ FrameType, fl Flags, id uint32) []byte {
		return AppendFrameHeader(nil, FrameHeader{Length: length, Type: typ, Flags: fl, StreamID: id})
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name     string
		in       []byte
		n        int
		connErr  ErrCode
		strErr   ErrCode
		wantData string
	}{
		{"short header needs more", []byte{0, 0, 1, 0}, 0, 0, 0, ""},
		{"short payload needs more", cat(hdr(4, FrameData, 0, 1), []byte("ab")), 0, 0, 0, ""},
		{"DATA", cat(hdr(2, FrameData, FlagEndStream, 1), []byte("ab")), 11, 0, 0, "ab"},
		{"DATA padded", cat(hdr(5, FrameData, FlagPadded, 1), []byte{2, 'a', 'b', 0, 0}), 14, 0, 0, "ab"},
		{"DATA padding fills the payload", cat(hdr(3, FrameData, FlagPadded, 1), []byte{2, 0, 0}), 12, 0, 0, ""},
		{"DATA padding too long", cat(hdr(3, FrameData, FlagPadded, 1), []byte{3, 0, 0}), 0, ErrCodeProtocol, 0, ""},
		{"DATA padded without pad length", hdr(0, FrameData, FlagPadded, 1), 0, ErrCodeFrameSize, 0, ""},
		{"DATA on stream 0", cat(hdr(1, FrameData, 0, 0), []byte("a")), 0, ErrCodeProtocol, 0, ""},
		{"reserved bit ignored", cat([]byte{0, 0, 1, 0, 0, 0x80, 0, 0, 1}, []byte("a")), 10, 0, 0, "a"},
		{"HEADERS with priority and padding", cat(hdr(9, FrameHeaders, FlagPadded|FlagPriority, 1), []byte{1, 0x80, 0, 0, 3, 7, 'h', 'i', 0}), 18, 0, 0, "hi"},
		{"HEADERS padding eats the priority", cat(hdr(6, FrameHeaders, FlagPadded|FlagPriority, 1), []byte{5, 0, 0, 0, 3, 7}), 0, ErrCodeProtocol, 0, ""},
		{"HEADERS too short for priority", cat(hdr(3, FrameHeaders, FlagPriority, 1), []byte{0, 0, 0}), 0, ErrCodeFrameSize, 0, ""},
		{"HEADERS on stream 0", hdr(0, FrameHeaders, 0, 0), 0, ErrCodeProtocol, 0, ""},
		{"PRIORITY wrong length", cat(hdr(4, FramePriority, 0, 1), make([]byte, 4)), 13, 0, ErrCodeFrameSize, ""},
		{"PRIORITY on stream 0", cat(hdr(5, FramePriority, 0, 0), make([]byte, 5)), 0, ErrCodeProtocol, 0, ""},
		{"RST_STREAM wrong length", cat(hdr(3, FrameRSTStream, 0, 1), make([]byte, 3)), 0, ErrCodeFrameSize, 0, ""},
		{"RST_STREAM on stream 0", cat(hdr(4, FrameRSTStream, 0, 0), make([]byte, 4)), 0, ErrCodeProtocol, 0, ""},
		{"SETTINGS length not a multiple of 6", cat(hdr(5, FrameSettings, 0, 0), make([]byte, 5)), 0, ErrCodeFrameSize, 0, ""},
		{"SETTINGS ACK with payload", cat(hdr(6, FrameSettings, FlagAck, 0), make([]byte, 6)), 0, ErrCodeFrameSize, 0, ""},
		{"SETTINGS on a stream", hdr(0, FrameSettings, 0, 1), 0, ErrCodeProtocol, 0, ""},
		{"PING wrong length", cat(hdr(7, FramePing, 0, 0), make([]byte, 7)), 0, ErrCodeFrameSize, 0, ""},
		{"GOAWAY too short", cat(hdr(7, FrameGoAway, 0, 0), make([]byte, 7)), 0, ErrCodeFrameSize, 0, ""},
		{"GOAWAY with debug data", cat(hdr(10, FrameGoAway, 0, 0), []byte{0, 0, 0, 1, 0, 0, 0, 0, 'h', 'i'}), 19, 0, 0, "hi"},
		{"WINDOW_UPDATE wrong length", cat(hdr(3, FrameWindowUpdate, 0, 0), make([]byte, 3)), 0, ErrCodeFrameSize, 0, ""},
		{"CONTINUATION on stream 0", hdr(0, FrameContinuation, 0, 0), 0, ErrCodeProtocol, 0, ""},
		{"unknown type kept raw", cat(hdr(2, 0xfa, 0xff, 9), []byte("zz")), 11, 0, 0, "zz"},
		{"too large", hdr(MinMaxFrameSize+1, FrameData, 0, 1), 0, ErrCodeFrameSize, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ReadFrame(tc.in, MinMaxFrameSize)
			switch {
			case tc.connErr != 0:
				ce, ok := err.(*ConnError)
				if !ok || ce.Code != tc.connErr {
					t.Fatalf("err = %v, want connection error %s", err, tc.connErr)
				}
				return
			case tc.strErr != 0:
				se, ok := err.(*StreamError)
				if !ok || se.Code != tc.strErr {
					t.Fatalf("err = %v, want stream error %s", err, tc.strErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if n != tc.n {
				t.Fatalf("n = %d, want %d", n, tc.n)
			}
			if n > 0 && tc.strErr == 0 && string(f.Data) != tc.wantData {
				t.Fatalf("data %q, want %q", f.Data, tc.wantData)
			}
		})
	}
}

func TestFrameWritersRoundTrip(t *testing.T) {
	var b []byte
	b = AppendData(b, 3, true, []byte("body"))
	b = AppendHeaderBlock(b, 5, false, bytes.Repeat([]byte{'x'}, 40000), MinMaxFrameSize)
	b = AppendRSTStream(b, 7, ErrCodeCancel)
	b = AppendSettings(b, Setting{SettingMaxFrameSize, 20000})
	b = AppendSettingsAck(b)
	b = AppendPing(b, true, [8]byte{1})
	b = AppendGoAway(b, 9, ErrCodeEnhanceYourCalm, []byte("calm"))
	b = AppendWindowUpdate(b, 11, 1234)
	var got []Frame
	for len(b) > 0 {
		f, n, err := ReadFrame(b, MinMaxFrameSize)
		if err != nil || n == 0 {
			t.Fatalf("ReadFrame: n=%d err=%v", n, err)
		}
		got = append(got, f)
		b = b[n:]
	}
	types := []FrameType{FrameData, FrameHeaders, FrameContinuation, FrameContinuation, FrameRSTStream, FrameSettings, FrameSettings, FramePing, FrameGoAway, FrameWindowUpdate}
	if len(got) != len(types) {
		t.Fatalf("%d frames, want %d", len(got), len(types))
	}
	for i, f := range got {
		if f.Type != types[i] {
			t.Fatalf("frame %d is %s, want %s", i, f.Type, types[i])
		}
	}
	if !got[3].Flags.Has(FlagEndHeaders) || got[1].Flags.Has(FlagEndHeaders) {
		t.Fatal("END_HEADERS on the wrong frame")
	}
	if got[4].ErrCode != ErrCodeCancel || got[8].LastStreamID != 9 || got[8].ErrCode != ErrCodeEnhanceYourCalm || got[9].Increment != 1234 {
		t.Fatalf("fields lost: %+v %+v %+v", got[4], got[8], got[9])
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ErrCodeEnhanceYourCalm.String(), "ENHANCE_YOUR_CALM"},
		{ErrCode(0x42).String(), "unknown error code 0x42"},
		{FrameContinuation.String(), "CONTINUATION"},
		{FrameType(0x30).String(), "UNKNOWN_FRAME_TYPE_48"},
		{SettingMaxFrameSize.String(), "MAX_FRAME_SIZE"},
		{SettingID(0x77).String(), "UNKNOWN_SETTING_119"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendData(nil, 1, true, []byte("x")), uint32(MinMaxFrameSize))
	f.Add(AppendHeaders(nil, 1, true, true, []byte{0x82}), uint32(MinMaxFrameSize))
	f.Add([]byte{0, 0, 6, 1, 0x28, 0, 0, 0, 1, 5, 0, 0, 0, 0, 0}, uint32(MinMaxFrameSize))
	f.Add(AppendGoAway(nil, 1, 0, nil), uint32(MinMaxFrameSize))
	f.Fuzz(func(t *testing.T, in []byte, max uint32) {
		fr, n, err := ReadFrame(in, max)
		if err == nil && n > 0 {
			if n != FrameHeaderLen+int(fr.Length) || n > len(in) {
				t.Fatalf("n = %d for length %d", n, fr.Length)
			}
			if len(fr.Data) > int(fr.Length) {
				t.Fatalf("data longer than the payload")
			}
		}
	})
}

// FuzzConn feeds arbitrary bytes after a valid handshake: the state machine must never
// panic, and once it reports a connection error it keeps reporting it.
func FuzzConn(f *testing.F) {
	p := newPeer(&testing.T{}, Config{})
	f.Add(AppendHeaders(nil, 1, true, true, p.block(getHeaders()...)))
	f.Add(append(AppendHeaders(nil, 1, false, false, p.block(getHeaders()...)), AppendContinuation(nil, 1, true, []byte{0x82})...))
	f.Add(append(AppendHeaders(nil, 1, false, true, p.block(getHeaders()...)), AppendData(nil, 1, true, []byte("abc"))...))
	f.Add(AppendWindowUpdate(AppendSettings(nil, Setting{SettingInitialWindowSize, 0}), 0, 10))
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewConn(Config{MaxConcurrentStreams: 4, MaxHeaderListSize: 2048})
		buf := append(AppendSettings([]byte(ClientPreface)), in...)
		for i := 0; i < 10000; i++ {
			ev, n, err := c.Next(buf, timeZero)
			if err != nil {
				if _, _, err2 := c.Next(buf, timeZero); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if n == 0 {
				break
			}
			switch ev.Kind {
			case EventRequest:
				c.WriteResponse(ev.StreamID, &ResponseHead{Status: 200}, false)
				c.WriteData(ev.StreamID, []byte("hello"), true)
				c.ReleaseStream(ev.StreamID)
			case EventData:
				c.ConsumeData(ev.StreamID, len(ev.Data))
			}
			buf = buf[n:]
			c.ClearOutput()
		}
	})
}
