// Package engine serves HTTP/1.1, uWSGI and h2c on gnet event loops and runs handlers
// on the pool.
//
// The engine owns every client socket. One event-loop goroutine per loop reads bytes,
// feeds the pure parsers of protocol/*, and hands only complete requests (or requests
// whose body must stream) to the pool. No goroutine ever waits on a client: a slow
// client costs a few hundred bytes of connection state. Every wait has a bound (head,
// body, keep-alive idle, handler deadline, write stall, graceful drain) enforced by
// the engine's own clock, since gnet has no deadlines.
//
// Handler goroutines never touch a gnet.Conn except through AsyncWrite and Wake; all
// connection state is changed on the connection's event loop.
package engine
