// Package pool runs request handlers on a bounded ants goroutine pool, each under its
// own deadline. It owns handler goroutines and nothing else: it never touches a
// connection, and its callers (the protocol drivers) decide what an overload, an
// expired deadline or a panic means on the wire.
//
// The pool's size bounds the handlers that run. A handler that waits on its client
// parks (Park) and gives its slot to the next Job; it takes one back (Unpark) before
// it runs again, ahead of queued Jobs. At most DefaultParkedPerSlot parked handlers
// per slot (SetLimits) keep the goroutine count bounded.
//
// A full pool is answered at once, never by blocking the caller, which is an event
// loop: Submit returns ErrOverload, and Enqueue puts the Job in a bounded fair queue
// (one FIFO per source, sources served round-robin) that ExpireQueued empties of
// Jobs waiting too long. Handlers still running past their deadline are "overdue":
// the pool counts them and can list them, and a pool whose every slot is overdue is
// not Healthy, which stops the worker's heartbeat so the master replaces it.
package pool
