#!/usr/bin/env bash
# bench-binary.sh — gonicorn's binary as users run it, side by side with its peers
# in one run (package bench/binbench; `make bench` runs it for the headline numbers).
#
#   gonicorn -w 1 (master + 1 worker), net/http, fasthttp, net/http h2c, and uWSGI 2.0
#   with a Python hello-world app behind nginx: each server its own process pinned with
#   `taskset -c 0`; wrk/h2load, nginx (one worker) and strace pinned to CPU 1. Server
#   CPU = utime+stime of its whole process tree (/proc) over the measured run, per
#   request. Every wrk response's status is counted and its length checked against a
#   probe's (status and body checked), h2load's statuses and body bytes; a run with any
#   error has no numbers and makes the script fail.
#
# Scenarios (BENCH_ONLY patterns match SCENARIO or SCENARIO/SERVER, comma-separated):
#   keepalive   wrk -c64                         gonicorn nethttp fasthttp
#   pipelined   wrk -c64, 16 pipelined           gonicorn nethttp fasthttp
#   close       wrk -c64, Connection: close      gonicorn nethttp fasthttp
#   h2c         h2load -c16 -m32                 gonicorn nethttp-h2c
#   uwsgi-tcp   wrk -c32 → nginx uwsgi_pass TCP  gonicorn uwsgi
#   uwsgi-unix  wrk -c32 → nginx uwsgi_pass unix gonicorn uwsgi
#   proxy       wrk -c32 → nginx proxy_pass keepalive  gonicorn nethttp
#   reload-uwsgi-tcp, reload-uwsgi-unix   uwsgi-tcp/-unix with SIGHUP to the master every
#               second: zero failed requests (first round only)      gonicorn
#   syscalls-uwsgi-tcp, syscalls-uwsgi-unix   strace -c -f on the worker   gonicorn uwsgi
#
# Examples:
#   BENCH_ONLY=uwsgi-tcp GONICORN_BENCH_DURATION=3s BENCH_ROUNDS=1 scripts/bench-binary.sh
#   BENCH_ONLY='keepalive/gonicorn,keepalive/nethttp' scripts/bench-binary.sh
#   BENCH_ONLY='syscalls-*' BENCH_STRACE_REQUESTS=5000 scripts/bench-binary.sh
#   A/B of two builds in one run (the other built e.g. from another worktree):
#   GONICORN_BIN_B=/tmp/gonicorn-old BENCH_ONLY='uwsgi-*,syscalls-*' scripts/bench-binary.sh
#
# Environment (defaults):
#   GONICORN_BENCH_DURATION  each measured run, whole seconds (5s)
#   BENCH_WARMUP             same load before each measured run, not counted (1s; 0 none)
#   BENCH_ROUNDS             runs of each scenario/server, servers rotated; medians (3)
#   BENCH_ONLY               patterns of runs to keep (all)
#   BENCH_STRACE_REQUESTS    requests counted under strace (20000)
#   BENCH_OUT                where binary.md, binary.json, raw-binary.txt go
#                            (bench/results/tmp, ignored by git; make bench: bench/results)
#   BENCH_SERVER_CPU, BENCH_LOAD_CPU  the two CPUs (0, 1)
#   GONICORN_BIN_B           a second gonicorn binary, run as "gonicorn-b" beside
#                            bin/gonicorn in every scenario (none)
#   GONICORN_BIN, PEERSERVER_BIN  override the binaries built below
# A full run (3 rounds of 5 s) takes about 6 minutes. The run holds
# /tmp/gonicorn-bench.lock (flock), waiting up to 15 minutes for it, unless an
# ancestor process already holds it. Only the processes it starts are stopped, each
# run's temp dir is removed, and ^C stops after the current run.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p bin
go build -o bin/gonicorn ./cmd/gonicorn
go build -o bin/binbench ./bench/cmd/binbench
(cd bench/peers && go build -mod=mod -o ../../bin/peerserver ./cmd/peerserver)
if [ "$(nproc)" -lt 2 ]; then
	echo "bench-binary: warning: fewer than 2 CPUs: servers and load share one" >&2
	export BENCH_SERVER_CPU="${BENCH_SERVER_CPU:--1}" BENCH_LOAD_CPU="${BENCH_LOAD_CPU:--1}"
fi
exec bin/binbench -gonicorn "${GONICORN_BIN:-bin/gonicorn}" -peer "${PEERSERVER_BIN:-bin/peerserver}" "$@"
