package engine

import "testing"

// BenchmarkHTTPConnPerRequest measures an HTTP/1.1 request on a fresh
// connection that closes after its response (wrk -H 'Connection: close'):
// accept, parse, handler, response, close.
func BenchmarkHTTPConnPerRequest(b *testing.B) {
	cfg := testConfig()
	cfg.EventLoops = 1
	_, addr := serveOn(b, cfg, helloText(), "http")
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		oneRequestConn(b, addr, req, buf)
	}
}
