package http1

import (
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits picks the limits a fuzz input runs under: the defaults, or small ones that
// make every limit reachable.
func fuzzLimits(small bool) Limits {
	if small {
		return Limits{MaxRequestLine: 40, MaxHeaderFields: 4, MaxFieldSize: 32, MaxHeaderBytes: 160}
	}
	return Limits{}
}

func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "requests", "*.http"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint16(len(b)/2), false)
			f.Add(b, uint16(7), true)
		}
	}
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"\r\n\r\nGET / HTTP/2.0\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
		// request lines that are HTTP but malformed, and the RFC 9112 §3.2 target forms
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
		"GET /\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT http://a:1/ HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(len(s)/3), false)
		f.Add([]byte(s), uint16(len(s)/3), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16, small bool) {
		lim := fuzzLimits(small)
		n, err, req := parseWhole(data, lim)
		if n < 0 || n > len(data) {
			t.Fatalf("n = %d for %d bytes", n, len(data))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || n != 0 {
				t.Fatalf("error %T %v with n=%d", err, err, n)
			}
		}
		whole := summary(n, err, req)
		if n > 0 {
			if !bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
				t.Fatalf("complete head does not end in CRLFCRLF: %q", data[:n])
			}
			if again, err2, req2 := parseWhole(data[:n], lim); summary(again, err2, req2) != whole {
				t.Fatalf("head alone parses differently: %s vs %s", summary(again, err2, req2), whole)
			}
		}

		k := int(split)
		if k > len(data) {
			k = len(data)
		}
		p := Parser{Limits: lim}
		r := new(Request)
		n2, err2 := p.Parse(append([]byte(nil), data[:k]...), r)
		if err2 == nil && n2 == 0 {
			n2, err2 = p.Parse(append([]byte(nil), data...), r)
		}
		got := summary(n2, err2, r)
		if small {
			// Under small limits a partial line can break the head limit before it
			// breaks its own: same status, possibly another reason.
			if statusOf(t, err2) != statusOf(t, err) || n2 != n {
				t.Fatalf("split at %d: %s, whole: %s", k, got, whole)
			}
			return
		}
		if got != whole {
			t.Fatalf("split at %d:\n got %s\nwant %s", k, got, whole)
		}
	})
}

func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"5;a=b;c=\"d\\\"e\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n",
		"5 ; a = b\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
		"8000000000000000\r\n",
		"5\r\nhello\n0\r\n\r\n",
		"0\r\nX: a\r\n b\r\n\r\n",
		"0\r\nContent-Length: 5\r\nHost: x\r\n\r\n",
		"0\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole := decodeInPieces(data, 0, 64)
		if whole.status < 0 {
			t.Fatalf("whole: %v", whole)
		}
		if byOne := decodeInPieces(data, 1, 64); byOne != whole {
			t.Fatalf("byte by byte:\n got %v\nwant %v", byOne, whole)
		}
		if s := int(step); s > 1 {
			if got := decodeInPieces(data, s, 64); got != whole {
				t.Fatalf("in pieces of %d:\n got %v\nwant %v", s, got, whole)
			}
		}
		if whole.done && whole.status == 0 {
			std, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(data[:whole.consumed])))
			if err == nil && string(std) != whole.out {
				t.Fatalf("httputil decodes %q, we decode %q", std, whole.out)
			}
		}
	})
}
