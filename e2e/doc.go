// Package e2e holds end-to-end tests that run the real gonicorn binary as a user
// would: behind a real nginx (uwsgi_pass over TCP and unix sockets, proxy_pass for
// comparison), fed raw uWSGI packets, and driven through its process lifecycle. It has
// no code of its own: everything is in its _test.go files, which only talk to loopback
// addresses and unix sockets, and which skip (or, with GONICORN_REQUIRE_TOOLS=1, fail)
// when a tool such as nginx or wrk is missing. The nginx benchmarks compare gonicorn
// with a net/http server behind the same nginx.
package e2e
