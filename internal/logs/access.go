package logs

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/gonicorn/gonicorn/internal/logs/accessformat"
)

// AccessEntry is what one access-log line is made of. The engine fills one per
// finished request.
type AccessEntry struct {
	// RemoteAddr is "ip:port", or a unix socket path or "": h prints the IP or "-".
	RemoteAddr string
	// Method, RequestURI (as sent) and Proto ("HTTP/1.1") make r = "METHOD URI PROTO".
	Method, RequestURI, Proto string
	// Status is the response status code; 0 prints "-".
	Status int
	// BodyBytes counts response body bytes: b prints "-" for 0, B prints 0.
	BodyBytes int64
	// Start is when the request began; t prints it as [02/Jan/2006:15:04:05 -0700]
	// in Start's location.
	Start time.Time
	// Duration is how long the request took: T s, M ms, D µs (integers), L decimal s.
	Duration time.Duration
	// Host is the request's host (net/http's r.Host): {host}i and {HTTP_HOST}e print it.
	Host string
	// ReqHeader and RespHeader feed f (Referer), a (User-Agent), u (basic-auth user),
	// {Name}i and {Name}o. Keys are expected in canonical form, as net/http keeps them.
	ReqHeader, RespHeader http.Header
}

// AccessLog formats Gunicorn access-log lines. The format is compiled once into a
// list of atoms; Log appends one line into a pooled buffer and writes it with one
// Write call, allocating nothing for the default format. Log is safe for concurrent
// use when the writer is (a ReopenFile is).
type AccessLog struct {
	w      io.Writer
	atoms  []atom
	pid    string
	stamp  atomic.Pointer[timeStamp]
	errors atomic.Uint64
}

// atom is a compiled accessformat.Atom with what it needs resolved up front.
type atom struct {
	kind accessformat.Kind
	text string // literal text, canonical header key, or an environment value
	cgi  cgiVar // for Environ atoms naming a request variable
}

// cgiVar names the request variables a {VAR}e atom may print, as in Gunicorn's WSGI
// environ; any other VAR is read from the process environment once, at compile time.
type cgiVar uint8

const (
	cgiNone cgiVar = iota
	cgiRequestMethod
	cgiRawURI
	cgiPathInfo
	cgiQueryString
	cgiServerProtocol
	cgiRemoteAddr
	cgiRemotePort
	cgiHeader // HTTP_*, CONTENT_TYPE, CONTENT_LENGTH: a request header (atom.text)
	cgiHost   // HTTP_HOST and {host}i: the request's Host, which is not in its header
)

var cgiNames = map[string]cgiVar{
	"REQUEST_METHOD": cgiRequestMethod, "RAW_URI": cgiRawURI, "REQUEST_URI": cgiRawURI,
	"PATH_INFO": cgiPathInfo, "QUERY_STRING": cgiQueryString, "SERVER_PROTOCOL": cgiServerProtocol,
	"REMOTE_ADDR": cgiRemoteAddr, "REMOTE_PORT": cgiRemotePort, "HTTP_HOST": cgiHost,
}

// NewAccessLog compiles format (Gunicorn's %(atom)s syntax) for lines written to w.
// An unknown atom or a malformed format is an error.
func NewAccessLog(w io.Writer, format string) (*AccessLog, error) {
	parsed, err := accessformat.Parse(format)
	if err != nil {
		return nil, err
	}
	l := &AccessLog{w: w, pid: "<" + strconv.Itoa(os.Getpid()) + ">"}
	for _, a := range parsed {
		c := atom{kind: a.Kind, text: a.Text}
		switch a.Kind {
		case accessformat.RequestHeader, accessformat.ResponseHeader:
			c.text = textproto.CanonicalMIMEHeaderKey(a.Text)
			if a.Kind == accessformat.RequestHeader && c.text == "Host" {
				c = atom{kind: accessformat.Environ, cgi: cgiHost}
			}
		case accessformat.Environ:
			c = compileEnviron(a.Text)
		}
		l.atoms = append(l.atoms, c)
	}
	return l, nil
}

func compileEnviron(name string) atom {
	upper := strings.ToUpper(name)
	if v, ok := cgiNames[upper]; ok {
		return atom{kind: accessformat.Environ, cgi: v}
	}
	switch {
	case strings.HasPrefix(upper, "HTTP_") && len(upper) > 5:
		key := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(upper[5:], "_", "-"))
		return atom{kind: accessformat.Environ, cgi: cgiHeader, text: key}
	case upper == "CONTENT_TYPE", upper == "CONTENT_LENGTH":
		key := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(upper, "_", "-"))
		return atom{kind: accessformat.Environ, cgi: cgiHeader, text: key}
	}
	value, ok := os.LookupEnv(name)
	if !ok {
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.EqualFold(k, name) {
				value, ok = v, true
				break
			}
		}
	}
	if !ok {
		value = ""
	}
	return atom{kind: accessformat.Environ, text: value}
}

var linePool bytebufferpool.Pool

// Log writes the line for e. A nil AccessLog logs nothing. Write errors are counted
// (see WriteErrors), not returned: a failing log must not fail a request.
func (l *AccessLog) Log(e *AccessEntry) {
	if l == nil {
		return
	}
	buf := linePool.Get()
	b := buf.B
	for i := range l.atoms {
		b = l.appendAtom(b, &l.atoms[i], e)
	}
	b = append(b, '\n')
	if _, err := l.w.Write(b); err != nil {
		l.errors.Add(1)
	}
	buf.B = b
	linePool.Put(buf)
}

// WriteErrors is how many lines could not be written.
func (l *AccessLog) WriteErrors() uint64 { return l.errors.Load() }

func (l *AccessLog) appendAtom(b []byte, a *atom, e *AccessEntry) []byte {
	switch a.kind {
	case accessformat.Literal:
		return append(b, a.text...)
	case accessformat.RemoteIP:
		return appendRemoteIP(b, e.RemoteAddr)
	case accessformat.Ident:
		return append(b, '-')
	case accessformat.User:
		return appendBasicUser(b, headerValue(e.ReqHeader, "Authorization"))
	case accessformat.Time:
		return l.appendTime(b, e.Start)
	case accessformat.RequestLine:
		if e.Method == "" && e.RequestURI == "" && e.Proto == "" {
			return append(b, '-')
		}
		b = appendSafe(b, e.Method)
		b = append(b, ' ')
		b = appendSafe(b, e.RequestURI)
		b = append(b, ' ')
		return appendSafe(b, e.Proto)
	case accessformat.Method:
		return appendOrDash(b, e.Method)
	case accessformat.Path:
		return appendPath(b, e.RequestURI)
	case accessformat.Query:
		return appendOrDash(b, queryOf(e.RequestURI))
	case accessformat.Proto:
		return appendOrDash(b, e.Proto)
	case accessformat.Status:
		if e.Status == 0 {
			return append(b, '-')
		}
		return strconv.AppendInt(b, int64(e.Status), 10)
	case accessformat.BytesZero:
		return strconv.AppendInt(b, e.BodyBytes, 10)
	case accessformat.BytesDash:
		if e.BodyBytes == 0 {
			return append(b, '-')
		}
		return strconv.AppendInt(b, e.BodyBytes, 10)
	case accessformat.Referer:
		return appendHeader(b, e.ReqHeader, "Referer")
	case accessformat.UserAgent:
		return appendHeader(b, e.ReqHeader, "User-Agent")
	case accessformat.Seconds:
		return strconv.AppendInt(b, int64(max(e.Duration, 0)/time.Second), 10)
	case accessformat.Millis:
		return strconv.AppendInt(b, int64(max(e.Duration, 0)/time.Millisecond), 10)
	case accessformat.Micros:
		return strconv.AppendInt(b, int64(max(e.Duration, 0)/time.Microsecond), 10)
	case accessformat.DecimalSeconds:
		return appendDecimalSeconds(b, max(e.Duration, 0))
	case accessformat.PID:
		return append(b, l.pid...)
	case accessformat.RequestHeader:
		return appendHeader(b, e.ReqHeader, a.text)
	case accessformat.ResponseHeader:
		return appendHeader(b, e.RespHeader, a.text)
	case accessformat.Environ:
		return appendEnviron(b, a, e)
	}
	return append(b, '-')
}

func appendEnviron(b []byte, a *atom, e *AccessEntry) []byte {
	switch a.cgi {
	case cgiRequestMethod:
		return appendOrDash(b, e.Method)
	case cgiRawURI:
		return appendOrDash(b, e.RequestURI)
	case cgiPathInfo:
		return appendPath(b, e.RequestURI)
	case cgiQueryString:
		return appendOrDash(b, queryOf(e.RequestURI))
	case cgiServerProtocol:
		return appendOrDash(b, e.Proto)
	case cgiRemoteAddr:
		return appendRemoteIP(b, e.RemoteAddr)
	case cgiRemotePort:
		if ap, err := netip.ParseAddrPort(e.RemoteAddr); err == nil {
			return strconv.AppendUint(b, uint64(ap.Port()), 10)
		}
		return append(b, '-')
	case cgiHeader:
		return appendHeader(b, e.ReqHeader, a.text)
	case cgiHost:
		return appendOrDash(b, e.Host)
	}
	return appendOrDash(b, a.text)
}

// timeStamp caches the t atom's text for one second in one location.
type timeStamp struct {
	sec  int64
	loc  *time.Location
	text []byte
}

const timeLayout = "[02/Jan/2006:15:04:05 -0700]"

func (l *AccessLog) appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '-')
	}
	sec, loc := t.Unix(), t.Location()
	if s := l.stamp.Load(); s != nil && s.sec == sec && s.loc == loc {
		return append(b, s.text...)
	}
	s := &timeStamp{sec: sec, loc: loc, text: t.AppendFormat(make([]byte, 0, len(timeLayout)+4), timeLayout)}
	l.stamp.Store(s)
	return append(b, s.text...)
}

// appendDecimalSeconds writes d as Gunicorn's L atom: seconds with six decimals.
func appendDecimalSeconds(b []byte, d time.Duration) []byte {
	us := int64(d / time.Microsecond)
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for div := int64(1e5); div > 0; div /= 10 {
		b = append(b, byte('0'+frac/div%10))
	}
	return b
}

// appendRemoteIP writes the IP of "ip:port" or of a bare IP, unmapping
// IPv4-mapped addresses, or "-" for anything else (a unix peer).
func appendRemoteIP(b []byte, remote string) []byte {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap().AppendTo(b)
	}
	if ip, err := netip.ParseAddr(remote); err == nil {
		return ip.Unmap().AppendTo(b)
	}
	return append(b, '-')
}

// headerValue is the first value of key (canonical) in h, or "".
func headerValue(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// appendHeader writes the values of key (canonical) joined by ", ", or "-".
func appendHeader(b []byte, h http.Header, key string) []byte {
	vs := h[key]
	if len(vs) == 0 || len(vs) == 1 && vs[0] == "" {
		return append(b, '-')
	}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendSafe(b, v)
	}
	return b
}

// appendBasicUser writes the user name of a Basic Authorization value, or "-".
func appendBasicUser(b []byte, auth string) []byte {
	const scheme = "basic "
	if len(auth) <= len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return append(b, '-')
	}
	start := len(b)
	b, ok := appendBase64Decoded(b, strings.TrimSpace(auth[len(scheme):]))
	if !ok {
		return append(b[:start], '-')
	}
	end := len(b)
	for i := start; i < end; i++ {
		if b[i] == ':' {
			end = i
			break
		}
	}
	if end == start {
		return append(b[:start], '-')
	}
	// Escape the name in place: walk it from the end into the room grown behind it.
	extra := 0
	for _, c := range b[start:end] {
		if c == '"' {
			extra++
		} else if c < 0x20 || c == 0x7f {
			extra += 3
		}
	}
	b = b[:end]
	if extra == 0 {
		return b
	}
	b = append(b, make([]byte, extra)...)
	w := len(b)
	for r := end - 1; r >= start; r-- {
		c := b[r]
		switch {
		case c == '"':
			w -= 2
			b[w], b[w+1] = '\\', '"'
		case c < 0x20 || c == 0x7f:
			w -= 4
			b[w], b[w+1], b[w+2], b[w+3] = '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf]
		default:
			w--
			b[w] = c
		}
	}
	return b
}

// appendBase64Decoded appends the standard (padded) base64 decoding of s to b.
func appendBase64Decoded(b []byte, s string) ([]byte, bool) {
	if len(s) == 0 || len(s)%4 != 0 {
		return b, false
	}
	for i := 0; i < len(s); i += 4 {
		var v uint32
		pad := 0
		for k := 0; k < 4; k++ {
			c := s[i+k]
			d := base64Value(c)
			switch {
			case c == '=' && i+4 == len(s) && k >= 2:
				pad++
				d = 0
			case d < 0 || pad > 0:
				return b, false
			}
			v = v<<6 | uint32(d)
		}
		b = append(b, byte(v>>16), byte(v>>8), byte(v))
		b = b[:len(b)-pad]
	}
	return b, true
}

func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// queryOf is the query of a request URI, without '?', or "".
func queryOf(uri string) string {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		q := uri[i+1:]
		if j := strings.IndexByte(q, '#'); j >= 0 {
			q = q[:j]
		}
		return q
	}
	return ""
}

// appendPath writes the percent-decoded path of a request URI (Gunicorn's
// PATH_INFO), dropping the scheme and host of an absolute URI, or "-".
func appendPath(b []byte, uri string) []byte {
	path := uri
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if i := strings.Index(path, "://"); i > 0 && !strings.HasPrefix(path, "/") {
		rest := path[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			path = rest[j:]
		} else {
			path = "/"
		}
	}
	if path == "" {
		return append(b, '-')
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) && isHex(path[i+1]) && isHex(path[i+2]) {
			c = unhex(path[i+1])<<4 | unhex(path[i+2])
			i += 2
		}
		b = appendSafeByte(b, c)
	}
	return b
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func appendOrDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendSafe(b, s)
}

// appendSafe writes s with '"' escaped as \" (as Gunicorn does) and control bytes
// as \xHH, so a value can neither end a quoted field nor forge a line.
func appendSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b = appendSafeByte(b, s[i])
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendSafeByte(b []byte, c byte) []byte {
	switch {
	case c == '"':
		return append(b, '\\', '"')
	case c < 0x20 || c == 0x7f:
		return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(b, c)
}

// String describes the log for debugging: its atom count and writer.
func (l *AccessLog) String() string {
	return fmt.Sprintf("AccessLog(%d atoms to %T)", len(l.atoms), l.w)
}
