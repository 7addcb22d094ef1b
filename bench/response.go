package bench

import (
	"bytes"
	"errors"
	"fmt"
)

// Response framing is all the generator parses: enough to find where each HTTP/1.x
// response ends and to check its status and body, nothing more. The scanner is pure:
// it looks at bytes and returns what it found or that more bytes are needed.

var (
	errIncomplete = errors.New("incomplete response")
	errHeadTooBig = errors.New("response head exceeds 64 KiB")
)

const maxResponseHead = 64 << 10

// respHead is what scanResponse learned about one HTTP/1.x response.
type respHead struct {
	status    int
	headLen   int   // status line, fields and the blank line
	bodyLen   int64 // Content-Length, or -1 when chunked or read to EOF
	chunked   bool
	untilEOF  bool // no framing: the body runs to the end of the connection
	close     bool // Connection: close
	interim   bool // a 1xx other than 101: another response follows
	total     int  // the whole response, when complete (not for untilEOF)
	chunkData int  // decoded body length of a chunked response
}

// scanResponse looks for one complete response at the start of b. It returns
// errIncomplete when b holds only part of it; for a response whose body runs to the
// end of the connection it returns the head with untilEOF set and total 0.
// noBody is set for responses to HEAD requests.
func scanResponse(b []byte, noBody bool) (respHead, error) {
	var r respHead
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > maxResponseHead {
			return r, errHeadTooBig
		}
		return r, errIncomplete
	}
	if end+4 > maxResponseHead {
		return r, errHeadTooBig
	}
	r.headLen = end + 4
	head := b[:end+2] // every line with its CRLF
	nl := bytes.IndexByte(head, '\n')
	status, err := parseStatusLine(head[:nl+1])
	if err != nil {
		return r, err
	}
	r.status = status
	r.bodyLen = -1
	haveLen := false
	for rest := head[nl+1:]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return r, fmt.Errorf("header line not ended by CRLF: %q", clip(line))
		}
		line = line[:len(line)-1]
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return r, fmt.Errorf("malformed header line %q", clip(line))
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, ok := parseDecimal(value)
			if !ok || (haveLen && n != r.bodyLen) {
				return r, fmt.Errorf("bad Content-Length %q", clip(value))
			}
			r.bodyLen, haveLen = n, true
		case asciiEqualFold(name, "transfer-encoding"):
			if !asciiEqualFold(value, "chunked") {
				return r, fmt.Errorf("unsupported Transfer-Encoding %q", clip(value))
			}
			r.chunked = true
		case asciiEqualFold(name, "connection"):
			if asciiContainsFold(value, "close") {
				r.close = true
			}
		}
	}
	switch {
	case status >= 100 && status < 200 && status != 101:
		r.interim, r.bodyLen, r.total = true, 0, r.headLen
		return r, nil
	case noBody || status == 204 || status == 304:
		r.bodyLen, r.chunked, r.total = 0, false, r.headLen
		return r, nil
	case r.chunked:
		if haveLen {
			return r, errors.New("both Content-Length and chunked")
		}
		r.bodyLen = -1
		n, data, err := scanChunked(b[r.headLen:])
		if err != nil {
			return r, err
		}
		r.total, r.chunkData = r.headLen+n, data
		return r, nil
	case haveLen:
		if int64(len(b)-r.headLen) < r.bodyLen {
			return r, errIncomplete
		}
		r.total = r.headLen + int(r.bodyLen)
		return r, nil
	default:
		r.untilEOF = true
		return r, nil
	}
}

// parseStatusLine reads "HTTP/1.x NNN reason\r\n".
func parseStatusLine(line []byte) (int, error) {
	if len(line) < 14 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		line[len(line)-2] != '\r' {
		return 0, fmt.Errorf("malformed status line %q", clip(line))
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("malformed status code in %q", clip(line))
		}
		code = code*10 + int(c-'0')
	}
	if line[12] != ' ' && line[12] != '\r' {
		return 0, fmt.Errorf("malformed status line %q", clip(line))
	}
	return code, nil
}

// scanChunked finds the end of a chunked body at the start of b and returns its
// encoded length and its decoded length.
func scanChunked(b []byte) (n, data int, err error) {
	for {
		i := bytes.IndexByte(b[n:], '\n')
		if i < 0 {
			if len(b)-n > 1024 {
				return 0, 0, errors.New("chunk size line too long")
			}
			return 0, 0, errIncomplete
		}
		line := b[n : n+i]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return 0, 0, fmt.Errorf("chunk size line not ended by CRLF: %q", clip(line))
		}
		line = line[:len(line)-1]
		if semi := bytes.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		size, ok := parseHex(bytes.TrimRight(line, " \t"))
		if !ok {
			return 0, 0, fmt.Errorf("bad chunk size %q", clip(line))
		}
		n += i + 1
		if size == 0 {
			// Trailer fields, then the blank line.
			for {
				j := bytes.IndexByte(b[n:], '\n')
				if j < 0 {
					return 0, 0, errIncomplete
				}
				blank := j == 1 && b[n] == '\r'
				n += j + 1
				if blank {
					return n, data, nil
				}
			}
		}
		if int64(len(b)-n) < size+2 {
			return 0, 0, errIncomplete
		}
		if b[n+int(size)] != '\r' || b[n+int(size)+1] != '\n' {
			return 0, 0, errors.New("chunk data not followed by CRLF")
		}
		n += int(size) + 2
		data += int(size)
	}
}

// chunkedBodyEqual reports whether the complete chunked body at the start of b
// decodes to want. b must have passed scanChunked.
func chunkedBodyEqual(b, want []byte) bool {
	for {
		i := bytes.IndexByte(b, '\n')
		line := b[:i-1]
		if semi := bytes.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		size, _ := parseHex(bytes.TrimRight(line, " \t"))
		b = b[i+1:]
		if size == 0 {
			return len(want) == 0
		}
		if int64(len(want)) < size || !bytes.Equal(b[:size], want[:size]) {
			return false
		}
		want = want[size:]
		b = b[size+2:]
	}
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// asciiEqualFold compares b with lower, which must be lower-case ASCII.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// asciiContainsFold reports whether the comma-separated list b names token.
func asciiContainsFold(b []byte, token string) bool {
	for len(b) > 0 {
		i := bytes.IndexByte(b, ',')
		item := b
		if i >= 0 {
			item, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if asciiEqualFold(bytes.TrimSpace(item), token) {
			return true
		}
	}
	return false
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
