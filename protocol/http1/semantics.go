package http1

import "math"

// finish fills req from the spans of a complete head in buf and applies the rules that
// need the whole field section: Host, Content-Length, Transfer-Encoding, Connection,
// Upgrade, HTTP2-Settings and Expect.
func (p *Parser) finish(buf []byte, req *Request) *Error {
	req.Method = buf[p.reqLineStart:p.methodEnd:p.methodEnd]
	req.Target = buf[p.targetStart:p.targetEnd:p.targetEnd]
	req.ProtoMajor, req.ProtoMinor = p.major, p.minor
	req.ContentLength = -1
	req.Chunked, req.KeepAlive, req.Expect100 = false, false, false
	req.Host, req.Upgrade, req.HTTP2Settings = nil, nil, nil
	// The field list is made once at its size (a new connection's first head)
	// and reused while the heads that follow fit.
	if cap(req.Fields) < len(p.spans) {
		req.Fields = make([]Field, 0, len(p.spans))
	}
	req.Fields = req.Fields[:0]

	var sem headSemantics
	for _, s := range p.spans {
		f := Field{
			Name:  buf[s.nameStart:s.nameEnd:s.nameEnd],
			Value: buf[s.valueStart:s.valueEnd:s.valueEnd],
		}
		req.Fields = append(req.Fields, f)
		if err := sem.observe(f.Name, f.Value); err != nil {
			return err
		}
	}
	return sem.apply(req)
}

// headSemantics accumulates what the fields with framing or connection meaning say.
type headSemantics struct {
	hostCount int
	host      []byte

	hasLength bool
	length    int64

	hasTE          bool
	codings        int  // non-empty transfer codings listed
	chunkedCount   int  // how many of them are "chunked"
	lastIsChunked  bool // whether the final coding is "chunked"
	hasOtherCoding bool

	connClose, connKeepAlive, connUpgrade bool

	upgrade        []byte
	settingsCount  int
	settings       []byte
	expectContinue bool
	expectOther    bool
}

// observe takes one field into account; it refuses malformed or conflicting framing at once.
func (s *headSemantics) observe(name, value []byte) *Error {
	if len(name) < 4 {
		return nil
	}
	switch lowerASCII(name[0]) {
	case 'h':
		switch {
		case equalFold(name, "host"):
			s.hostCount++
			if s.hostCount > 1 {
				return errDuplicateHost
			}
			s.host = value
		case equalFold(name, "http2-settings"):
			s.settingsCount++
			s.settings = value
		}
	case 'c':
		switch {
		case equalFold(name, "content-length"):
			return s.observeContentLength(value)
		case equalFold(name, "connection"):
			s.observeConnection(value)
		}
	case 't':
		if equalFold(name, "transfer-encoding") {
			s.observeTransferEncoding(value)
		}
	case 'u':
		if equalFold(name, "upgrade") && s.upgrade == nil && len(value) > 0 {
			s.upgrade = value
		}
	case 'e':
		if equalFold(name, "expect") {
			s.observeExpect(value)
		}
	}
	return nil
}

// observeContentLength accepts one decimal length per field, and several fields only
// when they agree, as net/http does. A comma-separated list in one field ("5, 5") is
// refused even when its members agree: RFC 9110 §8.6 lets a recipient reject it, and a
// proxy in front of us may have read only one member (request smuggling).
func (s *headSemantics) observeContentLength(value []byte) *Error {
	for _, c := range value {
		if c == ',' {
			return errContentLengthList
		}
	}
	n, ok := parseDecimal(value)
	if !ok {
		return errContentLength
	}
	if s.hasLength && n != s.length {
		return errConflictingLength
	}
	s.hasLength, s.length = true, n
	return nil
}

// parseDecimal parses 1*DIGIT into a non-negative int64; a sign, any other byte or a
// value beyond math.MaxInt64 fails.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func (s *headSemantics) observeTransferEncoding(value []byte) {
	s.hasTE = true
	for rest, more := value, true; more; {
		var elem []byte
		elem, rest, more = nextListElement(rest)
		if len(elem) == 0 {
			continue // RFC 9110 §5.6.1: empty list elements do not count
		}
		s.codings++
		if equalFold(elem, "chunked") {
			s.chunkedCount++
			s.lastIsChunked = true
		} else {
			s.hasOtherCoding = true
			s.lastIsChunked = false
		}
	}
}

func (s *headSemantics) observeConnection(value []byte) {
	for rest, more := value, true; more; {
		var elem []byte
		elem, rest, more = nextListElement(rest)
		switch {
		case equalFold(elem, "close"):
			s.connClose = true
		case equalFold(elem, "keep-alive"):
			s.connKeepAlive = true
		case equalFold(elem, "upgrade"):
			s.connUpgrade = true
		}
	}
}

func (s *headSemantics) observeExpect(value []byte) {
	for rest, more := value, true; more; {
		var elem []byte
		elem, rest, more = nextListElement(rest)
		switch {
		case len(elem) == 0:
		case equalFold(elem, "100-continue"):
			s.expectContinue = true
		default:
			s.expectOther = true
		}
	}
}

// apply checks the rules that need every field and sets req's derived members.
func (s *headSemantics) apply(req *Request) *Error {
	http10 := req.ProtoMinor == 0
	if err := checkTargetForm(req.Method, req.Target); err != nil {
		return err
	}
	if s.hostCount == 0 && !http10 {
		return errMissingHost
	}
	if s.hostCount == 1 && !allOfClass(s.host, classHost) {
		return errInvalidHost
	}
	if s.hasTE {
		switch {
		case http10:
			return errTEInHTTP10
		case s.hasLength:
			return errTEAndLength
		case s.codings == 0:
			return errTEEmpty
		case s.chunkedCount > 1:
			return errChunkedTwice
		case s.hasOtherCoding || !s.lastIsChunked:
			return errTEUnsupported
		}
		req.Chunked = true
	} else if s.hasLength {
		req.ContentLength = s.length
	}
	if s.expectOther {
		return errExpectation
	}
	req.Expect100 = s.expectContinue && !http10
	if http10 {
		req.KeepAlive = s.connKeepAlive && !s.connClose
	} else {
		req.KeepAlive = !s.connClose
	}
	if s.connUpgrade && !http10 {
		req.Upgrade = s.upgrade
	}
	if s.settingsCount == 1 {
		req.HTTP2Settings = s.settings
	}
	if s.hostCount == 1 {
		req.Host = s.host
	}
	return nil
}

// checkTargetForm applies RFC 9112 §3.2 to the request-target: origin-form
// ("/path") for any method; asterisk-form ("*") only for OPTIONS; authority-form
// ("host:port") only for CONNECT, whose target must be that form (or origin-form, as
// net/http accepts for tunnels); absolute-form ("scheme://...") for any other method.
func checkTargetForm(method, target []byte) *Error {
	connect := string(method) == "CONNECT"
	switch {
	case len(target) == 0:
		return errTarget
	case target[0] == '/':
		return nil
	case len(target) == 1 && target[0] == '*':
		if string(method) != "OPTIONS" {
			return errAsteriskForm
		}
		return nil
	case connect:
		if !isAuthorityForm(target) {
			return errConnectTarget
		}
		return nil
	case isAbsoluteForm(target):
		return nil
	case isAuthorityForm(target):
		return errAuthorityForm
	}
	return errTarget
}

// isAbsoluteForm reports whether t starts with "scheme://" (RFC 3986 §3.1 scheme).
func isAbsoluteForm(t []byte) bool {
	i := 0
	for i < len(t) {
		c := t[i]
		isAlpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !isAlpha && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.') {
			break
		}
		i++
	}
	return i > 0 && len(t) >= i+3 && string(t[i:i+3]) == "://"
}

// isAuthorityForm reports whether t is "host:port" (RFC 9112 §3.2.3): a non-empty
// host of Host-value bytes without '/', a colon, and 1*DIGIT.
func isAuthorityForm(t []byte) bool {
	colon := -1
	for i := len(t) - 1; i >= 0; i-- {
		if t[i] == ':' {
			colon = i
			break
		}
	}
	if colon <= 0 || colon == len(t)-1 {
		return false
	}
	for _, c := range t[colon+1:] {
		if !isDigit(c) {
			return false
		}
	}
	for _, c := range t[:colon] {
		if c == '/' || c == '?' || c == '#' || byteClass[c]&classHost == 0 {
			return false
		}
	}
	return true
}
