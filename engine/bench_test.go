package engine

import (
	"bytes"
	"net"
	"net/http"
	"testing"

	"github.com/gonicorn/gonicorn/internal/stats"
)

// BenchmarkHelloKeepAlive measures the whole in-process round trip of one small
// request on a keep-alive connection (client, loop, pool, handler), with
// allocations per request. depth requests are pipelined per write.
func BenchmarkHelloKeepAlive(b *testing.B) {
	for _, depth := range []int{1, 16} {
		b.Run(map[int]string{1: "serial", 16: "pipelined16"}[depth], func(b *testing.B) {
			benchHello(b, depth, nil)
		})
	}
	// The same with the metrics' counting on (gonicorn's workers count when
	// --metrics-bind, --statsd-host or --control-socket is set).
	b.Run("serial-counted", func(b *testing.B) { benchHello(b, 1, stats.NewCounters()) })
}

func benchHello(b *testing.B, depth int, counters *stats.Counters) {
	hello := []byte("Hello, World!")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Write(hello)
	})
	cfg := testConfig()
	cfg.EventLoops = 1
	cfg.Stats = counters
	_, addr := serveOn(b, cfg, h, "http")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n"), depth)
	buf := make([]byte, 64<<10)
	// One response: the head ends with CRLFCRLF and a 13-byte body follows.
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += depth {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		need := depth
		var have []byte
		for need > 0 {
			n, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			have = append(have[:0], append(have, buf[:n]...)...)
			for {
				i := bytes.Index(have, []byte("\r\n\r\n"))
				if i < 0 || len(have) < i+4+13 {
					break
				}
				have = have[i+4+13:]
				need--
			}
		}
	}
}
