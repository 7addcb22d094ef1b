// Package control is gonicorn's control socket, like Gunicorn 25's: a unix
// socket (mode 0600, and only the master's own user or root may talk to it) where
// the master answers one JSON request per connection, and `gonicorn ctl`, the
// client that sends it and prints the answer as a table or as JSON.
//
// Commands: show stats|workers|config|listeners, worker add [N], worker remove
// [N], worker kill PID, reload, reopen, shutdown [--graceful].
package control
