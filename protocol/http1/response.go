package http1

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// AppendStatusLine appends "HTTP/major.minor code reason\r\n" to dst, the reason being
// http.StatusText(code), or "status code N" for a code it does not know, as net/http writes.
func AppendStatusLine(dst []byte, major, minor, code int) []byte {
	if major == 1 && minor == 1 {
		dst = append(dst, "HTTP/1.1 "...)
	} else {
		dst = append(dst, "HTTP/"...)
		dst = strconv.AppendInt(dst, int64(major), 10)
		dst = append(dst, '.')
		dst = strconv.AppendInt(dst, int64(minor), 10)
		dst = append(dst, ' ')
	}
	if code >= 100 && code <= 999 {
		dst = append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10), ' ')
	} else {
		dst = strconv.AppendInt(dst, int64(code), 10)
		dst = append(dst, ' ')
	}
	if text := http.StatusText(code); text != "" {
		dst = append(dst, text...)
	} else {
		dst = append(dst, "status code "...)
		dst = strconv.AppendInt(dst, int64(code), 10)
	}
	return append(dst, '\r', '\n')
}

// OutField is one name of a response header with its values, as AppendFields writes them.
type OutField struct {
	Name   string
	Values []string
}

// AppendHeaders appends "Name: value\r\n" for every value of h, names in sorted order
// (as http.Header.Write does) and values trimmed of SP and HTAB. It skips names that are
// not tokens and values containing CR, LF or NUL, so a handler can never inject a field
// or split the response. Up to 32 distinct names are sorted without allocating.
func AppendHeaders(dst []byte, h http.Header) []byte {
	var stack [32]OutField
	fields := stack[:0]
	for name, values := range h {
		fields = append(fields, OutField{name, values})
	}
	SortFields(fields)
	return AppendFields(dst, fields)
}

// SortFields orders fields by name, the order AppendHeaders writes.
func SortFields(fields []OutField) {
	slices.SortFunc(fields, func(a, b OutField) int { return strings.Compare(a.Name, b.Name) })
}

// AppendFields appends fields in their order as AppendHeaders does, with the same
// checks: for a caller that collected (and sorted) a header's fields itself.
func AppendFields(dst []byte, fields []OutField) []byte {
	for _, f := range fields {
		if !isTokenString(f.Name) {
			continue
		}
		for _, v := range f.Values {
			v = trimOWSString(v)
			if !isSafeResponseValue(v) {
				continue
			}
			dst = append(dst, f.Name...)
			dst = append(dst, ':', ' ')
			dst = append(dst, v...)
			dst = append(dst, '\r', '\n')
		}
	}
	return dst
}

// isSafeResponseValue reports whether v can be written as a field value without ending
// the line or the head early.
func isSafeResponseValue(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\r', '\n', 0:
			return false
		}
	}
	return true
}

// AppendChunkHeader appends the chunk-size line for a chunk of n bytes: n in lower-case
// hex and CRLF. A negative n is written as 0.
func AppendChunkHeader(dst []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, '\r', '\n')
}

// h2Preface is the client connection preface of HTTP/2 (RFC 9113 §3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// H2PrefaceLen is the length of the HTTP/2 client connection preface.
const H2PrefaceLen = len(h2Preface)

// IsH2Preface reports whether b starts with (or is a prefix of, when len(b) < 24) the
// HTTP/2 connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; full reports whether all
// 24 bytes are present.
func IsH2Preface(b []byte) (match, full bool) {
	if len(b) >= len(h2Preface) {
		ok := string(b[:len(h2Preface)]) == h2Preface
		return ok, ok
	}
	return string(b) == h2Preface[:len(b)], false
}
