#!/usr/bin/env bash
# make bench: bench/results/results.md and bench/results/chart.png, in two parts.
#
# 1. The headline, the binary as users run it (scripts/bench-binary.sh, package
#    bench/binbench): gonicorn -w 1 (master + worker) beside net/http, fasthttp,
#    net/http h2c, and uWSGI 2.0 + Python behind nginx, each server its own process
#    pinned to CPU 0, wrk/h2load and nginx pinned to CPU 1, the server's whole
#    process tree's CPU per request; then strace's system calls per uwsgi request.
#    Writes bench/results/binary.md, binary.json and raw-binary.txt.
# 2. In-process benchmarks (package bench, go test -bench): gonicorn's engine and
#    net/http inside the test process driven by the bench package's own generator
#    (every body checked, allocations per request), and the RSS of 10,000 idle
#    keep-alive connections. Writes raw-gonicorn.txt (and raw-peers.txt with
#    BENCH_PEERS=1: fasthttp and nbio in-process).
# Then bench/cmd/benchreport renders results.md (headline first) and chart.png, and
# (unless BENCH_ONLY narrows the run) the generated block of README.md's Performance
# section.
# About 11 minutes with the defaults. Needs nginx, wrk, h2load, uwsgi-core,
# uwsgi-plugin-python3, strace and taskset (make deps installs them).
#
# Environment:
#   GONICORN_BENCH_DURATION  length of each measured run (default 5s)
#   BENCH_ROUNDS             binary-as-run rounds, medians reported (default 5: on a
#                            shared 2-CPU machine one round moves by 10-20%, and the
#                            issue's targets sit within that of their thresholds)
#   BENCH_ONLY               binary-as-run runs to keep (see scripts/bench-binary.sh); a
#                            partial run writes bench/results/tmp/ (or BENCH_OUT), runs no
#                            in-process benchmark unless BENCH is set, leaves README alone
#   BENCH_STRACE_REQUESTS    requests counted under strace (default 20000)
#   BENCH                    in-process -bench regexp (default Hello|IdleConns; "none" skips)
#   BENCH_COUNT              in-process runs of each benchmark (default 1)
#   BENCH_PEERS=1            also the in-process fasthttp/nbio benchmarks (bench/peers)
# The whole run holds /tmp/gonicorn-bench.lock (flock; it waits up to 15 minutes),
# unless an ancestor already holds it (`flock /tmp/gonicorn-bench.lock make bench`).
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench/results
lock=/tmp/gonicorn-bench.lock
export GONICORN_BENCH_DURATION="${GONICORN_BENCH_DURATION:-5s}"
export BENCH_ROUNDS="${BENCH_ROUNDS:-5}"
export GONICORN_REQUIRE_TOOLS=1
filter="${BENCH:-Hello|IdleConns}"
if [ -n "${BENCH_ONLY:-}" ]; then
	# A partial run must not overwrite the committed results: it goes to the
	# git-ignored tmp/, and the in-process part runs only when BENCH asks for it.
	out="${BENCH_OUT:-bench/results/tmp}"
	filter="${BENCH:-none}"
fi
count="${BENCH_COUNT:-1}"

for tool in wrk h2load taskset nginx uwsgi strace; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "bench: $tool is not installed (make deps)" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench: warning: fewer than 2 CPUs: server and load generator share one (unpinned)" >&2
fi

# Build everything before taking the lock: compiles are not measured.
mkdir -p bin "$out"
go build -o bin/gonicorn ./cmd/gonicorn
go build -o bin/binbench ./bench/cmd/binbench
go build -o bin/benchreport ./bench/cmd/benchreport
(cd bench/peers && go build -mod=mod -o ../../bin/peerserver ./cmd/peerserver)
go test -c -o bin/bench.test ./bench
if [ "${BENCH_PEERS:-0}" = 1 ]; then
	(cd bench/peers && go test -mod=mod -c -o ../../bin/peers.test .)
fi
if [ -z "${GONICORN_BENCH_LOCKED:-}" ] && ! bin/binbench -lock-held -lock "$lock"; then
	echo "bench: waiting for $lock" >&2
	export GONICORN_BENCH_LOCKED=1
	exec flock -w 900 "$lock" "$0" "$@"
fi

loadavg="$(cut -d' ' -f1-3 /proc/loadavg)"
status=0
echo "+ BENCH_OUT=$out scripts/bench-binary.sh" >&2
BENCH_OUT="$out" bin/binbench -gonicorn bin/gonicorn -peer bin/peerserver -lock "$lock" || status=1

inputs=("$out/raw-binary.txt")
main_cmd="go test ./bench -run '^\$' -bench '$filter' -benchtime 1x -count $count"
peers_cmd="(cd bench/peers && go test -mod=mod -run '^\$' -bench '$filter' -benchtime 1x -count $count)"
cmds=(-cmd "GONICORN_BENCH_DURATION=$GONICORN_BENCH_DURATION make bench   # scripts/bench.sh" -cmd "scripts/bench-binary.sh   # the binary-as-run part")
if [ "$filter" != none ]; then
	echo "+ $main_cmd" >&2
	(cd bench && ../bin/bench.test -test.run '^$' -test.bench "$filter" -test.benchtime 1x -test.count "$count" -test.timeout 30m) |
		tee "$out/raw-gonicorn.txt" || status=1
	inputs+=("$out/raw-gonicorn.txt")
	cmds+=(-cmd "$main_cmd")
	if [ "${BENCH_PEERS:-0}" = 1 ]; then
		echo "+ $peers_cmd" >&2
		(cd bench/peers && ../../bin/peers.test -test.run '^$' -test.bench "$filter" -test.benchtime 1x -test.count "$count" -test.timeout 30m) |
			tee "$out/raw-peers.txt" || echo "bench: warning: a peer benchmark failed (see the report)" >&2
		inputs+=("$out/raw-peers.txt")
		cmds+=(-cmd "$peers_cmd")
	fi
fi

readme=()
if [ -z "${BENCH_ONLY:-}" ] && [ "$out" = bench/results ]; then
	readme=(-readme README.md -summary "$out/binary-summary.md")
fi
bin/benchreport -out "$out" -loadavg "$loadavg" -duration "$GONICORN_BENCH_DURATION" \
	-binary "$out/binary.md" "${readme[@]}" "${cmds[@]}" "${inputs[@]}"
echo "bench: wrote $out/results.md and $out/chart.png${readme:+, and the Performance numbers in README.md}" >&2
exit "$status"
