// Package e2e holds end-to-end tests that run the real gonicorn binary behind a real
// nginx (uwsgi_pass over TCP and unix sockets) and compare it, in benchmarks, with a
// net/http server behind proxy_pass. It has no code of its own: everything is in its
// _test.go files, which only ever talk to loopback addresses and unix sockets, and
// which skip (or, with GONICORN_REQUIRE_TOOLS=1, fail) when nginx or wrk is missing.
package e2e
