#!/bin/sh
# supervisor-bench.sh — the herd's numbers on this machine (needs wrk):
#   requests/s of 1, 2 and 4 workers, keep-alive and connection-per-request
#   (wrk -t1 -c32 -d5s against GET / of the demo app), and the failed requests
#   during a reload storm (10 HUPs in 10 s under load).
# Every run is bounded: about 90 s in all.
set -eu
cd "$(dirname "$0")/.."
exec go test -count=1 -run '^$' -bench 'BenchmarkSupervisor' -benchtime=1x -timeout 10m ./e2e/ "$@"
