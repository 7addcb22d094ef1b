package logs

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/config"
)

var testStart = time.Date(2026, time.November, 22, 15, 4, 5, 0, time.UTC)

func sampleEntry() *AccessEntry {
	return &AccessEntry{
		RemoteAddr: "192.0.2.10:54321",
		Method:     "GET",
		RequestURI: "/a%20b/c?x=1&y=2",
		Proto:      "HTTP/1.1",
		Host:       "app.example:8000",
		Status:     200,
		BodyBytes:  13,
		Start:      testStart,
		Duration:   1234567 * time.Microsecond,
		ReqHeader: http.Header{
			"Referer":         {"http://example.com/"},
			"User-Agent":      {"curl/8.0"},
			"X-Forwarded-For": {"203.0.113.1", "198.51.100.2"},
			"Content-Type":    {"text/plain"},
		},
		RespHeader: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Empty": {""}},
	}
}

func logLine(t *testing.T, format string, e *AccessEntry) string {
	t.Helper()
	var b bytes.Buffer
	l, err := NewAccessLog(&b, format)
	if err != nil {
		t.Fatalf("NewAccessLog(%q): %v", format, err)
	}
	l.Log(e)
	out := b.String()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("not one line: %q", out)
	}
	return strings.TrimSuffix(out, "\n")
}

func TestAtoms(t *testing.T) {
	pid := "<" + strconv.Itoa(os.Getpid()) + ">"
	tests := []struct {
		name   string
		format string
		change func(e *AccessEntry)
		want   string
	}{
		{"h prints the IP", "%(h)s", nil, "192.0.2.10"},
		{"h of an IPv6 peer", "%(h)s", func(e *AccessEntry) { e.RemoteAddr = "[2001:db8::1]:80" }, "2001:db8::1"},
		{"h unmaps IPv4-mapped peers", "%(h)s", func(e *AccessEntry) { e.RemoteAddr = "[::ffff:10.1.2.3]:80" }, "10.1.2.3"},
		{"h of a bare IP", "%(h)s", func(e *AccessEntry) { e.RemoteAddr = "10.0.0.1" }, "10.0.0.1"},
		{"h of a unix peer", "%(h)s", func(e *AccessEntry) { e.RemoteAddr = "/run/app.sock" }, "-"},
		{"h of nothing", "%(h)s", func(e *AccessEntry) { e.RemoteAddr = "" }, "-"},
		{"l is always a dash", "%(l)s", nil, "-"},
		{"u without auth", "%(u)s", nil, "-"},
		{"t in Gunicorn's layout", "%(t)s", nil, "[22/Nov/2026:15:04:05 +0000]"},
		{"t in the entry's zone", "%(t)s", func(e *AccessEntry) {
			e.Start = testStart.In(time.FixedZone("X", -5*3600-30*60))
		}, "[22/Nov/2026:09:34:05 -0530]"},
		{"t of a zero start", "%(t)s", func(e *AccessEntry) { e.Start = time.Time{} }, "-"},
		{"r is the request line", "%(r)s", nil, "GET /a%20b/c?x=1&y=2 HTTP/1.1"},
		{"r of an unparsed request", "%(r)s", func(e *AccessEntry) { e.Method, e.RequestURI, e.Proto = "", "", "" }, "-"},
		{"m", "%(m)s", nil, "GET"},
		{"U is the decoded path", "%(U)s", nil, "/a b/c"},
		{"U of an absolute URI", "%(U)s", func(e *AccessEntry) { e.RequestURI = "http://example.com/p/q?z" }, "/p/q"},
		{"U of an absolute URI without path", "%(U)s", func(e *AccessEntry) { e.RequestURI = "http://example.com" }, "/"},
		{"U of asterisk", "%(U)s", func(e *AccessEntry) { e.RequestURI = "*" }, "*"},
		{"U keeps bad escapes", "%(U)s", func(e *AccessEntry) { e.RequestURI = "/%zz%4" }, "/%zz%4"},
		{"U escapes decoded control bytes", "%(U)s", func(e *AccessEntry) { e.RequestURI = "/a%0Ab%22" }, `/a\x0ab\"`},
		{"q is the raw query", "%(q)s", nil, "x=1&y=2"},
		{"q without query", "%(q)s", func(e *AccessEntry) { e.RequestURI = "/" }, "-"},
		{"H", "%(H)s", nil, "HTTP/1.1"},
		{"s", "%(s)s", nil, "200"},
		{"s as %d", "%(s)d", nil, "200"},
		{"s of no response", "%(s)s", func(e *AccessEntry) { e.Status = 0 }, "-"},
		{"B", "%(B)s", nil, "13"},
		{"B of an empty body", "%(B)s", func(e *AccessEntry) { e.BodyBytes = 0 }, "0"},
		{"b", "%(b)s", nil, "13"},
		{"b of an empty body", "%(b)s", func(e *AccessEntry) { e.BodyBytes = 0 }, "-"},
		{"f", "%(f)s", nil, "http://example.com/"},
		{"f missing", "%(f)s", func(e *AccessEntry) { delete(e.ReqHeader, "Referer") }, "-"},
		{"a", "%(a)s", nil, "curl/8.0"},
		{"a with nil headers", "%(a)s", func(e *AccessEntry) { e.ReqHeader = nil }, "-"},
		{"T whole seconds", "%(T)s", nil, "1"},
		{"M whole milliseconds", "%(M)s", nil, "1234"},
		{"D microseconds", "%(D)s", nil, "1234567"},
		{"L decimal seconds", "%(L)s", nil, "1.234567"},
		{"L of a short request", "%(L)s", func(e *AccessEntry) { e.Duration = 42 * time.Microsecond }, "0.000042"},
		{"negative duration prints zero", "%(D)s %(L)s", func(e *AccessEntry) { e.Duration = -time.Second }, "0 0.000000"},
		{"p", "%(p)s", nil, pid},
		{"request header, any case", "%({x-forwarded-for}i)s", nil, "203.0.113.1, 198.51.100.2"},
		{"missing request header", "%({X-Nope}i)s", nil, "-"},
		{"host is the request's, not a header", "%({host}i)s %({HTTP_HOST}e)s", nil, "app.example:8000 app.example:8000"},
		{"host of a request without one", "%({Host}i)s", func(e *AccessEntry) { e.Host = "" }, "-"},
		{"host escaped", "%({host}i)s", func(e *AccessEntry) { e.Host = "a\"b\n" }, `a\"b\x0a`},
		{"response header", "%({Content-Type}o)s", nil, "text/plain; charset=utf-8"},
		{"empty response header", "%({X-Empty}o)s", nil, "-"},
		{"request variable from the environ", "%({REQUEST_METHOD}e)s %({PATH_INFO}e)s %({QUERY_STRING}e)s", nil, "GET /a b/c x=1&y=2"},
		{"header variable from the environ", "%({HTTP_USER_AGENT}e)s %({CONTENT_TYPE}e)s", nil, "curl/8.0 text/plain"},
		{"remote variables from the environ", "%({REMOTE_ADDR}e)s:%({remote_port}e)s", nil, "192.0.2.10:54321"},
		{"raw uri and protocol", "%({RAW_URI}e)s %({SERVER_PROTOCOL}e)s", nil, "/a%20b/c?x=1&y=2 HTTP/1.1"},
		{"unset environment variable", "%({GONICORN_SURELY_UNSET_VAR}e)s", nil, "-"},
		{"literals and percent", `100%% "%(s)s"`, nil, `100% "200"`},
		{"quotes in values are escaped", `"%(a)s"`, func(e *AccessEntry) { e.ReqHeader.Set("User-Agent", `evil" 200 "x`) }, `"evil\" 200 \"x"`},
		{"control bytes are escaped", "%(a)s", func(e *AccessEntry) { e.ReqHeader.Set("User-Agent", "a\r\nb\x7f") }, `a\x0d\x0ab\x7f`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			if tt.change != nil {
				tt.change(e)
			}
			if got := logLine(t, tt.format, e); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
}

func TestEnvironmentVariableAtom(t *testing.T) {
	t.Setenv("GONICORN_TEST_POD", "pod-7")
	if got := logLine(t, "%({GONICORN_TEST_POD}e)s %({gonicorn_test_pod}e)s", sampleEntry()); got != "pod-7 pod-7" {
		t.Errorf("got %q", got)
	}
}

func basic(userpass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userpass))
}

func TestUserAtom(t *testing.T) {
	tests := []struct{ name, auth, want string }{
		{"basic user", basic("alice:secret"), "alice"},
		{"scheme in any case", "bAsIc " + base64.StdEncoding.EncodeToString([]byte("bob:x")), "bob"},
		{"no password part", basic("carol"), "carol"},
		{"one padding byte", basic("ab:"), "ab"},
		{"two padding bytes", basic("a:"), "a"},
		{"empty user", basic(":pw"), "-"},
		{"quote in user is escaped", basic(`d"e:pw`), `d\"e`},
		{"control byte in user is escaped", basic("f\ng:pw"), `f\x0ag`},
		{"bad base64", "Basic !!!!", "-"},
		{"bad length", "Basic YWJj=", "-"},
		{"padding inside", "Basic YQ==YWJj", "-"},
		{"bearer token", "Bearer abc", "-"},
		{"scheme only", "Basic", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := sampleEntry()
			e.ReqHeader.Set("Authorization", tt.auth)
			if got := logLine(t, "%(u)s", e); got != tt.want {
				t.Errorf("u = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDefaultFormatLine(t *testing.T) {
	e := sampleEntry()
	e.ReqHeader.Set("Authorization", basic("alice:pw"))
	got := logLine(t, config.DefaultAccessLogFormat, e)
	want := `192.0.2.10 - alice [22/Nov/2026:15:04:05 +0000] "GET /a%20b/c?x=1&y=2 HTTP/1.1" 200 13 "http://example.com/" "curl/8.0"`
	if got != want {
		t.Errorf("default line\n got %s\nwant %s", got, want)
	}
}

func TestTimeCacheFollowsSecondAndZone(t *testing.T) {
	var b bytes.Buffer
	l, err := NewAccessLog(&b, "%(t)s")
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEntry()
	for _, start := range []time.Time{testStart, testStart.Add(500 * time.Millisecond), testStart.Add(time.Second), testStart.In(time.FixedZone("P", 3600))} {
		e.Start = start
		l.Log(e)
	}
	want := "[22/Nov/2026:15:04:05 +0000]\n[22/Nov/2026:15:04:05 +0000]\n[22/Nov/2026:15:04:06 +0000]\n[22/Nov/2026:16:04:05 +0100]\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestNewAccessLogRejectsBadFormats(t *testing.T) {
	for _, f := range []string{"%(nope)s", "%(h", "50%"} {
		if _, err := NewAccessLog(io.Discard, f); err == nil {
			t.Errorf("NewAccessLog(%q) succeeded", f)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteErrorsAreCounted(t *testing.T) {
	l, err := NewAccessLog(failingWriter{}, "%(s)s")
	if err != nil {
		t.Fatal(err)
	}
	l.Log(sampleEntry())
	l.Log(sampleEntry())
	if n := l.WriteErrors(); n != 2 {
		t.Errorf("WriteErrors = %d, want 2", n)
	}
	var nilLog *AccessLog
	nilLog.Log(sampleEntry()) // a nil log is off, not a crash
}

func TestDefaultFormatDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	l, err := NewAccessLog(io.Discard, config.DefaultAccessLogFormat)
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEntry()
	e.ReqHeader.Set("Authorization", basic("alice:pw"))
	e.Start = time.Now()
	l.Log(e) // warm the pool and the time cache
	if n := testing.AllocsPerRun(200, func() { l.Log(e) }); n != 0 {
		t.Errorf("Log allocates %v times per line, want 0", n)
	}
}

// lockedBuffer is a concurrency-safe bytes.Buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	var out lockedBuffer
	l, err := NewAccessLog(&out, `%(h)s "%(r)s" %(s)s %({X-N}i)s`)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			e := sampleEntry()
			e.ReqHeader = http.Header{"X-N": {strconv.Itoa(g)}}
			for i := 0; i < each; i++ {
				l.Log(e)
			}
		}(g)
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*each)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, `192.0.2.10 "GET /a%20b/c?x=1&y=2 HTTP/1.1" 200 `) {
			t.Fatalf("mangled line %q", line)
		}
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("127.0.0.1:1", "GET", "/p%41th?q=1", "ua", basic("u:p"), int64(5))
	f.Add("[::1]:2", "", "http://h", "\x00\n\"", "Basic ====", int64(0))
	f.Fuzz(func(t *testing.T, remote, method, uri, ua, auth string, n int64) {
		var b bytes.Buffer
		l, err := NewAccessLog(&b, config.DefaultAccessLogFormat+" %(U)s %(q)s %(L)s %({REMOTE_PORT}e)s")
		if err != nil {
			t.Fatal(err)
		}
		l.Log(&AccessEntry{RemoteAddr: remote, Method: method, RequestURI: uri, Proto: "HTTP/1.1", BodyBytes: n,
			Start: testStart, ReqHeader: http.Header{"User-Agent": {ua}, "Authorization": {auth}}})
		out := b.Bytes()
		if bytes.IndexByte(out, '\n') != len(out)-1 {
			t.Fatalf("line break inside a line: %q", out)
		}
		for _, c := range out[:len(out)-1] {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("raw control byte %#x in %q", c, out)
			}
		}
	})
}

func BenchmarkAccessLog(b *testing.B) {
	l, err := NewAccessLog(io.Discard, config.DefaultAccessLogFormat)
	if err != nil {
		b.Fatal(err)
	}
	e := sampleEntry()
	e.Start = time.Now()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(e)
	}
}

func BenchmarkAccessLogParallel(b *testing.B) {
	l, err := NewAccessLog(io.Discard, config.DefaultAccessLogFormat+" %(L)s %({X-Forwarded-For}i)s")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		e := sampleEntry()
		for pb.Next() {
			e.Start = time.Now()
			l.Log(e)
		}
	})
}
