package engine

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/protocol/h2"
)

// flood writes frames built by next until it returns nil, the write fails (the server
// closed), or the count or time bound is reached. It runs on its own goroutine so that
// the test goroutine can read the server's answer.
func flood(r *rawH2, limit int, next func(i int) []byte) {
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		var batch []byte
		for i := 0; i < limit && time.Now().Before(deadline); i++ {
			b := next(i)
			if b == nil {
				break
			}
			batch = append(batch, b...)
			if len(batch) < 16<<10 {
				continue
			}
			if r.write(batch) != nil {
				return
			}
			batch = batch[:0]
		}
		_ = r.write(batch)
	}()
}

// TestH2Defences drives each attack on its own connection and checks the answer
// (GOAWAY with the code, a log line) and that another connection is still served.
func TestH2Defences(t *testing.T) {
	cfg := testConfig()
	cfg.WriteTimeout = 500 * time.Millisecond
	cfg.HTTP2MaxHeaderListSize = 16 << 10
	ts := startServer(t, cfg, nil)
	post := func(r *rawH2, id uint32) []byte {
		return h2.AppendHeaders(nil, id, false, true, r.block(":method", "POST", ":scheme", "http", ":path", "/echo", ":authority", "x"))
	}
	cases := []struct {
		name   string
		code   h2.ErrCode
		logged string
		attack func(r *rawH2)
	}{
		{"rapid reset (CVE-2023-44487)", h2.ErrCodeEnhanceYourCalm, "rapid reset", func(r *rawH2) {
			flood(r, 50000, func(i int) []byte {
				id := uint32(2*i + 1)
				return h2.AppendRSTStream(r.get(id, "/sleep?ms=2000"), id, h2.ErrCodeCancel)
			})
		}},
		{"CONTINUATION flood (CVE-2024-27316)", h2.ErrCodeEnhanceYourCalm, "CONTINUATION", func(r *rawH2) {
			first := h2.AppendHeaders(nil, 1, true, false, r.block(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"))
			flood(r, 100000, func(i int) []byte {
				if i == 0 {
					return first
				}
				return h2.AppendContinuation(nil, 1, false, []byte{0x40, 1, 'a', 1, 'b'}) // a: b, literal
			})
		}},
		{"HPACK bomb: references to a large table entry", h2.ErrCodeEnhanceYourCalm, "header block larger", func(r *rawH2) {
			block := r.block(":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x", "x-bomb", strings.Repeat("b", 3000))
			block = append(block, bytes.Repeat([]byte{0xbe}, 200000)...) // indexed field 62, 3 KB each
			var out []byte
			for len(block) > 0 {
				frag := block[:min(len(block), 16384)]
				block = block[len(frag):]
				if out == nil {
					out = h2.AppendHeaders(out, 1, true, len(block) == 0, frag)
				} else {
					out = h2.AppendContinuation(out, 1, len(block) == 0, frag)
				}
			}
			r.write(out)
		}},
		{"SETTINGS flood", h2.ErrCodeEnhanceYourCalm, "control frames", func(r *rawH2) {
			flood(r, 100000, func(int) []byte {
				return h2.AppendSettings(nil, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 70000})
			})
		}},
		{"PING flood", h2.ErrCodeEnhanceYourCalm, "control frames", func(r *rawH2) {
			flood(r, 100000, func(int) []byte { return h2.AppendPing(nil, false, [8]byte{1}) })
		}},
		{"empty DATA flood", h2.ErrCodeEnhanceYourCalm, "control frames", func(r *rawH2) {
			flood(r, 100000, func(i int) []byte {
				if i == 0 {
					return post(r, 1)
				}
				return h2.AppendData(nil, 1, false, nil)
			})
		}},
		{"connection window left at zero", h2.ErrCodeEnhanceYourCalm, "connection window at zero", func(r *rawH2) {
			r.write(r.get(1, "/bytes?n=300000"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, ts.addr)
			tc.attack(r)
			if code := r.waitGoAway(10 * time.Second); code != tc.code {
				t.Fatalf("GOAWAY %s, want %s", code, tc.code)
			}
			waitUntil(t, 5*time.Second, func() bool { return strings.Contains(ts.logs.String(), tc.logged) },
				"log line "+tc.logged)
			resp, err := h2Client(t, nil).Get(ts.url("/healthz"))
			if err != nil {
				t.Fatalf("another connection after the attack: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok" {
				t.Fatalf("another connection: %d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestH2OversizedHeaderListAnswers431(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2MaxHeaderListSize = 4096
	ts := startServer(t, cfg, nil)
	r := dialRaw(t, ts.addr)
	if got := r.settings[h2.SettingMaxHeaderListSize]; got != 4096 {
		t.Fatalf("SETTINGS_MAX_HEADER_LIST_SIZE announced %d", got)
	}
	r.write(r.get(1, "/", "x-big", strings.Repeat("a", 5000)))
	if resp := r.readResponse(1); resp.status != 431 {
		t.Fatalf("status %d", resp.status)
	}
	r.write(r.get(3, "/healthz"))
	if resp := r.readResponse(3); resp.status != 200 || string(resp.body) != "ok" {
		t.Fatalf("the connection does not carry on: %+v", resp)
	}
}

func TestH2StreamWindowLeftAtZeroIsReset(t *testing.T) {
	cfg := testConfig()
	cfg.WriteTimeout = 300 * time.Millisecond
	ts := startServer(t, cfg, nil)
	r := dialRaw(t, ts.addr, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
	r.write(h2.AppendWindowUpdate(nil, 0, 1<<30))
	r.write(r.get(1, "/bytes?n=100000"))
	resp := r.readResponse(1)
	if !resp.isReset || resp.reset != h2.ErrCodeCancel || resp.status != 200 {
		t.Fatalf("stalled stream: %+v", resp)
	}
	// Only the stream went: the connection still answers.
	r.write(h2.AppendPing(nil, false, [8]byte{7}))
	for {
		f, err := r.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == h2.FramePing && f.Flags.Has(h2.FlagAck) {
			return
		}
		if f.Type == h2.FrameGoAway {
			t.Fatalf("GOAWAY %s", f.ErrCode)
		}
	}
}

func TestH2StreamIDExhaustion(t *testing.T) {
	ts := startServer(t, testConfig(), nil)
	r := dialRaw(t, ts.addr)
	r.write(r.get(h2.MaxStreamID, "/"))
	var goAway *h2.Frame
	for goAway == nil {
		f, err := r.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == h2.FrameGoAway {
			goAway = &f
		}
	}
	if goAway.ErrCode != h2.ErrCodeNo || goAway.LastStreamID != h2.MaxStreamID {
		t.Fatalf("GOAWAY %s last=%d", goAway.ErrCode, goAway.LastStreamID)
	}
	if resp := r.readResponse(h2.MaxStreamID); resp.status != 200 || string(resp.body) != "Hello, World!" {
		t.Fatalf("last stream: %+v", resp)
	}
	r.expectClose(5 * time.Second)
}

// TestH2HandlerWaitsForWindow pins the bounded memory of a stream: a handler writing
// faster than the client's window allows is held at h2MaxOut buffered bytes until the
// window opens, and then completes.
func TestH2HandlerWaitsForWindow(t *testing.T) {
	var written atomicInt64
	const total = 4 << 20
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 1024)
		for i := 0; i < total/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	})
	cfg := testConfig()
	cfg.WriteTimeout = 10 * time.Second
	ts := startServer(t, cfg, h)
	r := dialRaw(t, ts.addr, h2.Setting{ID: h2.SettingInitialWindowSize, Val: 0})
	r.write(h2.AppendWindowUpdate(nil, 0, 1<<30))
	r.write(r.get(1, "/"))
	waitUntil(t, 5*time.Second, func() bool { return written.Load() >= h2MaxOut }, "handler fills its buffer")
	// Watch for a while that the writer stays held back.
	for end := time.Now().Add(200 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if n := written.Load(); n > h2MaxOut+1024 {
			t.Fatalf("handler wrote %d bytes against a zero window: not held back", n)
		}
	}
	r.write(h2.AppendWindowUpdate(nil, 1, 1<<30))
	if resp := r.readResponse(1); resp.status != 200 || len(resp.body) != total {
		t.Fatalf("after the window opened: status %d, %d bytes", resp.status, len(resp.body))
	}
}
