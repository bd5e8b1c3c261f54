#!/usr/bin/env bash
# Instructions per request of a ferrokv binary under callgrind, over a fixed
# redis-benchmark mix at -P 16 (10 tests x N requests, -c 50): exact and
# repeatable where timings on a shared machine are not, so it is the number to
# compare two builds by (docs/benchmarks.md, "Profile").
#
# usage: scripts/instructions-per-request.sh [BINARY] [N]
#   BINARY  default target/release/ferrokv (built if missing)
#   N       requests per test, default 100000 (about a minute under valgrind)
#   IPR_TESTS="set get" runs other tests (space-separated); IPR_PORT the port
# Leaves the profile in /tmp/ferrokv-callgrind.out for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/ferrokv}
N=${2:-100000}
PORT=${IPR_PORT:-16398}
TESTS=${IPR_TESTS:-"set get incr sadd spop lpush lpop ping_mbulk hset zadd"}
OUT=/tmp/ferrokv-callgrind.out
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$BIN" --port "$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
n=0
for t in $TESTS; do
    redis-benchmark -p "$PORT" -t "$t" -n "$N" -c 50 -P 16 -q >/dev/null
    n=$((n + N))
done
redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$PID" || true
total=$(awk '/^totals:/ {print $2}' "$OUT")
echo "$BIN: $total instructions for $n requests ($TESTS): $((total / n)) per request (startup included)"
