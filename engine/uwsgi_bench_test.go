package engine

import "testing"

// BenchmarkUWSGIConnPerRequest measures a uWSGI request on a fresh connection,
// as nginx sends them: accept, enroll, parse, handler, response, close.
func BenchmarkUWSGIConnPerRequest(b *testing.B) {
	cfg := testConfig()
	cfg.EventLoops = 1
	_, addr := serveOn(b, cfg, helloText(), "uwsgi")
	pkt := helloUWSGIPacket()
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		oneRequestConn(b, addr, pkt, buf)
	}
}
