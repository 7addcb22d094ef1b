package http1

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// summary renders everything Parse reports about a head, so results can be compared.
func summary(n int, err error, req *Request) string {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return fmt.Sprintf("non-*Error %T: %v", err, err)
		}
		return fmt.Sprintf("error %d %s", e.Status, e.Reason)
	}
	if n == 0 {
		return "incomplete"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "n=%d method=%q target=%q proto=%d.%d cl=%d chunked=%v keepalive=%v expect100=%v host=%s upgrade=%s settings=%s",
		n, req.Method, req.Target, req.ProtoMajor, req.ProtoMinor, req.ContentLength, req.Chunked,
		req.KeepAlive, req.Expect100, quoteOrNil(req.Host), quoteOrNil(req.Upgrade), quoteOrNil(req.HTTP2Settings))
	for _, f := range req.Fields {
		fmt.Fprintf(&b, " [%q: %q]", f.Name, f.Value)
	}
	return b.String()
}

func quoteOrNil(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

// parseWhole parses buf in one call with a fresh parser.
func parseWhole(buf []byte, lim Limits) (int, error, *Request) {
	p := Parser{Limits: lim}
	req := new(Request)
	n, err := p.Parse(buf, req)
	return n, err, req
}

// statusOf returns the status of a *Error, 0 for nil.
func statusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *Error", err, err)
	}
	return e.Status
}

// head joins lines with CRLF and ends the head with an empty line.
func head(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

type wantRequest struct {
	method, target string
	major, minor   int
	contentLength  int64
	chunked        bool
	keepAlive      bool
	expect100      bool
	host           *string // nil: expect nil
	upgrade        *string
	settings       *string
	fields         int
}

func ptr(s string) *string { return &s }

func (w wantRequest) check(t *testing.T, req *Request) {
	t.Helper()
	eqOpt := func(what string, got []byte, want *string) {
		t.Helper()
		switch {
		case want == nil && got != nil:
			t.Errorf("%s = %q, want nil", what, got)
		case want != nil && got == nil:
			t.Errorf("%s = nil, want %q", what, *want)
		case want != nil && string(got) != *want:
			t.Errorf("%s = %q, want %q", what, got, *want)
		}
	}
	if string(req.Method) != w.method || string(req.Target) != w.target {
		t.Errorf("method/target = %q %q, want %q %q", req.Method, req.Target, w.method, w.target)
	}
	if req.ProtoMajor != w.major || req.ProtoMinor != w.minor {
		t.Errorf("proto = %d.%d, want %d.%d", req.ProtoMajor, req.ProtoMinor, w.major, w.minor)
	}
	if req.ContentLength != w.contentLength || req.Chunked != w.chunked {
		t.Errorf("framing = cl %d chunked %v, want cl %d chunked %v", req.ContentLength, req.Chunked, w.contentLength, w.chunked)
	}
	if req.KeepAlive != w.keepAlive || req.Expect100 != w.expect100 {
		t.Errorf("keepalive/expect100 = %v/%v, want %v/%v", req.KeepAlive, req.Expect100, w.keepAlive, w.expect100)
	}
	eqOpt("Host", req.Host, w.host)
	eqOpt("Upgrade", req.Upgrade, w.upgrade)
	eqOpt("HTTP2Settings", req.HTTP2Settings, w.settings)
	if w.fields >= 0 && len(req.Fields) != w.fields {
		t.Errorf("len(Fields) = %d, want %d", len(req.Fields), w.fields)
	}
}

// get11 is the expectation for a plain keep-alive HTTP/1.1 GET / to Host h.
func get11(h string, fields int) wantRequest {
	return wantRequest{method: "GET", target: "/", major: 1, minor: 1, contentLength: -1, keepAlive: true, host: ptr(h), fields: fields}
}

func TestParseAcceptsValidHeads(t *testing.T) {
	with := func(w wantRequest, f func(*wantRequest)) wantRequest { f(&w); return w }
	tests := []struct {
		name string
		in   string
		want wantRequest
	}{
		{"minimal HTTP/1.1 GET", head("GET / HTTP/1.1", "Host: a"), get11("a", 1)},
		{"HTTP/1.0 needs no Host and closes by default", head("GET / HTTP/1.0"),
			wantRequest{method: "GET", target: "/", major: 1, minor: 0, contentLength: -1, fields: 0}},
		{"HTTP/1.0 keeps alive with Connection: keep-alive", head("GET / HTTP/1.0", "Connection: Keep-Alive"),
			wantRequest{method: "GET", target: "/", major: 1, minor: 0, contentLength: -1, keepAlive: true, fields: 1}},
		{"HTTP/1.2 is served as HTTP/1.1", head("GET / HTTP/1.2", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.minor = 2 })},
		{"leading empty lines are skipped", "\r\n\r\n" + head("GET / HTTP/1.1", "Host: a"), get11("a", 1)},
		{"lower-case method is a token", head("get / HTTP/1.1", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.method = "get" })},
		{"extension method", head("M-SEARCH /x HTTP/1.1", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.method, w.target = "M-SEARCH", "/x" })},
		{"asterisk-form with OPTIONS", head("OPTIONS * HTTP/1.1", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.method, w.target = "OPTIONS", "*" })},
		{"absolute-form with OPTIONS", head("OPTIONS http://a:1 HTTP/1.1", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.method, w.target = "OPTIONS", "http://a:1" })},
		{"CONNECT with an IPv6 authority", head("CONNECT [::1]:443 HTTP/1.1", "Host: [::1]:443"),
			with(get11("[::1]:443", 1), func(w *wantRequest) { w.method, w.target = "CONNECT", "[::1]:443" })},
		{"absolute-form target", head("GET http://h:1/p?q HTTP/1.1", "Host: h:1"),
			with(get11("h:1", 1), func(w *wantRequest) { w.target = "http://h:1/p?q" })},
		{"authority-form target", head("CONNECT h:443 HTTP/1.1", "Host: h:443"),
			with(get11("h:443", 1), func(w *wantRequest) { w.method, w.target = "CONNECT", "h:443" })},
		{"obs-text in target", head("GET /caf\xc3\xa9 HTTP/1.1", "Host: a"),
			with(get11("a", 1), func(w *wantRequest) { w.target = "/caf\xc3\xa9" })},
		{"empty Host is allowed", head("GET / HTTP/1.1", "Host:"), get11("", 1)},
		{"Host with IPv6 literal and port", head("GET / HTTP/1.1", "Host: [::1]:8000"), get11("[::1]:8000", 1)},
		{"Host value trimmed of OWS", head("GET / HTTP/1.1", "Host: \t a \t"), get11("a", 1)},
		{"HTTP/1.0 may send one Host", head("GET / HTTP/1.0", "Host: a"),
			wantRequest{method: "GET", target: "/", major: 1, minor: 0, contentLength: -1, host: ptr("a"), fields: 1}},
		{"field name case is kept and matched case-insensitively", head("GET / HTTP/1.1", "hOsT: a"), get11("a", 1)},
		{"tab and obs-text inside a value", head("GET / HTTP/1.1", "Host: a", "X: a\tb \xff"), get11("a", 2)},
		{"Content-Length zero", head("POST / HTTP/1.1", "Host: a", "Content-Length: 0"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.contentLength = "POST", 0 })},
		{"Content-Length with leading zeros", head("POST / HTTP/1.1", "Host: a", "Content-Length: 0042"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.contentLength = "POST", 42 })},
		{"Content-Length of MaxInt64", head("POST / HTTP/1.1", "Host: a", "Content-Length: 9223372036854775807"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.contentLength = "POST", 9223372036854775807 })},
		{"identical Content-Length fields", head("POST / HTTP/1.1", "Host: a", "Content-Length: 7", "content-length: 7"),
			with(get11("a", 3), func(w *wantRequest) { w.method, w.contentLength = "POST", 7 })},
		{"chunked", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.chunked = "POST", true })},
		{"chunked is case-insensitive", head("POST / HTTP/1.1", "Host: a", "transfer-encoding: CHUNKED"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.chunked = "POST", true })},
		{"empty Transfer-Encoding list elements are ignored", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: , chunked ,"),
			with(get11("a", 2), func(w *wantRequest) { w.method, w.chunked = "POST", true })},
		{"Connection: close", head("GET / HTTP/1.1", "Host: a", "Connection: close"),
			with(get11("a", 2), func(w *wantRequest) { w.keepAlive = false })},
		{"Connection: close wins over keep-alive", head("GET / HTTP/1.0", "Connection: keep-alive, CLOSE"),
			wantRequest{method: "GET", target: "/", major: 1, minor: 0, contentLength: -1, fields: 1}},
		{"Connection tokens across fields", head("GET / HTTP/1.1", "Host: a", "Connection: foo", "Connection: bar,close"),
			with(get11("a", 3), func(w *wantRequest) { w.keepAlive = false })},
		{"Upgrade when Connection lists upgrade", head("GET / HTTP/1.1", "Host: a", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMA"),
			with(get11("a", 4), func(w *wantRequest) { w.upgrade, w.settings = ptr("h2c"), ptr("AAMA") })},
		{"Upgrade ignored without Connection: upgrade", head("GET / HTTP/1.1", "Host: a", "Upgrade: websocket"), get11("a", 2)},
		{"Upgrade ignored in HTTP/1.0", head("GET / HTTP/1.0", "Connection: upgrade", "Upgrade: websocket"),
			wantRequest{method: "GET", target: "/", major: 1, minor: 0, contentLength: -1, fields: 2}},
		{"first Upgrade field wins", head("GET / HTTP/1.1", "Host: a", "Connection: upgrade", "Upgrade: websocket", "Upgrade: h2c"),
			with(get11("a", 4), func(w *wantRequest) { w.upgrade = ptr("websocket") })},
		{"HTTP2-Settings sent twice is dropped", head("GET / HTTP/1.1", "Host: a", "HTTP2-Settings: A", "HTTP2-Settings: B"), get11("a", 3)},
		{"Expect: 100-continue is case-insensitive", head("PUT / HTTP/1.1", "Host: a", "Content-Length: 1", "Expect: 100-Continue"),
			with(get11("a", 3), func(w *wantRequest) { w.method, w.contentLength, w.expect100 = "PUT", 1, true })},
		{"Expect: 100-continue ignored in HTTP/1.0", head("PUT / HTTP/1.0", "Content-Length: 1", "Expect: 100-continue"),
			wantRequest{method: "PUT", target: "/", major: 1, minor: 0, contentLength: 1, fields: 2}},
		{"empty Expect is ignored", head("GET / HTTP/1.1", "Host: a", "Expect:"), get11("a", 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err, req := parseWhole([]byte(tt.in), Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != len(tt.in) {
				t.Fatalf("n = %d, want %d", n, len(tt.in))
			}
			tt.want.check(t, req)
			checkSplits(t, []byte(tt.in), Limits{})
		})
	}
}

func TestParseFieldsKeepOrderNamesAndTrimmedValues(t *testing.T) {
	in := head("GET / HTTP/1.1", "Host:a", "x-One:  1 ", "X-ONE:\t2\t", "X-Empty:", "X-Inner: a  b")
	n, err, req := parseWhole([]byte(in), Limits{})
	if err != nil || n != len(in) {
		t.Fatalf("Parse = %d, %v", n, err)
	}
	want := [][2]string{{"Host", "a"}, {"x-One", "1"}, {"X-ONE", "2"}, {"X-Empty", ""}, {"X-Inner", "a  b"}}
	if len(req.Fields) != len(want) {
		t.Fatalf("got %d fields, want %d", len(req.Fields), len(want))
	}
	for i, w := range want {
		if f := req.Fields[i]; string(f.Name) != w[0] || string(f.Value) != w[1] {
			t.Errorf("field %d = %q: %q, want %q: %q", i, f.Name, f.Value, w[0], w[1])
		}
	}
}

func TestParseRefusesInvalidHeads(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		status int
	}{
		// line endings
		{"bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
		{"bare LF ends a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
		{"bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
		{"bare LF as a leading empty line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"bare CR inside a field value", head("GET / HTTP/1.1", "Host: a", "X: a\rb"), 400},
		{"bare CR inside a field name", head("GET / HTTP/1.1", "Host: a", "X\rY: b"), 400},
		{"bare CR inside the request target", head("GET /\r HTTP/1.1", "Host: a"), 400},
		{"bare CR after the version", head("GET / HTTP/1.1\r", "Host: a"), 400},
		{"bare CR as a line of its own", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400},
		{"too many leading empty lines", strings.Repeat("\r\n", maxLeadingEmptyLines+1) + head("GET / HTTP/1.1", "Host: a"), 400},
		// request line
		{"method is not a token", head("G(T / HTTP/1.1", "Host: a"), 400},
		{"request line starts with a space", head(" GET / HTTP/1.1", "Host: a"), 400},
		{"two spaces after the method", head("GET  / HTTP/1.1", "Host: a"), 400},
		{"two spaces before the version", head("GET /  HTTP/1.1", "Host: a"), 400},
		{"space inside the target", head("GET /a b HTTP/1.1", "Host: a"), 400},
		{"tab as separator", head("GET\t/ HTTP/1.1", "Host: a"), 400},
		{"tab inside the target", head("GET /a\tb HTTP/1.1", "Host: a"), 400},
		{"NUL inside the target", head("GET /a\x00 HTTP/1.1", "Host: a"), 400},
		{"DEL inside the target", head("GET /a\x7f HTTP/1.1", "Host: a"), 400},
		{"trailing space after the version", head("GET / HTTP/1.1 ", "Host: a"), 400},
		{"HTTP/0.9 request line without version", head("GET /"), 400},
		{"method only", head("GET"), 400},
		{"request line without spaces and a non-token byte", head("G@T"), 400},
		// versions
		{"HTTP/2.0 is not supported", head("GET / HTTP/2.0", "Host: a"), 505},
		{"HTTP/3 is not supported", head("GET / HTTP/3", "Host: a"), 505},
		{"HTTP/0.9 is not supported", head("GET / HTTP/0.9"), 505},
		{"h2 preface as HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
		{"HTTP/1 without minor", head("GET / HTTP/1", "Host: a"), 400},
		{"HTTP/1.1.1", head("GET / HTTP/1.1.1", "Host: a"), 400},
		{"lower-case http", head("GET / http/1.1", "Host: a"), 400},
		{"two-digit major", head("GET / HTTP/11.1", "Host: a"), 400},
		{"letter as minor", head("GET / HTTP/1.x", "Host: a"), 400},
		{"version without slash", head("GET / HTTP1.1", "Host: a"), 400},
		// field lines
		{"field line without colon", head("GET / HTTP/1.1", "Host: a", "X"), 400},
		{"empty field name", head("GET / HTTP/1.1", "Host: a", ": x"), 400},
		{"space between name and colon", head("GET / HTTP/1.1", "Host : a"), 400},
		{"tab between name and colon", head("GET / HTTP/1.1", "Host: a", "X\t: b"), 400},
		{"space inside field name", head("GET / HTTP/1.1", "Host: a", "X Y: b"), 400},
		{"non-token byte in field name", head("GET / HTTP/1.1", "Host: a", "X{: b"), 400},
		{"obs-text in field name", head("GET / HTTP/1.1", "Host: a", "X\xe9: b"), 400},
		{"obs-fold continuation line", head("GET / HTTP/1.1", "Host: a", "X: b", " c"), 400},
		{"obs-fold with tab", head("GET / HTTP/1.1", "Host: a", "X: b", "\tc"), 400},
		{"whitespace before the first field", head("GET / HTTP/1.1", " Host: a"), 400},
		{"NUL in field value", head("GET / HTTP/1.1", "Host: a", "X: a\x00b"), 400},
		{"control byte in field value", head("GET / HTTP/1.1", "Host: a", "X: a\x01b"), 400},
		{"DEL in field value", head("GET / HTTP/1.1", "Host: a", "X: a\x7f"), 400},
		// Host
		{"HTTP/1.1 without Host", head("GET / HTTP/1.1"), 400},
		{"two Host fields", head("GET / HTTP/1.1", "Host: a", "Host: a"), 400},
		{"two Host fields in HTTP/1.0", head("GET / HTTP/1.0", "Host: a", "host: b"), 400},
		{"space inside Host", head("GET / HTTP/1.1", "Host: a b"), 400},
		{"slash inside Host", head("GET / HTTP/1.1", "Host: a/b"), 400},
		// Content-Length
		{"Content-Length with plus sign", head("POST / HTTP/1.1", "Host: a", "Content-Length: +5"), 400},
		{"negative Content-Length", head("POST / HTTP/1.1", "Host: a", "Content-Length: -1"), 400},
		{"Content-Length with letters", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5a"), 400},
		{"hex Content-Length", head("POST / HTTP/1.1", "Host: a", "Content-Length: 0x10"), 400},
		{"empty Content-Length", head("POST / HTTP/1.1", "Host: a", "Content-Length:"), 400},
		{"Content-Length with inner space", head("POST / HTTP/1.1", "Host: a", "Content-Length: 1 2"), 400},
		{"Content-Length overflows int64", head("POST / HTTP/1.1", "Host: a", "Content-Length: 9223372036854775808"), 400},
		{"Content-Length far beyond int64", head("POST / HTTP/1.1", "Host: a", "Content-Length: 99999999999999999999999"), 400},
		{"differing Content-Length fields", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Length: 6"), 400},
		{"differing Content-Length list", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5, 6"), 400},
		{"Content-Length list with empty element", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5,"), 400},
		{"identical Content-Length list", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5, 5"), 400},
		{"identical Content-Length list without spaces", head("POST / HTTP/1.1", "Host: a", "Content-Length: 7,7,7"), 400},
		// request-target forms (RFC 9112 §3.2)
		{"asterisk-form with GET", head("GET * HTTP/1.1", "Host: a"), 400},
		{"authority-form with GET", head("GET example.com:80 HTTP/1.1", "Host: a"), 400},
		{"authority-form with OPTIONS", head("OPTIONS a:1 HTTP/1.1", "Host: a"), 400},
		{"CONNECT with an asterisk", head("CONNECT * HTTP/1.1", "Host: a"), 400},
		{"CONNECT with an absolute URI", head("CONNECT http://a:1/ HTTP/1.1", "Host: a"), 400},
		{"CONNECT without a port", head("CONNECT example.com HTTP/1.1", "Host: a"), 400},
		{"CONNECT with an empty port", head("CONNECT example.com: HTTP/1.1", "Host: a"), 400},
		{"target that is no form at all", head("GET abc HTTP/1.1", "Host: a"), 400},
		{"scheme without authority", head("GET urn:x HTTP/1.1", "Host: a"), 400},
		// Transfer-Encoding
		{"Transfer-Encoding with Content-Length", head("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Transfer-Encoding: chunked"), 400},
		{"Content-Length after Transfer-Encoding", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Content-Length: 5"), 400},
		{"Transfer-Encoding in HTTP/1.0", head("POST / HTTP/1.0", "Transfer-Encoding: chunked"), 400},
		{"chunked twice in one field", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, chunked"), 400},
		{"chunked twice in two fields", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), 400},
		{"empty Transfer-Encoding", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding:"), 400},
		{"gzip coding", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip"), 501},
		{"gzip then chunked", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked"), 501},
		{"chunked then gzip", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, gzip"), 501},
		{"gzip and chunked in two fields", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"), 501},
		{"identity coding", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: identity"), 501},
		{"unknown coding", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: xchunked"), 501},
		{"chunked with a parameter", head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked;q=1"), 501},
		// Expect
		{"unknown expectation", head("GET / HTTP/1.1", "Host: a", "Expect: something"), 417},
		{"100-continue listed with another expectation", head("GET / HTTP/1.1", "Host: a", "Expect: 100-continue, x"), 417},
		{"unknown expectation in HTTP/1.0", head("GET / HTTP/1.0", "Expect: something"), 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err, _ := parseWhole([]byte(tt.in), Limits{})
			if got := statusOf(t, err); got != tt.status || n != 0 {
				t.Fatalf("Parse = (%d, %v), want status %d", n, err, tt.status)
			}
			checkSplits(t, []byte(tt.in), Limits{})
		})
	}
}

func TestParseLimits(t *testing.T) {
	small := Limits{MaxRequestLine: 20, MaxHeaderFields: 3, MaxFieldSize: 16, MaxHeaderBytes: 100}
	line20 := "GET /" + strings.Repeat("a", 6) + " HTTP/1.1" // 20 bytes
	field16 := "X: " + strings.Repeat("v", 13)               // 16 bytes
	tests := []struct {
		name   string
		in     string
		lim    Limits
		status int // 0: complete
	}{
		{"request line at the limit", head(line20, "Host: a"), small, 0},
		{"request line over the limit", head("GET /"+strings.Repeat("a", 7)+" HTTP/1.1", "Host: a"), small, 414},
		{"incomplete request line over the limit", "GET /" + strings.Repeat("a", 16), small, 414},
		{"incomplete request line at the limit ending in CR", line20 + "\r", small, -1},
		{"default limit: 8 KiB target without line end", "GET /" + strings.Repeat("a", 8192), Limits{}, 414},
		{"default limit: request line of 8190 bytes", head("GET /"+strings.Repeat("a", 8190-14)+" HTTP/1.1", "Host: a"), Limits{}, 0},
		{"field line at the limit", head("GET / HTTP/1.1", "Host: a", field16), small, 0},
		{"field line over the limit", head("GET / HTTP/1.1", "Host: a", field16+"v"), small, 431},
		{"incomplete field line over the limit", "GET / HTTP/1.1\r\nHost: a\r\n" + field16 + "v", small, 431},
		{"field size unlimited by default", head("GET / HTTP/1.1", "Host: a", "X: "+strings.Repeat("v", 100000)), Limits{}, 0},
		{"fields at the limit", head("GET / HTTP/1.1", "Host: a", "B: 1", "C: 2"), small, 0},
		{"one field over the limit", head("GET / HTTP/1.1", "Host: a", "B: 1", "C: 2", "D: 3"), small, 431},
		{"incomplete field over the count limit", "GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD", small, 431},
		{"head at the byte limit", headOfSize(100), Limits{MaxHeaderBytes: 100}, 0},
		{"head one byte over the limit", headOfSize(101), Limits{MaxHeaderBytes: 100}, 431},
		{"incomplete head over the byte limit", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 20), Limits{MaxHeaderBytes: 100}, 431},
		{"leading empty lines count toward the byte limit", strings.Repeat("\r\n", 8) + "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 12), Limits{MaxHeaderBytes: 100}, 431},
		{"default field count limit", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", DefaultMaxHeaderFields) + "\r\n", Limits{MaxHeaderBytes: 1 << 30}, 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err, _ := parseWhole([]byte(tt.in), tt.lim)
			got := statusOf(t, err)
			switch {
			case tt.status == 0 && (err != nil || n != len(tt.in)):
				t.Fatalf("Parse = (%d, %v), want complete %d", n, err, len(tt.in))
			case tt.status == -1 && (err != nil || n != 0):
				t.Fatalf("Parse = (%d, %v), want incomplete", n, err)
			case tt.status > 0 && got != tt.status:
				t.Fatalf("Parse = (%d, %v), want status %d", n, err, tt.status)
			}
		})
	}
}

// headOfSize returns a valid head of exactly size bytes (size ≥ 32).
func headOfSize(size int) string {
	h := head("GET / HTTP/1.1", "Host: a", "X: ")
	return head("GET / HTTP/1.1", "Host: a", "X: "+strings.Repeat("v", size-len(h)))
}

func TestParseHeadBytesCheckedBeforeBufferEnds(t *testing.T) {
	// A 4 MiB flood without LF must be refused after looking at no more than the limit.
	flood := append([]byte("GET / HTTP/1.1\r\nX: "), bytes.Repeat([]byte("a"), 4<<20)...)
	p := Parser{}
	n, err := p.Parse(flood, new(Request))
	if statusOf(t, err) != 431 || n != 0 {
		t.Fatalf("Parse = (%d, %v), want 431", n, err)
	}
	if p.pos > DefaultMaxHeaderBytes+1 {
		t.Fatalf("scanned %d bytes, want at most %d", p.pos, DefaultMaxHeaderBytes+1)
	}
}

func TestParseIncompleteHeads(t *testing.T) {
	for _, in := range []string{"", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "\r\n\r\n"} {
		n, err, _ := parseWhole([]byte(in), Limits{})
		if n != 0 || err != nil {
			t.Errorf("Parse(%q) = (%d, %v), want incomplete", in, n, err)
		}
	}
}

func TestParseResumesWhereItStopped(t *testing.T) {
	// Fed one byte at a time, the parser must search each byte once: its position after
	// every incomplete call is the end of what it was given.
	in := []byte(head("GET / HTTP/1.1", "Host: a", "X: "+strings.Repeat("v", 5000)))
	var p Parser
	req := new(Request)
	for i := 1; i < len(in); i++ {
		if n, err := p.Parse(in[:i], req); n != 0 || err != nil {
			t.Fatalf("Parse(in[:%d]) = (%d, %v), want incomplete", i, n, err)
		}
		if p.pos != i {
			t.Fatalf("after %d bytes the parser scanned up to %d", i, p.pos)
		}
	}
	if n, err := p.Parse(in, req); n != len(in) || err != nil {
		t.Fatalf("Parse(all) = (%d, %v)", n, err)
	}
}

func TestParsePipelinedHeads(t *testing.T) {
	first := head("GET /1 HTTP/1.1", "Host: a")
	second := head("POST /2 HTTP/1.1", "Host: b", "Content-Length: 3") + "abc"
	third := head("GET /3 HTTP/1.1", "Host: c", "Connection: close")
	buf := []byte(first + second + third + "GET /4 HT")
	var p Parser
	var req Request
	var targets []string
	for off := 0; ; {
		n, err := p.Parse(buf[off:], &req)
		if err != nil {
			t.Fatalf("Parse at %d: %v", off, err)
		}
		if n == 0 {
			if rest := string(buf[off:]); rest != "GET /4 HT" {
				t.Fatalf("incomplete rest = %q", rest)
			}
			break
		}
		targets = append(targets, string(req.Target))
		off += n + int(max(req.ContentLength, 0))
		p.Reset()
	}
	if got := strings.Join(targets, ","); got != "/1,/2,/3" {
		t.Fatalf("targets = %s, want /1,/2,/3", got)
	}
}

func TestParseWithoutResetStartsOver(t *testing.T) {
	buf := []byte(head("GET /a HTTP/1.1", "Host: a") + head("GET /b HTTP/1.1", "Host: b"))
	var p Parser
	var req Request
	n, err := p.Parse(buf, &req)
	if err != nil || string(req.Target) != "/a" {
		t.Fatalf("first Parse = (%d, %v) %q", n, err, req.Target)
	}
	if _, err := p.Parse(buf[n:], &req); err != nil || string(req.Target) != "/b" {
		t.Fatalf("second Parse without Reset = %v %q", err, req.Target)
	}
	// A bad head is reported again, not remembered as a different state.
	bad := []byte("GET / HTTP/1.1\nHost: a\r\n\r\n")
	for i := 0; i < 2; i++ {
		if _, err := p.Parse(bad, &req); statusOf(t, err) != 400 {
			t.Fatalf("bad head, call %d: %v", i, err)
		}
	}
}

func TestParseShorterBufferStartsOver(t *testing.T) {
	var p Parser
	var req Request
	if n, err := p.Parse([]byte("GET /long-target-that-was"), &req); n != 0 || err != nil {
		t.Fatalf("partial: %d %v", n, err)
	}
	in := head("GET / HTTP/1.1", "Host: a")[:10] // shorter than what was scanned
	if n, err := p.Parse([]byte(in), &req); n != 0 || err != nil {
		t.Fatalf("shorter: %d %v", n, err)
	}
	full := head("GET / HTTP/1.1", "Host: a")
	if n, err := p.Parse([]byte(full), &req); n != len(full) || err != nil || string(req.Target) != "/" {
		t.Fatalf("full: %d %v %q", n, err, req.Target)
	}
}

func TestParseSlicesCannotOverwriteTheBuffer(t *testing.T) {
	buf := []byte(head("GET /abc HTTP/1.1", "Host: a", "X: v"))
	orig := string(buf)
	_, err, req := parseWhole(buf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_ = append(req.Method, "XXXX"...)
	_ = append(req.Target, "XXXX"...)
	_ = append(req.Host, "XXXX"...)
	for _, f := range req.Fields {
		_ = append(f.Name, "XXXX"...)
		_ = append(f.Value, "XXXX"...)
	}
	if string(buf) != orig {
		t.Fatalf("buffer changed to %q", buf)
	}
}

func TestParseRequestReuseClearsPreviousValues(t *testing.T) {
	var p Parser
	var req Request
	a := head("POST /a HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Connection: upgrade", "Upgrade: x", "HTTP2-Settings: s", "Expect: 100-continue")
	if _, err := p.Parse([]byte(a), &req); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	if _, err := p.Parse([]byte(head("GET /b HTTP/1.0")), &req); err != nil {
		t.Fatal(err)
	}
	wantRequest{method: "GET", target: "/b", major: 1, minor: 0, contentLength: -1, fields: 0}.check(t, &req)
}

func TestErrorMessage(t *testing.T) {
	_, err, _ := parseWhole([]byte(head("GET / HTTP/1.1")), Limits{})
	if got := err.Error(); got != "http1: 400 HTTP/1.1 request without Host" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestResetDropsAnOversizedFieldIndex(t *testing.T) {
	var p Parser
	in := "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 4*maxRetainedSpans) + "\r\n"
	if _, err := p.Parse([]byte(in), new(Request)); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	if cap(p.spans) > maxRetainedSpans {
		t.Fatalf("Reset kept %d spans of capacity", cap(p.spans))
	}
}

func TestIsToken(t *testing.T) {
	for in, want := range map[string]bool{"GET": true, "X-Custom_1.~!#$%&'*+^`|": true, "": false, "a b": false, "a:": false, "a\x00": false, "caf\xc3\xa9": false, "(x)": false} {
		if got := IsToken([]byte(in)); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	got := Limits{MaxRequestLine: -1, MaxHeaderFields: -1, MaxFieldSize: -1, MaxHeaderBytes: -1}.withDefaults()
	want := Limits{DefaultMaxRequestLine, DefaultMaxHeaderFields, 0, DefaultMaxHeaderBytes}
	if got != want {
		t.Fatalf("withDefaults = %+v, want %+v", got, want)
	}
}

func TestHugeLimitsDoNotOverflow(t *testing.T) {
	huge := Limits{MaxRequestLine: math.MaxInt, MaxHeaderFields: math.MaxInt, MaxFieldSize: math.MaxInt, MaxHeaderBytes: math.MaxInt}
	in := head("GET / HTTP/1.1", "Host: a")
	checkSplits(t, []byte(in), huge)
	if n, err, _ := parseWhole([]byte(in), huge); n != len(in) || err != nil {
		t.Fatalf("Parse = %d, %v", n, err)
	}
}
