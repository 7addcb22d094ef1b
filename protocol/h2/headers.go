package h2

import (
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/gonicorn/gonicorn/internal/header"
)

// RequestHead is a validated request header block (RFC 9113 §8.3.1).
type RequestHead struct {
	Method    string
	Scheme    string
	Authority string // :authority, or the host header when :authority is absent
	Path      string
	// Header holds the regular fields under canonical keys; cookie fields are joined
	// with "; " (RFC 9113 §8.2.3).
	Header http.Header
	// ContentLength is the content-length field's value, or -1 when absent.
	ContentLength int64
}

// headerList is the decoded field list of one header block; fields are reused between
// blocks, their strings are not.
type headerList struct {
	fields []hpack.HeaderField
	// size is the RFC 9113 §6.5.2 size: name + value + 32 per field.
	size uint32
	// truncated is set once size passed the limit: fields stop being kept.
	truncated bool
}

func (l *headerList) reset() {
	clear(l.fields)
	l.fields = l.fields[:0]
	l.size = 0
	l.truncated = false
}

// requestErr names the malformation of a request header block.
type requestErr string

// parseRequest validates a request header block and builds its head. It returns a
// non-empty reason when the request is malformed (a stream error of PROTOCOL_ERROR).
func parseRequest(fields []hpack.HeaderField, head *RequestHead) requestErr {
	*head = RequestHead{ContentLength: -1}
	var sawRegular, sawMethod, sawScheme, sawPath, sawAuthority bool
	regular := 0
	for _, f := range fields {
		if strings.HasPrefix(f.Name, ":") {
			if sawRegular {
				return "pseudo-header field after a regular field"
			}
			var seen *bool
			var dst *string
			switch f.Name {
			case ":method":
				seen, dst = &sawMethod, &head.Method
			case ":scheme":
				seen, dst = &sawScheme, &head.Scheme
			case ":path":
				seen, dst = &sawPath, &head.Path
			case ":authority":
				seen, dst = &sawAuthority, &head.Authority
			default:
				return requestErr("unknown or response pseudo-header field " + strconv.Quote(f.Name))
			}
			if *seen {
				return requestErr("duplicated pseudo-header field " + f.Name)
			}
			*seen, *dst = true, f.Value
			if !header.IsFieldValue(f.Value) {
				return requestErr("invalid value of " + f.Name)
			}
			continue
		}
		sawRegular = true
		if reason := checkRegularField(f); reason != "" {
			return reason
		}
		regular++
	}
	if !sawMethod {
		return "missing :method"
	}
	if head.Method == "CONNECT" {
		// RFC 9113 §8.5: CONNECT carries :authority and neither :scheme nor :path.
		if sawScheme || sawPath || !sawAuthority {
			return "malformed CONNECT request"
		}
	} else {
		if !sawScheme || !sawPath {
			return "missing :scheme or :path"
		}
		if head.Path == "" {
			return "empty :path"
		}
		if head.Path[0] != '/' && !(head.Path == "*" && head.Method == "OPTIONS") {
			return "invalid :path"
		}
	}
	if !validAuthority(head.Authority) {
		return "invalid :authority"
	}
	if !header.IsToken(head.Method) {
		return "invalid :method"
	}
	h, reason := buildHeader(fields, regular)
	if reason != "" {
		return reason
	}
	head.Header = h
	// As net/http does, the host field is promoted to the authority and removed.
	if hosts := h["Host"]; len(hosts) > 0 {
		if head.Authority == "" {
			head.Authority = hosts[0]
		}
		delete(h, "Host")
	}
	if cl, ok := h["Content-Length"]; ok {
		n, ok := parseContentLength(cl)
		if !ok {
			return "invalid content-length"
		}
		head.ContentLength = n
	}
	return ""
}

// parseTrailers validates a trailer block (no pseudo-header fields) and builds it.
func parseTrailers(fields []hpack.HeaderField) (http.Header, requestErr) {
	for _, f := range fields {
		if strings.HasPrefix(f.Name, ":") {
			return nil, "pseudo-header field in trailers"
		}
		if reason := checkRegularField(f); reason != "" {
			return nil, reason
		}
	}
	return buildHeader(fields, len(fields))
}

// checkRegularField applies RFC 9113 §8.2.1 and §8.2.2 to one regular field.
func checkRegularField(f hpack.HeaderField) requestErr {
	if !validFieldName(f.Name) {
		return requestErr("invalid field name " + strconv.Quote(f.Name))
	}
	if !header.IsFieldValue(f.Value) {
		return requestErr("invalid value of " + f.Name)
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return requestErr("connection-specific field " + f.Name)
	case "te":
		if f.Value != "trailers" {
			return "te other than trailers"
		}
	}
	return ""
}

// validFieldName accepts lowercase tokens only: uppercase is malformed in HTTP/2.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' || header.ByteClass[c]&header.ClassToken == 0 {
			return false
		}
	}
	return true
}

// buildHeader turns the regular fields into an http.Header with one backing array for
// every value, as net/textproto does, so that a request costs few allocations.
func buildHeader(fields []hpack.HeaderField, regular int) (http.Header, requestErr) {
	h := make(http.Header, regular)
	values := make([]string, regular)
	var cookies []string
	for _, f := range fields {
		if strings.HasPrefix(f.Name, ":") {
			continue
		}
		if f.Name == "cookie" {
			cookies = append(cookies, f.Value)
			continue
		}
		key := header.CanonicalLower(f.Name)
		if vv, ok := h[key]; ok {
			h[key] = append(vv, f.Value)
			continue
		}
		values[0] = f.Value
		h[key] = values[:1:1]
		values = values[1:]
	}
	if len(cookies) > 0 {
		h["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	return h, ""
}

// parseContentLength accepts one or more identical non-negative decimal values.
func parseContentLength(vv []string) (int64, bool) {
	var n int64 = -1
	for _, v := range vv {
		if v == "" || len(v) > 18 {
			return 0, false
		}
		var x int64
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
			x = x*10 + int64(v[i]-'0')
		}
		if n >= 0 && x != n {
			return 0, false
		}
		n = x
	}
	return n, n >= 0
}
