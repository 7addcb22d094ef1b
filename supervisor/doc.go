// Package supervisor owns gonicorn's processes: the pre-fork master that keeps a herd
// of worker processes alive, and the worker side of the contract between them.
//
// The master never binds (its caller hands it the listeners' files), never parses HTTP
// and never runs a handler. It re-executes the binary on disk for every worker, passing
// the listeners as inherited file descriptors (from fd 3) followed by the write end of a
// heartbeat pipe, and the configuration in the environment (see env.go). It then:
//
//   - replaces a worker that exits, backing off exponentially when workers crash in a
//     loop, and stops with ExitBootFailed when a worker fails to boot and nothing else
//     serves;
//   - aborts (SIGABRT, then SIGKILL) a worker silent for longer than --timeout;
//   - recycles a worker past --max-requests (plus jitter) or --max-worker-memory,
//     starting its successor and waiting for it to serve before retiring the old one;
//   - answers the signals Gunicorn users know: HUP reload, TERM graceful stop, INT and
//     QUIT fast stop, TTIN and TTOU resize, USR1 reopen logs, USR2 binary upgrade,
//     WINCH (during an upgrade) stop the old workers.
//
// Decisions live in herd.go, behind the small processes interface, so they are tested
// with a fake clock and fake processes; spawn.go, upgrade.go and master.go hold the
// operating-system plumbing, tested with real processes.
//
// A worker process calls LoadWorker to learn its listeners and configuration, and
// reports through Heartbeat: Ready once it serves, then Beat at least every
// HeartbeatInterval while it is healthy. A worker that stops reporting is treated as
// sick, never merely busy.
package supervisor
