// Package h2 is gonicorn's HTTP/2 server protocol (RFC 9113, HPACK per RFC 7541 through
// golang.org/x/net/http2/hpack): frame parsing and serialisation, connection and stream
// state, flow control in both directions, SETTINGS, PING, GOAWAY, header block assembly
// across CONTINUATION with HPACK decoding bounded while it runs, request header
// validation, and the flood meters that defend a connection against abusive peers.
//
// It owns bytes in and bytes out and nothing else. It never does I/O, never starts a
// goroutine and never reads the clock: the caller feeds inbound bytes (and the time, when
// a meter needs it) to Conn.Next, and writes what Conn.Output returns. A Conn is not safe
// for concurrent use; in gonicorn it lives on the connection's event loop.
//
// It must never panic on input: every malformed frame or header block becomes a
// *ConnError (the connection is answered with GOAWAY and must be closed) or a stream
// reset that leaves the other streams alone.
package h2
