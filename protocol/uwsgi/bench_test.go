package uwsgi

import (
	"context"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	buf := readTestdata(b, "nginx_get.bin")
	var p Packet
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := Parse(buf, nil, &p); n == 0 || err != nil {
			b.Fatalf("Parse = (%d, %v)", n, err)
		}
	}
}

func BenchmarkNewRequest(b *testing.B) {
	buf := readTestdata(b, "nginx_get.bin")
	var p Packet
	if _, err := Parse(buf, nil, &p); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRequest(context.Background(), &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAndNewRequest is the per-request cost the engine pays for a typical
// browser request relayed by nginx.
func BenchmarkParseAndNewRequest(b *testing.B) {
	buf := nginxGET("REQUEST_URI", "/api/items?page=2", "HTTP_HOST", "shop.example.test",
		"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
		"HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5", "HTTP_ACCEPT_ENCODING", "gzip, deflate, br",
		"HTTP_COOKIE", "session=0123456789abcdef; theme=dark", "HTTP_X_FORWARDED_FOR", "203.0.113.7",
		"HTTP_X_APP_TRACE", "abc-123")
	var p Packet
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(buf, nil, &p); err != nil {
			b.Fatal(err)
		}
		if _, err := NewRequest(context.Background(), &p); err != nil {
			b.Fatal(err)
		}
	}
}
