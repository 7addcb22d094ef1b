package engine

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// BenchmarkHTTPConnPerRequest measures an HTTP/1.1 request on a fresh
// connection that closes after its response (wrk -H 'Connection: close'):
// accept, parse, handler, response, close.
func BenchmarkHTTPConnPerRequest(b *testing.B) {
	hello := []byte("Hello, World!")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Write(hello)
	})
	cfg := testConfig()
	cfg.EventLoops = 1
	_, addr := serveOn(b, cfg, h, "http")
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(req); err != nil {
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
