// Package engine serves HTTP/1.1, uWSGI and h2c on gnet event loops and runs handlers
// on the pool.
//
// The engine owns every client socket. One event-loop goroutine per loop reads bytes,
// feeds the pure parsers of protocol/* (which also build each *http.Request), and
// hands only complete requests (or requests whose body must stream) to the pool. No
// goroutine ever waits on a client: a slow client costs a few hundred bytes of
// connection state. Every wait has a bound (head, body, keep-alive idle, handler
// deadline, write stall, graceful drain) enforced by the engine's own clock, since
// gnet has no deadlines.
//
// Handler goroutines never touch a gnet.Conn except through AsyncWrite and Wake; all
// connection state is changed on the connection's event loop.
//
// # Map of the files
//
// The server and its connections:
//   - options.go: Options (what New needs) and Listener (what Serve accepts from).
//   - server.go: Server: New, Serve (the listeners are adopted by the event loops,
//     which accept), graceful Shutdown and Close, the clock that expires deadlines
//     and probes the loops.
//   - conn.go: conn, one client connection: its state machine (conn.enter and the
//     table of each state's bound), the gnet EventHandler, expiry, lingering close.
//   - wake.go: every loop callback, grouped by what it does (input, output, time,
//     streamed output, hand-over); each calls a conn method.
//   - drain.go: waiting on a connection's outbound queue (slow readers, linger,
//     hijack, close after the last byte).
//   - dialect.go: how a connection frames its answers: HTTP/1, uWSGI or h2.
//   - proxy.go: the PROXY protocol header before any request.
//
// One HTTP/1 or uWSGI request:
//   - h1.go: reading an HTTP/1 head, pipelined requests chained into one pool task,
//     error answers.
//   - uwsgi.go: reading a uWSGI packet.
//   - body.go: request bodies: buffered before dispatch, or streamed through a
//     bounded pipe that pauses reading while the handler is behind.
//   - exchange.go: exchange, the pool Job of one request; ordered writes of the
//     responses of a pipelined burst; what follows a response (keep-alive, discard,
//     close).
//   - response.go: response, the http.ResponseWriter: buffering, Content-Length or
//     chunked framing, streaming with backpressure, timeouts and panics.
//   - handlerheader.go: the rule both writers follow for header changes after
//     WriteHeader (only trailers).
//   - hijack.go: http.Hijacker.
//   - forwarded.go: X-Forwarded-* from trusted proxies.
//   - deadline.go: a handler moving its own deadline (http.ResponseController).
//   - date.go: the Date header, formatted once a second.
//
// HTTP/2 (h2c):
//   - h2upgrade.go: Upgrade: h2c from an HTTP/1.1 request.
//   - h2conn.go: h2Conn drives protocol/h2's connection state machine on the loop,
//     schedules streams' output under flow control.
//   - h2stream.go: h2Stream, one request, and its role as the pool Job.
//   - h2body.go: the stream's request body (h2Body), fed by DATA frames.
//   - h2response.go: the h2Stream's http.ResponseWriter side and its framing.
package engine
