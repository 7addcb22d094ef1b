// Package pool runs request handlers on a bounded ants goroutine pool, each under its
// own deadline. It owns handler goroutines and nothing else: it never touches a
// connection, and its callers (the protocol drivers) decide what an overload, an
// expired deadline or a panic means on the wire.
//
// A full pool is answered at once with ErrOverload, never by blocking the caller, which
// is an event loop. Handlers still running past their deadline are "overdue": the pool
// counts them and can list them, and a pool whose every slot is overdue is not Healthy,
// which stops the worker's heartbeat so the master replaces it.
package pool
