package engine

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/stats"
	"github.com/gonicorn/gonicorn/protocol/uwsgi"
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

// helloBody is what helloText answers.
var helloBody = []byte("Hello, World!")

var textPlain = []string{"text/plain"}[:1:1]

// helloText answers helloBody as text/plain: the benchmarks' and the
// allocation test's handler, written as internal/demo's GET / (the handler
// make bench serves), with a Content-Type value shared by every response.
func helloText() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = textPlain
		w.Write(helloBody)
	})
}

// helloUWSGIPacket is an nginx uwsgi_pass request for /.
func helloUWSGIPacket() []byte {
	pkt, _ := uwsgi.AppendPacket(nil, "REQUEST_METHOD", "GET", "REQUEST_URI", "/", "PATH_INFO", "/", "QUERY_STRING", "",
		"SERVER_PROTOCOL", "HTTP/1.1", "REMOTE_ADDR", "127.0.0.1", "REMOTE_PORT", "5555",
		"SERVER_NAME", "bench", "SERVER_PORT", "80", "HTTP_HOST", "bench", "HTTP_USER_AGENT", "bench")
	return pkt
}

// oneRequestConn sends req on a new connection to addr and reads the response
// into buf until the server closes; a short response fails.
func oneRequestConn(tb testing.TB, addr string, req, buf []byte) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for {
		k, err := c.Read(buf[n:])
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if n < 40 {
		tb.Fatalf("short response %q", buf[:n])
	}
}

func benchHello(b *testing.B, depth int, counters *stats.Counters) {
	h := helloText()
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
