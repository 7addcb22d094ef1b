#!/usr/bin/env bash
# slowread-bench.sh: normal clients' throughput and statuses, and the worker's RSS,
# while slowhttptest -X floods the server with slow readers of a 1 MB response
# (issue 10). Loopback only, bounded in time; run it under the bench lock:
#   flock /tmp/gonicorn-bench.lock scripts/slowread-bench.sh [BASE_COMMIT]
# With BASE_COMMIT, the same run is made first with the binary built at that commit
# ("before"). Server pinned to CPU 0, load on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-}
PORT=${PORT:-18431}
CONNS=${CONNS:-1500}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
ulimit -n "$(ulimit -Hn)" # slowhttptest holds CONNS sockets

build() { # build COMMIT DEST
	if [ "$1" = HEAD ]; then
		go build -o "$2" ./cmd/gonicorn
	else
		local wt="$OUT/src-$1"
		git worktree add -q --detach "$wt" "$1"
		(cd "$wt" && go build -o "$2" ./cmd/gonicorn)
		git worktree remove --force "$wt"
	fi
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

wrk_run() { # wrk_run SECONDS -> "req/s non2xx errors"
	wrk -t1 -c32 -d"$1"s "http://127.0.0.1:$PORT/" 2>&1 | awk '
		/Requests\/sec/ {rps=$2}
		/Non-2xx/ {non=$NF}
		/Socket errors/ {err=$0}
		END {printf "%s %s %s\n", rps, (non==""?0:non), (err==""?"none":err)}'
}

one() { # one LABEL BINARY EXTRA_FLAGS...
	local label=$1 bin=$2
	shift 2
	taskset -c 0 "$bin" -w 1 -b "127.0.0.1:$PORT" --threads 1024 --log-level warning "$@" >"$OUT/$label.log" 2>&1 &
	local master=$!
	local worker=""
	for _ in $(seq 100); do
		worker=$(pgrep -P "$master" | head -1 || true)
		curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && [ -n "$worker" ] && break
		sleep 0.1
	done
	local base rss0
	base=$(taskset -c 1 bash -c "$(declare -f wrk_run); PORT=$PORT wrk_run 5")
	rss0=$(rss_kb "$worker")
	taskset -c 1 slowhttptest -X -c "$CONNS" -r 500 -w 512 -y 1024 -n 5 -z 32 -k 3 -l 40 -p 5 \
		-u "http://127.0.0.1:$PORT/bytes?n=1048576" >"$OUT/$label.slow" 2>&1 &
	local slow=$!
	sleep 8
	local under peak=0 r
	under=$(taskset -c 1 bash -c "$(declare -f wrk_run); PORT=$PORT wrk_run 10")
	for _ in 1 2 3; do r=$(rss_kb "$worker"); [ "$r" -gt "$peak" ] && peak=$r; sleep 1; done
	kill "$slow" 2>/dev/null || true
	wait "$slow" 2>/dev/null || true
	sleep 10
	local after
	after=$(rss_kb "$worker")
	kill -TERM "$master" 2>/dev/null || true
	wait "$master" 2>/dev/null || true
	printf '| %s | %s | %s | %s | %s | %s MB | %s MB | %s MB |\n' "$label" \
		"$(echo "$base" | cut -d' ' -f1)" "$(echo "$under" | cut -d' ' -f1)" \
		"$(echo "$under" | cut -d' ' -f2)" "$(echo "$under" | cut -d' ' -f3-)" \
		"$((rss0 / 1024))" "$((peak / 1024))" "$((after / 1024))"
}

echo "slow-read flood: slowhttptest -X -c $CONNS (32 bytes every 5 s from /bytes?n=1048576), wrk -t1 -c32 on GET / beside it"
echo
echo '| build | req/s alone | req/s under flood | non-2xx under flood | socket errors | RSS before | RSS peak | RSS 10 s after |'
echo '|---|---|---|---|---|---|---|---|'
if [ -n "$BASE" ]; then
	build "$BASE" "$OUT/before"
	one "before ($BASE)" "$OUT/before"
fi
build HEAD "$OUT/after"
one "after (defaults: --min-response-rate 240)" "$OUT/after"
one "after, --min-response-rate 0 (parking alone)" "$OUT/after" --min-response-rate 0
