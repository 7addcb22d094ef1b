// Package http1 owns the HTTP/1.x wire format on the server side: it parses request
// heads (RFC 9112 §2–§6, with the limits Gunicorn users know as --limit-request-line,
// --limit-request-fields and --limit-request-field_size), decodes chunked request bodies
// and their trailers (RFC 9112 §7.1), recognises the HTTP/2 connection preface,
// builds the *http.Request of a parsed head (NewRequest) and appends response status
// lines, header fields and chunk headers to byte slices.
//
// Everything here is pure: functions take bytes and return parsed values, appended bytes
// or a typed *Error naming the status to answer with. The package must never do I/O,
// start goroutines, read the clock, keep global mutable state or panic on any input, and
// its hot paths (Parser.Parse, ChunkedDecoder.Decode without trailers, the Append
// functions) must not allocate once their reused buffers have grown.
//
// The parser is deliberately strict wherever leniency lets one request be read two ways
// by two servers (request smuggling): bare CR or LF, obs-fold, whitespace before a colon,
// conflicting Content-Length, Transfer-Encoding beside Content-Length or in HTTP/1.0, and
// any transfer coding other than a single final "chunked" are all refused.
//
// A typical event-loop use:
//
//	var p http1.Parser
//	var req http1.Request
//	n, err := p.Parse(inbound, &req) // inbound: every unconsumed byte, from the head's start
//	switch {
//	case err != nil: // answer err.(*http1.Error).Status, then close
//	case n == 0: // incomplete: wait for more bytes, call Parse again with the longer buffer
//	default: // req is complete; its slices alias inbound[:n]; p.Reset() before the next head
//	}
package http1
