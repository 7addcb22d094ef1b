package http1

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAppendStatusLine(t *testing.T) {
	tests := []struct {
		name               string
		major, minor, code int
		want               string
	}{
		{"200 in HTTP/1.1", 1, 1, 200, "HTTP/1.1 200 OK\r\n"},
		{"404 in HTTP/1.0", 1, 0, 404, "HTTP/1.0 404 Not Found\r\n"},
		{"101 for an upgrade", 1, 1, 101, "HTTP/1.1 101 Switching Protocols\r\n"},
		{"unknown code gets a generic reason", 1, 1, 599, "HTTP/1.1 599 status code 599\r\n"},
		{"code below 100", 1, 1, 42, "HTTP/1.1 42 status code 42\r\n"},
		{"code above 999", 1, 1, 1000, "HTTP/1.1 1000 status code 1000\r\n"},
		{"negative code does not panic", 1, 1, -1, "HTTP/1.1 -1 status code -1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendStatusLine([]byte("x"), tt.major, tt.minor, tt.code)); got != "x"+tt.want {
				t.Fatalf("got %q, want %q", got, "x"+tt.want)
			}
		})
	}
}

func TestAppendStatusLineMatchesNetHTTPForEveryCode(t *testing.T) {
	for code := 100; code <= 999; code++ {
		text := http.StatusText(code)
		if text == "" {
			text = fmt.Sprintf("status code %d", code)
		}
		want := fmt.Sprintf("HTTP/1.1 %03d %s\r\n", code, text)
		if got := string(AppendStatusLine(nil, 1, 1, code)); got != want {
			t.Fatalf("code %d: got %q, want %q", code, got, want)
		}
	}
}

func TestAppendHeaders(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want string
	}{
		{"sorted names, values in order", http.Header{"Vary": {"A", "B"}, "Content-Type": {"text/plain"}, "Date": {"x"}},
			"Content-Type: text/plain\r\nDate: x\r\nVary: A\r\nVary: B\r\n"},
		{"values trimmed of SP and HTAB", http.Header{"X": {" \t a b \t"}}, "X: a b\r\n"},
		{"empty value", http.Header{"X": {""}}, "X: \r\n"},
		{"name with space skipped", http.Header{"Bad Name": {"v"}, "Ok": {"v"}}, "Ok: v\r\n"},
		{"empty name skipped", http.Header{"": {"v"}}, ""},
		{"name with CRLF skipped", http.Header{"X\r\nSet-Cookie": {"v"}}, ""},
		{"name with colon skipped", http.Header{"X:": {"v"}}, ""},
		{"value with CRLF skipped", http.Header{"X": {"a\r\nSet-Cookie: evil", "ok"}}, "X: ok\r\n"},
		{"value with bare LF skipped", http.Header{"X": {"a\nb"}}, ""},
		{"value with bare CR skipped", http.Header{"X": {"a\rb"}}, ""},
		{"value with NUL skipped", http.Header{"X": {"a\x00b"}}, ""},
		{"obs-text and tab inside a value kept", http.Header{"X": {"caf\xc3\xa9\tz"}}, "X: caf\xc3\xa9\tz\r\n"},
		{"nil header", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendHeaders(nil, tt.h)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendHeadersMatchesHeaderWrite(t *testing.T) {
	h := http.Header{}
	for i := 0; i < 100; i++ { // more names than fit the on-stack sort buffer
		h.Add(fmt.Sprintf("X-Field-%03d", (i*37)%100), fmt.Sprintf("v%d", i))
		h.Add("Set-Cookie", fmt.Sprintf("c%d=1", i%3))
	}
	var want bytes.Buffer
	if err := h.Write(&want); err != nil {
		t.Fatal(err)
	}
	if got := AppendHeaders(nil, h); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("AppendHeaders differs from Header.Write:\n%s\n---\n%s", got, want.Bytes())
	}
}

func TestAppendChunkHeader(t *testing.T) {
	for n, want := range map[int]string{0: "0\r\n", 1: "1\r\n", 15: "f\r\n", 16: "10\r\n", 255: "ff\r\n", 1 << 20: "100000\r\n", -5: "0\r\n"} {
		if got := string(AppendChunkHeader(nil, n)); got != want {
			t.Errorf("AppendChunkHeader(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestIsH2Preface(t *testing.T) {
	const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	tests := []struct {
		name        string
		in          string
		match, full bool
	}{
		{"empty input could still be the preface", "", true, false},
		{"partial preface", "PRI * HTTP/2", true, false},
		{"all but the last byte", preface[:23], true, false},
		{"full preface", preface, true, true},
		{"full preface and a frame", preface + "\x00\x00\x00\x04", true, true},
		{"HTTP/1.1 request", "GET / HTTP/1.1\r\n", false, false},
		{"diverges in the last byte", preface[:23] + "x", false, false},
		{"lower-case pri", "pri", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if match, full := IsH2Preface([]byte(tt.in)); match != tt.match || full != tt.full {
				t.Fatalf("IsH2Preface = %v, %v; want %v, %v", match, full, tt.match, tt.full)
			}
		})
	}
	if H2PrefaceLen != len(preface) {
		t.Fatalf("H2PrefaceLen = %d", H2PrefaceLen)
	}
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	in := []byte(benchRequest)
	var p Parser
	var req Request
	if a := testing.AllocsPerRun(100, func() {
		p.Reset()
		if n, err := p.Parse(in, &req); n != len(in) || err != nil {
			t.Fatalf("Parse = %d, %v", n, err)
		}
	}); a != 0 {
		t.Errorf("Parse allocates %.1f times per head", a)
	}

	body := benchChunkedBody()
	var d ChunkedDecoder
	dst := make([]byte, 0, 64<<10)
	if a := testing.AllocsPerRun(100, func() {
		d.Reset()
		if _, n, done, err := d.Decode(dst[:0], body); !done || err != nil || n != len(body) {
			t.Fatalf("Decode = %d, %v, %v", n, done, err)
		}
	}); a != 0 {
		t.Errorf("Decode allocates %.1f times per body", a)
	}

	h := benchResponseHeader()
	buf := make([]byte, 0, 1024)
	if a := testing.AllocsPerRun(100, func() {
		buf = appendBenchHead(buf[:0], h)
	}); a != 0 {
		t.Errorf("appending a response head allocates %.1f times", a)
	}
	if !strings.HasPrefix(string(buf), "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("head = %q", buf)
	}
}
