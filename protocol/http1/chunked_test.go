package http1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strings"
	"testing"
)

// chunkedResult is everything a complete decode reports, in comparable form.
type chunkedResult struct {
	out      string
	consumed int
	done     bool
	status   int
	trailers string
}

func (r chunkedResult) String() string {
	return fmt.Sprintf("out=%q consumed=%d done=%v status=%d trailers=%s", r.out, r.consumed, r.done, r.status, r.trailers)
}

// decodeInPieces feeds src to a fresh decoder in pieces of at most step bytes (step ≤ 0:
// all at once), stopping at done or the first error, as an event loop would.
func decodeInPieces(src []byte, step, maxTrailer int) chunkedResult {
	d := ChunkedDecoder{MaxTrailerBytes: maxTrailer}
	var res chunkedResult
	var out []byte
	for off := 0; off < len(src) && !res.done; {
		end := len(src)
		if step > 0 && off+step < end {
			end = off + step
		}
		given := end - off
		var n int
		var err error
		out, n, res.done, err = d.Decode(out, src[off:end])
		off += n
		res.consumed = off
		if err != nil {
			// Where decoding stopped inside a bad line depends on how the input was
			// split, and the connection is closed anyway: leave consumed out.
			res.consumed = -1
			var e *Error
			if !errors.As(err, &e) {
				res.status = -1
			} else {
				res.status = e.Status
			}
			break
		}
		if !res.done && n != given {
			res.status = -2 // an incomplete decode must consume everything it was given
			break
		}
	}
	res.out = string(out)
	res.trailers = fmt.Sprint(d.Trailers)
	return res
}

func TestChunkedDecode(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		maxTrailer int
		out        string
		trailers   string
		status     int  // 0: no error
		done       bool // only checked when status is 0
	}{
		{"empty body", "0\r\n\r\n", 0, "", "[]", 0, true},
		{"one chunk", "5\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"several chunks", "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n", 0, "hello world!", "[]", 0, true},
		{"upper- and lower-case hex", "A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n", 0, "0123456789abcdefghijk", "[]", 0, true},
		{"leading zeros in size", "0005\r\nhello\r\n000\r\n\r\n", 0, "hello", "[]", 0, true},
		{"largest size is accepted", "7fffffffffffffff\r\nab", 0, "ab", "[]", 0, false},
		{"data may contain CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", 0, "\r\n\r\n", "[]", 0, true},
		{"extension without value", "5;foo\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"extension with token value", "5;foo=bar\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"extension with quoted value", "5;foo=\"a \\\"b\\\" ;c\"\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"several extensions with BWS", "5 ; a = b ;c;d=\"\" \t;e\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"extension on the last chunk", "0;x=y\r\n\r\n", 0, "", "[]", 0, true},
		{"BWS after a bare extension name", "5;a ;b =c\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"token value followed by another extension", "5;a=b;c\r\nhello\r\n0\r\n\r\n", 0, "hello", "[]", 0, true},
		{"trailers are copied and canonicalised", "3\r\nabc\r\n0\r\nX-Checksum: abc\r\nfoo-bar: \t baz \r\nEmpty:\r\n\r\n", 0, "abc",
			"[{X-Checksum abc} {Foo-Bar baz} {Empty }]", 0, true},
		{"trailer section at the limit", "0\r\nX: 1234\r\n\r\n", 11, "", "[{X 1234}]", 0, true},
		{"incomplete body", "5\r\nhel", 0, "hel", "[]", 0, false},
		// sizes
		{"empty size", "\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"non-hex size", "g\r\n", 0, "", "[]", 400, false},
		{"negative size", "-5\r\n", 0, "", "[]", 400, false},
		{"plus sign", "+5\r\n", 0, "", "[]", 400, false},
		{"space before the size", " 5\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"space after the size without extension", "5 \r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"size overflows 63 bits", "8000000000000000\r\n", 0, "", "[]", 400, false},
		{"size far beyond 64 bits", "fffffffffffffffffffff\r\n", 0, "", "[]", 400, false},
		{"bare LF after the size", "5\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"bare CR after the size", "5\rhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"size line too long", strings.Repeat("0", maxChunkLine) + "5\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		// extensions
		{"empty extension", "5;\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"extension without name", "5;=x\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"extension with empty value", "5;a=\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"extension value with space", "5;a=b c\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"whitespace before CRLF", "5;a=b \r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"whitespace after a bare name before CRLF", "5;a \r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"unterminated quoted value", "5;a=\"b\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"quoted value with control byte", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"quoted pair escaping CR", "5;a=\"\\\r\"\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"extension name not a token", "5;a@b\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		{"extension too long", "5;a=" + strings.Repeat("b", maxChunkLine) + "\r\nhello\r\n0\r\n\r\n", 0, "", "[]", 400, false},
		// data framing
		{"data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n", 0, "hello", "[]", 400, false},
		{"bare LF after data", "5\r\nhello\n0\r\n\r\n", 0, "hello", "[]", 400, false},
		{"CR without LF after data", "5\r\nhello\rX0\r\n\r\n", 0, "hello", "[]", 400, false},
		// trailers
		{"bare LF ends the body", "0\r\n\n", 0, "", "[]", 400, false},
		{"CR without LF ends the body", "0\r\n\rX", 0, "", "[]", 400, false},
		{"trailer with obs-fold", "0\r\nX: a\r\n b\r\n\r\n", 0, "", "[{X a}]", 400, false},
		{"trailer without colon", "0\r\nX\r\n\r\n", 0, "", "[]", 400, false},
		{"Content-Length in a trailer", "0\r\nContent-Length: 5\r\n\r\n", 0, "", "[]", 400, false},
		{"Transfer-Encoding in a trailer", "0\r\ntransfer-encoding: chunked\r\n\r\n", 0, "", "[]", 400, false},
		{"Host in a trailer", "0\r\nX: 1\r\nHOST: evil\r\n\r\n", 0, "", "[{X 1}]", 400, false},
		{"Authorization in a trailer", "0\r\nAuthorization: x\r\n\r\n", 0, "", "[]", 400, false},
		{"Content-Type in a trailer", "0\r\nContent-Type: x\r\n\r\n", 0, "", "[]", 400, false},
		{"If-None-Match in a trailer", "0\r\nIf-None-Match: x\r\n\r\n", 0, "", "[]", 400, false},
		{"a name that only starts like a forbidden one", "0\r\nContent-Lengthy: 5\r\n\r\n", 0, "", "[{Content-Lengthy 5}]", 0, true},
		{"trailer with space before colon", "0\r\nX : a\r\n\r\n", 0, "", "[]", 400, false},
		{"trailer with bare LF", "0\r\nX: a\n\r\n", 0, "", "[]", 400, false},
		{"trailer with bare CR", "0\r\nX: a\rb\r\n\r\n", 0, "", "[]", 400, false},
		{"trailer with NUL", "0\r\nX: a\x00\r\n\r\n", 0, "", "[]", 400, false},
		{"trailer line over the limit", "0\r\nX: 1234567890\r\n\r\n", 11, "", "[]", 431, false},
		{"trailer line start over the limit", "0\r\nX: 1234\r\n\r\n", 9, "", "[{X 1234}]", 431, false},
		{"final CRLF over the limit", "0\r\nX: 1234\r\n\r\n", 10, "", "[{X 1234}]", 431, false},
		{"default trailer limit", "0\r\nX: " + strings.Repeat("a", DefaultMaxTrailerBytes) + "\r\n\r\n", 0, "", "[]", 431, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := decodeInPieces([]byte(tt.in), 0, tt.maxTrailer)
			if whole.status != tt.status || whole.out != tt.out || whole.trailers != tt.trailers ||
				(tt.status == 0 && whole.done != tt.done) {
				t.Fatalf("Decode = %v\nwant out=%q status=%d done=%v trailers=%s", whole, tt.out, tt.status, tt.done, tt.trailers)
			}
			if whole.done && whole.consumed != len(tt.in) {
				t.Fatalf("consumed %d of %d", whole.consumed, len(tt.in))
			}
			for step := 1; step < len(tt.in); step++ {
				if got := decodeInPieces([]byte(tt.in), step, tt.maxTrailer); got != whole {
					t.Fatalf("in pieces of %d:\n got %v\nwant %v", step, got, whole)
				}
			}
			if tt.status == 0 && tt.done {
				// httputil is stricter about BWS before ';' (RFC 9112 allows it) and
				// laxer elsewhere: only when it accepts must it agree.
				std, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(tt.in)))
				if err == nil && string(std) != tt.out {
					t.Fatalf("net/http/httputil reads %q, %v", std, err)
				}
			}
		})
	}
}

func TestChunkedLeavesBytesAfterTheEnd(t *testing.T) {
	var d ChunkedDecoder
	src := []byte("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n")
	out, n, done, err := d.Decode(nil, src)
	if err != nil || !done || string(out) != "abc" || string(src[n:]) != "GET / HTTP/1.1\r\n" {
		t.Fatalf("Decode = %q, %d, %v, %v", out, n, done, err)
	}
	out, n, done, err = d.Decode(out, src[n:])
	if err != nil || !done || n != 0 || string(out) != "abc" {
		t.Fatalf("Decode after done = %q, %d, %v, %v", out, n, done, err)
	}
}

func TestChunkedErrorIsSticky(t *testing.T) {
	var d ChunkedDecoder
	_, _, _, err := d.Decode(nil, []byte("zz\r\n"))
	if err == nil {
		t.Fatal("no error for a bad size")
	}
	if _, n, done, err2 := d.Decode(nil, []byte("0\r\n\r\n")); err2 != err || n != 0 || done {
		t.Fatalf("second Decode = %d, %v, %v; want the first error again", n, done, err2)
	}
}

func TestChunkedResetKeepsLimitAndDropsTrailers(t *testing.T) {
	d := ChunkedDecoder{MaxTrailerBytes: 100}
	if _, _, done, err := d.Decode(nil, []byte("0\r\nA: b\r\n\r\n")); !done || err != nil {
		t.Fatalf("first body: %v %v", done, err)
	}
	kept := d.Trailers
	d.Reset()
	if d.MaxTrailerBytes != 100 || d.Trailers != nil {
		t.Fatalf("after Reset: limit %d trailers %v", d.MaxTrailerBytes, d.Trailers)
	}
	if _, _, done, err := d.Decode(nil, []byte("0\r\nC: d\r\n\r\n")); !done || err != nil {
		t.Fatalf("second body: %v %v", done, err)
	}
	if fmt.Sprint(kept) != "[{A b}]" || fmt.Sprint(d.Trailers) != "[{C d}]" {
		t.Fatalf("trailers: kept %v, new %v", kept, d.Trailers)
	}
}

func TestChunkedRoundTripsAppendChunkHeader(t *testing.T) {
	var body, want []byte
	for _, size := range []int{1, 15, 16, 255, 4096, 70000} {
		chunk := bytes.Repeat([]byte{byte(size)}, size)
		body = AppendChunkHeader(body, size)
		body = append(append(body, chunk...), "\r\n"...)
		want = append(want, chunk...)
	}
	body = append(AppendChunkHeader(body, 0), "\r\n"...)
	var d ChunkedDecoder
	out, n, done, err := d.Decode(nil, body)
	if err != nil || !done || n != len(body) || !bytes.Equal(out, want) {
		t.Fatalf("Decode = %d bytes, %d, %v, %v", len(out), n, done, err)
	}
}
