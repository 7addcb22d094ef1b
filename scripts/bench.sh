#!/usr/bin/env bash
# make bench: gonicorn against net/http (and net/http h2c), fasthttp and nbio serving
# the same demo handler, with gonicorn's own load generator, wrk and h2load; then
# bench/results/results.md and bench/results/chart.png.
#
# The server runs inside the benchmark process pinned to CPU 0 (GOMAXPROCS 1, one
# event loop); the load generator (a child process, or wrk/h2load under taskset -c 1)
# is pinned to CPU 1. Needs wrk, h2load and taskset (apt: wrk nghttp2-client
# util-linux).
#
# Every benchmark runs BENCH_COUNT times; the report shows medians. A failed
# gonicorn or net/http benchmark fails make bench; a failed peer (fasthttp, nbio) run
# is listed in the report and warned about.
#
# Environment:
#   GONICORN_BENCH_DURATION  length of each measured run (Go duration, default 5s)
#   BENCH_COUNT              runs of each benchmark (default 3)
#   BENCH                    -bench regexp (default Hello|Wrk|H2load|IdleConns)
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench/results
mkdir -p "$out"
export GONICORN_BENCH_DURATION="${GONICORN_BENCH_DURATION:-5s}"
export GONICORN_REQUIRE_TOOLS=1
filter="${BENCH:-Hello|Wrk|H2load|IdleConns}"
count="${BENCH_COUNT:-3}"

for tool in wrk h2load taskset; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench: warning: fewer than 2 CPUs: server and load generator share one (unpinned)" >&2
fi

loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
main_cmd="go test ./bench -run '^\$' -bench '$filter' -benchtime 1x -count $count -timeout 60m"
peers_cmd="cd bench/peers && go test -mod=mod -run '^\$' -bench '$filter' -benchtime 1x -count $count -timeout 60m"

status=0
echo "+ $main_cmd" >&2
go test ./bench -run '^$' -bench "$filter" -benchtime 1x -count "$count" -timeout 60m | tee "$out/raw-gonicorn.txt" || status=1
echo "+ ($peers_cmd)" >&2
(cd bench/peers && go test -mod=mod -run '^$' -bench "$filter" -benchtime 1x -count "$count" -timeout 60m) | tee "$out/raw-peers.txt" ||
	echo "bench: warning: a peer benchmark failed (see the report)" >&2

go run ./bench/cmd/benchreport -out "$out" -loadavg "$loadavg" -duration "$GONICORN_BENCH_DURATION" \
	-cmd "GONICORN_BENCH_DURATION=$GONICORN_BENCH_DURATION make bench   # scripts/bench.sh" \
	-cmd "$main_cmd" -cmd "($peers_cmd)" \
	"$out/raw-gonicorn.txt" "$out/raw-peers.txt"
echo "bench: wrote $out/results.md and $out/chart.png" >&2
exit "$status"
