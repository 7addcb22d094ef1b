package engine

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/protocol/uwsgi"
)

// BenchmarkUWSGIConnPerRequest measures a uWSGI request on a fresh connection,
// as nginx sends them: accept, enroll, parse, handler, response, close.
func BenchmarkUWSGIConnPerRequest(b *testing.B) {
	hello := []byte("Hello, World!")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(hello) })
	cfg := testConfig()
	cfg.EventLoops = 1
	_, addr := serveOn(b, cfg, h, "uwsgi")
	pkt, _ := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", "/", "PATH_INFO", "/", "QUERY_STRING", "",
		"SERVER_PROTOCOL", "HTTP/1.1", "REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5555",
		"SERVER_NAME", "bench", "SERVER_PORT", "80", "HTTP_HOST", "bench", "HTTP_USER_AGENT", "bench")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(pkt); err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			k, err := c.Read(buf[n:])
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		if n < 40 {
			b.Fatalf("short response %q", buf[:n])
		}
	}
}
