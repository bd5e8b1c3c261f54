#!/usr/bin/env bash
# Instructions per EVALSHA under callgrind, for ferrokv or redis-server, over
# the scripting issue's two workloads (#19, docs/benchmarks.md "Scripting:
# EVALSHA") at -P 1 and -P 16, -c 50: exact and repeatable where timings on a
# shared machine are not. The counters are zeroed before and dumped after each
# redis-benchmark run (callgrind_control), so start-up and SCRIPT LOAD are not
# counted; the loop's own per-request work (read, parse, write) is.
#
# usage: scripts/evalsha_callgrind.sh [ferrokv|redis] [N]
#   ferrokv  target/release/ferrokv (FERROKV_BIN to pick another binary)
#   redis    redis-server from PATH (7.0.15 on the reference machine)
#   N        requests per run, default 20000
#   ECG_PORT the port (default 7210), ECG_PIPES the pipeline depths ("1 16")
# Leaves the dumps in /tmp/evalsha-callgrind.<server>.* for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-ferrokv}
N=${2:-20000}
PORT=${ECG_PORT:-7210}
PIPES=${ECG_PIPES:-"1 16"}
OUT=/tmp/evalsha-callgrind.$WHICH
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
rm -f "$OUT".*
case "$WHICH" in
    ferrokv)
        BIN=${FERROKV_BIN:-target/release/ferrokv}
        [ -x "$BIN" ] || cargo build --release
        CMD=("$BIN" --port "$PORT")
        ;;
    redis)
        CMD=(redis-server --port "$PORT" --save '' --appendonly no --logfile /dev/null)
        ;;
    *) echo "usage: $0 [ferrokv|redis] [N]" >&2; exit 2 ;;
esac
valgrind --tool=callgrind --callgrind-out-file="$OUT.%p" "${CMD[@]}" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 150); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
ONE="return redis.call('incr', KEYS[1])"
TEN="local r for i = 1, 10 do r = redis.call('incr', KEYS[1]) end return r"
SHA1=$(redis-cli -p "$PORT" SCRIPT LOAD "$ONE")
SHA10=$(redis-cli -p "$PORT" SCRIPT LOAD "$TEN")
part=0
for w in evalsha evalsha10; do
    sha=$SHA1
    [ "$w" = evalsha10 ] && sha=$SHA10
    for p in $PIPES; do
        callgrind_control -z "$PID" >/dev/null 2>&1
        redis-benchmark -p "$PORT" -n "$N" -c 50 -P "$p" -q EVALSHA "$sha" 1 counter >/dev/null
        callgrind_control -d "$PID" >/dev/null 2>&1
        part=$((part + 1))
        f="$OUT.$PID.$part"
        total=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
        echo "$WHICH $w -P $p: $total instructions for $N requests: $((total / N)) per request"
    done
done
redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$PID" || true
