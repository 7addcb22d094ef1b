// Package uwsgi parses the uWSGI wire protocol as nginx's uwsgi_pass (and other uWSGI
// clients) send it, and maps a parsed packet to an *http.Request.
//
// A request on a uWSGI connection is a 4-byte header — modifier1 (u8), datasize
// (u16 little-endian), modifier2 (u8) — followed by datasize bytes of variables, each
// `[u16 LE keylen][key][u16 LE vallen][value]`, followed by CONTENT_LENGTH bytes of
// request body. The body is not part of the packet: the engine reads it.
//
// The package owns the packet format and the CGI-variable-to-net/http mapping. It must
// never do I/O, start a goroutine, read the clock, or panic on any input: Parse and
// NewRequest are pure functions of their arguments, which is what makes them fuzzable.
// Parse allocates nothing once a Packet's Vars has grown to the packet's size.
//
// # Mapping to net/http
//
// NewRequest builds the request a net/http server would have built for the same client
// request, so handlers cannot tell they run behind uwsgi_pass:
//
//   - Method is REQUEST_METHOD (required, an HTTP token).
//   - RequestURI and URL come from REQUEST_URI, the raw request target that the client
//     sent (so percent-encoding survives in URL.RawPath and URL.RawQuery). Without
//     REQUEST_URI they are rebuilt from SCRIPT_NAME + PATH_INFO (escaped again, since
//     nginx sends PATH_INFO percent-decoded) and QUERY_STRING.
//   - Proto, ProtoMajor and ProtoMinor come from SERVER_PROTOCOL as the proxy wrote it
//     ("HTTP/2.0" from an nginx http2 listener stays "HTTP/2.0"); a missing or
//     unparseable value means HTTP/1.1, never an error.
//   - Host is HTTP_HOST, else SERVER_NAME with ":SERVER_PORT" unless the port is the
//     scheme's default.
//   - RemoteAddr is net.JoinHostPort(REMOTE_ADDR, REMOTE_PORT): the client of the
//     proxy, not the proxy itself.
//   - Every HTTP_* variable becomes a header with its canonical name (HTTP_X_FOO_BAR →
//     X-Foo-Bar); repeated variables become repeated values, in order. HTTP_HOST goes
//     to Host only, as in net/http. HTTP_TRANSFER_ENCODING is dropped: the proxy has
//     already de-chunked the body, which is exactly CONTENT_LENGTH bytes, so
//     TransferEncoding is never set. HTTP_CONTENT_LENGTH and HTTP_CONTENT_TYPE are
//     dropped in favour of the CGI variables, which describe the body actually sent.
//   - CONTENT_LENGTH sets ContentLength and the Content-Length header; an empty or
//     missing value means no body (ContentLength 0, no header). CONTENT_TYPE, when not
//     empty, sets Content-Type.
//   - HTTPS=on (or 1), or REQUEST_SCHEME=https, marks the request as https: r.TLS is set
//     to a non-nil, empty *tls.ConnectionState — the check Go handlers use — while
//     r.URL.Scheme stays empty, as it does for requests a net/http server reads.
//     Packet.Scheme reports the same answer for the access log.
//
// Other CGI variables (DOCUMENT_ROOT, UWSGI_*, …) are not mapped; Packet.Lookup reads
// them. For CGI variables that appear more than once, the last one wins, as in uWSGI's
// own environ. Body and context are left for the engine to set.
//
// # Errors
//
// Both functions report bad input as *Error, whose Reason is a fixed text for the log.
// A Parse error means the byte stream cannot be framed and the connection must be
// closed. A NewRequest error means the packet was framed but does not describe a
// usable request (for example a missing REQUEST_METHOD or a non-numeric
// CONTENT_LENGTH); the engine may answer 400 before closing.
package uwsgi
