# gonicorn — the two commands a newcomer needs on a fresh Debian machine:
#   make run    the demo app on 127.0.0.1:8000
#   make test   every test (installs nginx, wrk, h2load, curl, uWSGI, strace and h2spec first)

GO       ?= go
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN      := $(CURDIR)/bin
# command-or-file:debian-package pairs the tests and make bench need
APT_DEPS := nginx:nginx wrk:wrk h2load:nghttp2-client curl:curl taskset:util-linux \
	uwsgi:uwsgi-core /usr/lib/uwsgi/plugins/python3_plugin.so:uwsgi-plugin-python3 strace:strace \
	slowhttptest:slowhttptest

.PHONY: run test deps tools bench vet build clean

run: build
	$(BIN)/gonicorn -b 127.0.0.1:8000 --access-logfile -

build:
	$(GO) build -o $(BIN)/gonicorn ./cmd/gonicorn

# deps installs the Debian packages the end-to-end tests drive, when missing.
deps:
	@missing=""; for pair in $(APT_DEPS); do \
		cmd=$${pair%%:*}; pkg=$${pair#*:}; \
		command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || [ -e "$$cmd" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# tools builds the Go tools pinned in tools/go.mod (h2spec) into bin/.
tools:
	@if [ -f tools/go.mod ]; then cd tools && $(GO) build -o $(BIN)/h2spec github.com/summerwind/h2spec/cmd/h2spec; fi

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)"

test: deps tools vet
	GONICORN_REQUIRE_TOOLS=1 PATH="$(BIN):$$PATH" $(GO) test -count=1 -timeout 12m ./...
	$(GO) test -count=1 -race -timeout 8m ./engine/ ./pool/ ./protocol/... ./supervisor/ ./internal/...
	cd bench/peers && $(GO) test -count=1 -mod=mod .
	cd third_party/gnet && $(GO) test -count=1 -race -run 'Adopt|Accepting|PauseRead|PausedRead|TryWrite|CloseReuses|WriteBeforeClose|StreamConn' .

# bench writes bench/results/results.md and chart.png (about 11 minutes); see scripts/bench.sh
# (the binary-as-run comparison alone, one scenario at a time: scripts/bench-binary.sh).
bench: deps tools build
	./scripts/bench.sh

clean:
	rm -rf $(BIN)
