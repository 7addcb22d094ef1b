package h2

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// BenchmarkRequestResponse is the hot path of one small request on a warm connection:
// parse HEADERS, validate and build the request head, encode the response head and
// body, release the stream.
func BenchmarkRequestResponse(b *testing.B) {
	c := NewConn(Config{})
	in := AppendSettings([]byte(ClientPreface))
	now := time.Now()
	for len(in) > 0 {
		_, n, err := c.Next(in, now)
		if err != nil || n == 0 {
			b.Fatal(err)
		}
		in = in[n:]
	}
	var encBuf appendWriter
	enc := hpack.NewEncoder(&encBuf)
	fields := []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "127.0.0.1:8000",
		"user-agent", "h2load nghttp2/1.52.0", "accept", "*/*"}
	body := []byte("Hello, World!")
	head := &ResponseHead{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Date: "Sun, 22 Nov 2026 15:30:53 GMT", ContentLength: "13"}
	frame := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint32(2*i + 1)
		encBuf.b = encBuf.b[:0]
		for j := 0; j < len(fields); j += 2 {
			_ = enc.WriteField(hpack.HeaderField{Name: fields[j], Value: fields[j+1]})
		}
		frame = AppendHeaders(frame[:0], id, true, true, encBuf.b)
		ev, _, err := c.Next(frame, now)
		if err != nil || ev.Kind != EventRequest {
			b.Fatalf("%v %v", ev.Kind, err)
		}
		_ = c.WriteResponse(id, head, false)
		_, _ = c.WriteData(id, body, true)
		c.ReleaseStream(id)
		c.ClearOutput()
	}
}
