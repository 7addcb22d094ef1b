package http1

import "bytes"

// Defaults that zero (or negative) Limits fields stand for.
const (
	DefaultMaxRequestLine  = 8190
	DefaultMaxHeaderFields = 32768
	DefaultMaxHeaderBytes  = 1 << 20
)

// maxLeadingEmptyLines bounds the empty lines a client may send before a request line
// (RFC 9112 §2.2 lets a server ignore "at least one"; old clients send one after a body).
const maxLeadingEmptyLines = 8

// Limits bounds what Parse accepts. Zero fields mean: MaxRequestLine 8190,
// MaxHeaderFields 32768, MaxFieldSize unlimited, MaxHeaderBytes 1<<20.
type Limits struct {
	MaxRequestLine  int // bytes of the request line without CRLF; longer → 414
	MaxHeaderFields int // number of header fields; more → 431
	MaxFieldSize    int // bytes of one header line without CRLF; longer → 431 (0 = unlimited)
	MaxHeaderBytes  int // bytes of the whole head; more → 431
}

// withDefaults returns l with every zero or negative field replaced by its default.
func (l Limits) withDefaults() Limits {
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = DefaultMaxRequestLine
	}
	if l.MaxHeaderFields <= 0 {
		l.MaxHeaderFields = DefaultMaxHeaderFields
	}
	if l.MaxFieldSize < 0 {
		l.MaxFieldSize = 0
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	// Offsets are computed as start+limit+2; keep them far from overflow.
	l.MaxRequestLine = min(l.MaxRequestLine, maxLimit)
	l.MaxFieldSize = min(l.MaxFieldSize, maxLimit)
	l.MaxHeaderBytes = min(l.MaxHeaderBytes, maxLimit)
	return l
}

// maxLimit caps every byte limit: no head is anywhere near 1 GiB.
const maxLimit = 1 << 30

// Field is one header field; Name and Value alias the parsed buffer (Value trimmed of OWS).
type Field struct{ Name, Value []byte }

// Request is one parsed request head. Its slices alias the buffer given to Parse and are
// valid only until that buffer changes. Reuse one Request across requests (Fields keeps cap).
// Every slice is capped at its own end, so appending to one never overwrites the buffer.
type Request struct {
	Method        []byte
	Target        []byte // request-target exactly as sent (origin, absolute, authority or *)
	ProtoMajor    int
	ProtoMinor    int     // as sent; HTTP/1.2–1.9 are served as HTTP/1.1 (RFC 9110 §2.5)
	Fields        []Field // every field in order, names as sent
	ContentLength int64   // -1 when there is no Content-Length
	Chunked       bool    // Transfer-Encoding: chunked (the only coding accepted)
	KeepAlive     bool    // 1.1 default true unless "Connection: close"; 1.0 only with "Connection: keep-alive"
	Expect100     bool    // "Expect: 100-continue" (case-insensitive) in HTTP/1.1; other Expect values → 417
	Host          []byte  // the Host field value (nil when absent)
	Upgrade       []byte  // the Upgrade field value when Connection lists "upgrade" (HTTP/1.1 only), else nil
	HTTP2Settings []byte  // the HTTP2-Settings field value when sent exactly once, else nil
}

// parseState is where a Parser is in a head.
type parseState uint8

const (
	stateRequestLine parseState = iota // before or inside the request line
	stateFields                        // inside the field section
	stateDone                          // a head was returned complete
	stateFailed                        // a head was refused
)

// fieldSpan locates one parsed field in the buffer by offsets, so that the buffer may
// move (grow into a new array) between calls without invalidating what was parsed.
type fieldSpan struct {
	nameStart, nameEnd, valueStart, valueEnd int
}

// Parser parses request heads incrementally: the caller passes the whole unconsumed head
// (same start, growing) on every read; the parser remembers how far it already scanned so
// a head fed one byte at a time costs O(n), not O(n²).
//
// Complete lines are checked in order, each first against the limits and then for its
// syntax; an incomplete last line is checked against the limits only. The result is
// therefore the same however the head is split across calls.
//
// A Parser indexes the first inlineSpans fields of a head in its own memory (no
// allocation for a head of that size, on a new connection too), so it must not
// be copied once used.
type Parser struct {
	Limits Limits

	scanState
	spans []fieldSpan // the field index: spanMem's, or the heap's past inlineSpans
	// spanMem is the field index's first inlineSpans entries.
	spanMem [inlineSpans]fieldSpan
}

// scanState is where a Parser is in the current head: all of it starts over
// with the next head.
type scanState struct {
	state      parseState
	pos        int // bytes already searched for a line end
	lineStart  int // offset of the line being scanned
	emptyLines int // empty lines seen before the request line

	reqLineStart, methodEnd, targetStart, targetEnd int
	major, minor                                    int

	n   int    // head length once stateDone
	err *Error // the refusal once stateFailed
}

// inlineSpans is how many fields a Parser indexes without allocating: what
// curl, wrk, load balancers' health checks and many API clients send. Each
// costs every idle keep-alive connection 32 bytes (the engine's conn stays in
// its allocation size class with 6).
const inlineSpans = 6

// maxRetainedSpans bounds the field index a Parser keeps between heads, so that one
// head with thousands of fields does not pin its memory for the connection's lifetime.
const maxRetainedSpans = 256

// Reset prepares p for the next head. It keeps Limits and, up to a bound, the capacity
// of its field index.
func (p *Parser) Reset() {
	p.scanState = scanState{}
	if cap(p.spans) > maxRetainedSpans {
		p.spans = nil
	}
	p.spans = p.spans[:0]
}

// addSpan appends s to the field index, in spanMem while it fits.
func (p *Parser) addSpan(s fieldSpan) {
	if p.spans == nil {
		p.spans = p.spanMem[:0]
	}
	p.spans = append(p.spans, s)
}

// Parse parses the head at the start of buf.
//
//   - complete: returns (n, nil), n = length of the head including the final CRLFCRLF;
//     req filled.
//   - incomplete: returns (0, nil), but a head that already exceeds a limit is an error at
//     once (e.g. 8 KiB without a line end → 414 immediately, not when the line ends).
//   - bad: returns (0, *Error).
//
// After a complete or bad head, call Reset before parsing the next one. (A Parser that
// finished a head starts over by itself on the next call, so forgetting Reset is safe.)
// A buf shorter than what was already scanned also starts the parse over.
func (p *Parser) Parse(buf []byte, req *Request) (int, error) {
	if p.state >= stateDone || len(buf) < p.pos {
		p.Reset()
	}
	lim := p.Limits.withDefaults()
	for {
		searchEnd := len(buf)
		lineMax := lim.MaxFieldSize
		if p.state == stateRequestLine {
			lineMax = lim.MaxRequestLine
		}
		// No line end may lie beyond these bounds: stop searching there, so a flood
		// without LF is refused after limit bytes rather than after the whole buffer.
		if lineMax > 0 && p.lineStart+lineMax+2 < searchEnd {
			searchEnd = p.lineStart + lineMax + 2
		}
		if lim.MaxHeaderBytes+1 < searchEnd {
			searchEnd = lim.MaxHeaderBytes + 1
		}
		lf := -1
		if p.pos < searchEnd {
			if i := bytes.IndexByte(buf[p.pos:searchEnd], '\n'); i >= 0 {
				lf = p.pos + i
			} else {
				p.pos = searchEnd
			}
		}
		if lf < 0 {
			contentLen := p.pos - p.lineStart
			if contentLen > 0 && buf[p.pos-1] == '\r' {
				contentLen-- // the CR may be the first half of the line's CRLF
			}
			if err := p.checkLimits(&lim, contentLen, p.pos); err != nil {
				return p.fail(err)
			}
			return 0, nil
		}

		start, end := p.lineStart, lf
		if end > start && buf[end-1] == '\r' {
			end--
		}
		if err := p.checkLimits(&lim, end-start, lf+1); err != nil {
			return p.fail(err)
		}
		if end == lf {
			return p.fail(errBareLF)
		}
		p.pos, p.lineStart = lf+1, lf+1
		line := buf[start:end]

		if p.state == stateRequestLine {
			if len(line) == 0 {
				p.emptyLines++
				if p.emptyLines > maxLeadingEmptyLines {
					return p.fail(errLeadingEmptyLines)
				}
				continue
			}
			if err := p.parseRequestLine(line, start); err != nil {
				return p.fail(err)
			}
			p.state = stateFields
			continue
		}
		if len(line) == 0 {
			if err := p.finish(buf, req); err != nil {
				return p.fail(err)
			}
			p.state, p.n = stateDone, lf+1
			return p.n, nil
		}
		if err := p.parseFieldLine(line, start); err != nil {
			return p.fail(err)
		}
	}
}

// checkLimits applies the limits to the current line, complete or not: contentLen is
// its length so far without CRLF and end the offset just past its bytes so far.
func (p *Parser) checkLimits(lim *Limits, contentLen, end int) *Error {
	if p.state == stateRequestLine {
		if contentLen > lim.MaxRequestLine {
			return errRequestLineTooLong
		}
	} else if contentLen > 0 {
		if len(p.spans) >= lim.MaxHeaderFields {
			return errTooManyFields
		}
		if lim.MaxFieldSize > 0 && contentLen > lim.MaxFieldSize {
			return errFieldTooLarge
		}
	}
	if end > lim.MaxHeaderBytes {
		return errHeadTooLarge
	}
	return nil
}

func (p *Parser) fail(err *Error) (int, error) {
	p.state, p.err = stateFailed, err
	return 0, err
}

// parseRequestLine parses "method SP request-target SP HTTP-version" found at offset
// base of the buffer and records where its parts are.
func (p *Parser) parseRequestLine(line []byte, base int) *Error {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		if !allOfClass(line, classToken) {
			return errMethod
		}
		return errRequestLine
	}
	if sp == 0 || !allOfClass(line[:sp], classToken) {
		return errMethod
	}
	rest := line[sp+1:]
	t := 0
	for t < len(rest) && byteClass[rest[t]]&classTarget != 0 {
		t++
	}
	switch {
	case t == len(rest):
		return errRequestLine // no version: HTTP/0.9 or a truncated line
	case rest[t] == '\r':
		return errBareCR
	case rest[t] != ' ' || t == 0:
		return errTarget
	}
	major, minor, err := parseVersion(rest[t+1:])
	if err != nil {
		return err
	}
	p.reqLineStart = base
	p.methodEnd = base + sp
	p.targetStart = base + sp + 1
	p.targetEnd = p.targetStart + t
	p.major, p.minor = major, minor
	return nil
}

// parseVersion parses "HTTP/x.y". Well-formed versions other than 1.x are refused with
// 505, and so are "HTTP/2" and "HTTP/3" written without a minor version.
func parseVersion(v []byte) (major, minor int, err *Error) {
	if len(v) < 6 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) {
		return 0, 0, errVersion
	}
	major = int(v[5] - '0')
	if len(v) == 6 {
		if major >= 2 {
			return 0, 0, errVersionNotSupp
		}
		return 0, 0, errVersion
	}
	if len(v) != 8 || v[6] != '.' || !isDigit(v[7]) {
		return 0, 0, errVersion
	}
	if major != 1 {
		return 0, 0, errVersionNotSupp
	}
	return major, int(v[7] - '0'), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseFieldLine parses "field-name ':' OWS field-value OWS" found at offset base of the
// buffer and records the field's span.
func (p *Parser) parseFieldLine(line []byte, base int) *Error {
	nameEnd, valueStart, valueEnd, err := splitFieldLine(line)
	if err != nil {
		return err
	}
	p.addSpan(fieldSpan{
		nameStart:  base,
		nameEnd:    base + nameEnd,
		valueStart: base + valueStart,
		valueEnd:   base + valueEnd,
	})
	return nil
}

// splitFieldLine validates one field line (without CRLF) and returns where its name ends
// and where its value, trimmed of OWS, starts and ends. Trailers use it too.
func splitFieldLine(line []byte) (nameEnd, valueStart, valueEnd int, err *Error) {
	if isOWS(line[0]) {
		return 0, 0, 0, errObsFold
	}
	i := 0
	for i < len(line) && byteClass[line[i]]&classToken != 0 {
		i++
	}
	if i == len(line) {
		return 0, 0, 0, errFieldName
	}
	if c := line[i]; c != ':' || i == 0 {
		switch {
		case c == '\r':
			return 0, 0, 0, errBareCR
		case i > 0 && isOWS(c):
			j := i
			for j < len(line) && isOWS(line[j]) {
				j++
			}
			if j < len(line) && line[j] == ':' {
				return 0, 0, 0, errSpaceBeforeColon
			}
		}
		return 0, 0, 0, errFieldName
	}
	nameEnd = i
	for j := i + 1; j < len(line); j++ {
		if c := line[j]; byteClass[c]&classValue == 0 {
			if c == '\r' {
				return 0, 0, 0, errBareCR
			}
			return 0, 0, 0, errFieldValue
		}
	}
	valueStart, valueEnd = i+1, len(line)
	for valueStart < valueEnd && isOWS(line[valueStart]) {
		valueStart++
	}
	for valueEnd > valueStart && isOWS(line[valueEnd-1]) {
		valueEnd--
	}
	return nameEnd, valueStart, valueEnd, nil
}
