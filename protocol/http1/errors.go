package http1

import "strconv"

// Error is a request the server must refuse: Status is the HTTP status to answer with
// (400, 413, 414, 417, 431, 501 or 505) and Reason a short text for the log line.
// The parser returns shared *Error values; treat them as read-only.
type Error struct {
	Status int
	Reason string
}

// Error formats the error as "http1: <status> <reason>".
func (e *Error) Error() string {
	return "http1: " + strconv.Itoa(e.Status) + " " + e.Reason
}

// The errors Parse and Decode return. They are shared values so that refusing a request
// costs no allocation; compare with errors.Is or read Status.
var (
	errBareLF             = &Error{400, "bare LF in head"}
	errBareCR             = &Error{400, "bare CR in head"}
	errLeadingEmptyLines  = &Error{400, "too many empty lines before the request line"}
	errMethod             = &Error{400, "malformed method"}
	errTarget             = &Error{400, "malformed request-target"}
	errRequestLine        = &Error{400, "malformed request line"}
	errVersion            = &Error{400, "malformed HTTP version"}
	errVersionNotSupp     = &Error{505, "HTTP version not supported"}
	errObsFold            = &Error{400, "obsolete line folding in head"}
	errFieldName          = &Error{400, "malformed field name"}
	errSpaceBeforeColon   = &Error{400, "whitespace between field name and colon"}
	errFieldValue         = &Error{400, "invalid byte in field value"}
	errMissingHost        = &Error{400, "HTTP/1.1 request without Host"}
	errDuplicateHost      = &Error{400, "more than one Host field"}
	errInvalidHost        = &Error{400, "malformed Host value"}
	errContentLength      = &Error{400, "malformed Content-Length"}
	errConflictingLength  = &Error{400, "conflicting Content-Length values"}
	errContentLengthList  = &Error{400, "Content-Length sent as a list"}
	errAsteriskForm       = &Error{400, "asterisk-form target without OPTIONS"}
	errAuthorityForm      = &Error{400, "authority-form target without CONNECT"}
	errConnectTarget      = &Error{400, "CONNECT without an authority-form target"}
	errTEAndLength        = &Error{400, "Transfer-Encoding with Content-Length"}
	errTEInHTTP10         = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errTEEmpty            = &Error{400, "empty Transfer-Encoding"}
	errChunkedTwice       = &Error{400, "chunked applied more than once"}
	errTEUnsupported      = &Error{501, "transfer coding not implemented"}
	errExpectation        = &Error{417, "unsupported expectation"}
	errRequestLineTooLong = &Error{414, "request line too long"}
	errFieldTooLarge      = &Error{431, "header field too large"}
	errTooManyFields      = &Error{431, "too many header fields"}
	errHeadTooLarge       = &Error{431, "request head too large"}

	errChunkSize       = &Error{400, "malformed chunk size"}
	errChunkSizeRange  = &Error{400, "chunk size overflows 63 bits"}
	errChunkExtension  = &Error{400, "malformed chunk extension"}
	errChunkLineLong   = &Error{400, "chunk size line too long"}
	errChunkCRLF       = &Error{400, "chunk data not followed by CRLF"}
	errChunkBareCR     = &Error{400, "bare CR in chunk framing"}
	errTrailerTooLarge = &Error{431, "trailer section too large"}
	errTrailerField    = &Error{400, "field not allowed in a trailer section"}
)
