// Package logs owns gonicorn's two logs: the error log (zerolog JSON lines with
// time, level, pid and message, at Gunicorn's levels) and the access log (Gunicorn's
// %(atom)s formats, compiled once and written without allocating), and the log files
// under both, which SIGUSR1 reopens for log rotation.
//
// It never decides what to log or when: callers do. It never calls os.Exit: Gunicorn's
// "critical" level is zerolog's fatal level written without exiting (see Critical).
package logs
