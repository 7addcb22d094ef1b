package http1

import (
	"bytes"
	"net/http"
	"testing"
)

// benchRequest is a typical browser request of about 400 bytes.
const benchRequest = "GET /products/42?ref=home&sort=price HTTP/1.1\r\n" +
	"Host: shop.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Cookie: session=3f9a2c7e1b; theme=dark\r\n" +
	"Referer: https://shop.example.com/\r\n" +
	"\r\n"

func BenchmarkParse(b *testing.B) {
	in := []byte(benchRequest)
	var p Parser
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		if n, err := p.Parse(in, &req); n != len(in) || err != nil {
			b.Fatalf("Parse = %d, %v", n, err)
		}
	}
}

// BenchmarkParseByteAtATime feeds the same head one byte per call, the worst a slow
// client can do: the cost must stay linear in the head's length.
func BenchmarkParseByteAtATime(b *testing.B) {
	in := []byte(benchRequest)
	var p Parser
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		for i := 1; i < len(in); i++ {
			if n, err := p.Parse(in[:i], &req); n != 0 || err != nil {
				b.Fatalf("Parse = %d, %v", n, err)
			}
		}
		if n, err := p.Parse(in, &req); n != len(in) || err != nil {
			b.Fatalf("Parse = %d, %v", n, err)
		}
	}
}

// benchChunkedBody is 64 KiB of data in 4 KiB chunks, one of them with an extension.
func benchChunkedBody() []byte {
	var body []byte
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 256)
	for i := 0; i < 16; i++ {
		body = AppendChunkHeader(body, len(chunk))
		if i == 0 {
			body = append(body[:len(body)-2], ";name=\"value\"\r\n"...)
		}
		body = append(append(body, chunk...), "\r\n"...)
	}
	return append(body, "0\r\n\r\n"...)
}

func BenchmarkChunkedDecode(b *testing.B) {
	body := benchChunkedBody()
	var d ChunkedDecoder
	dst := make([]byte, 0, 64<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		if _, n, done, err := d.Decode(dst[:0], body); !done || err != nil || n != len(body) {
			b.Fatalf("Decode = %d, %v, %v", n, done, err)
		}
	}
}

// BenchmarkChunkedDecodeSmallChunks decodes 256 chunks of 16 bytes: framing-bound.
func BenchmarkChunkedDecodeSmallChunks(b *testing.B) {
	var body []byte
	for i := 0; i < 256; i++ {
		body = append(AppendChunkHeader(body, 16), "0123456789abcdef\r\n"...)
	}
	body = append(body, "0\r\n\r\n"...)
	var d ChunkedDecoder
	dst := make([]byte, 0, 4096)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		if _, _, done, err := d.Decode(dst[:0], body); !done || err != nil {
			b.Fatalf("Decode = %v, %v", done, err)
		}
	}
}

func benchResponseHeader() http.Header {
	return http.Header{
		"Content-Type":   {"text/html; charset=utf-8"},
		"Content-Length": {"1234"},
		"Date":           {"Sat, 22 Nov 2025 15:00:00 GMT"},
		"Cache-Control":  {"no-cache"},
		"Set-Cookie":     {"a=1; Path=/", "b=2; Path=/"},
	}
}

// appendBenchHead appends what the engine writes for a typical response head.
func appendBenchHead(dst []byte, h http.Header) []byte {
	dst = AppendStatusLine(dst, 1, 1, 200)
	dst = AppendHeaders(dst, h)
	return append(dst, '\r', '\n')
}

func BenchmarkAppendHead(b *testing.B) {
	h := benchResponseHeader()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBenchHead(buf[:0], h)
	}
	b.SetBytes(int64(len(buf)))
}
