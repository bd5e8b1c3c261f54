#!/usr/bin/env bash
# Smoke test with the real Redis tools: redis-cli (one-shot and interactive),
# redis-benchmark (plain and pipelined), redis-cli --pipe of 1,000,000 SETs,
# an inline command over nc, and a graceful SIGTERM. Fails on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${SMOKE_PORT:-16379}
BIN=target/release/ferrokv
[ -x "$BIN" ] || cargo build --release
LOG=$(mktemp)
SOCK=$(mktemp -u /tmp/ferrokv-smoke-XXXXXX.sock)
DATA=$(mktemp -d)
"$BIN" --port "$PORT" --unixsocket "$SOCK" --dir "$DATA" >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; tmux kill-session -t ferrokv-smoke 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done

fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
cli() { redis-cli -p "$PORT" "$@"; }
expect() { # expect <wanted> <command...>
  local want=$1; shift
  local got; got=$(cli "$@" 2>&1)
  [ "$got" = "$want" ] || fail "'$*' gave '$got', wanted '$want'"
}

grep -q "pid=$PID, just started" "$LOG" || fail "no startup line in log: $(cat "$LOG")"
grep -q "Running mode=standalone, port=$PORT." "$LOG" || fail "no port line in log: $(cat "$LOG")"
grep -q "Ready to accept connections unix" "$LOG" || fail "no readiness line in log: $(cat "$LOG")"

echo "== redis-cli and redis-benchmark over the Unix socket"
[ "$(redis-cli -s "$SOCK" PING)" = PONG ] || fail "redis-cli -s"
redis-cli -s "$SOCK" CLIENT INFO | grep -q "addr=$SOCK:0 .*flags=U " || fail "CLIENT INFO over the socket: $(redis-cli -s "$SOCK" CLIENT INFO)"
out=$(redis-benchmark -s "$SOCK" -t set,get -n 100000 -c 50 -P 16 -q 2>&1)
echo "$out" | tr '\r' '\n' | grep 'requests per second' | sed "s/^/  unix -P 16 /"
[ "$(echo "$out" | tr '\r' '\n' | grep -c 'requests per second')" -eq 2 ] || fail "redis-benchmark -s: $out"
redis-cli -s "$SOCK" FLUSHALL >/dev/null

echo "== redis-cli commands"
expect PONG PING
expect hello ECHO hello
expect OK SET k v
expect v GET k
expect 1 EXISTS k
expect 1 INCR n
expect OK SELECT 1
expect 1 DEL k
expect 1 DBSIZE
expect OK FLUSHDB
expect OK FLUSHALL
expect 0 DBSIZE
expect OK QUIT
count=$(cli COMMAND COUNT)
[ "$count" -ge 20 ] || fail "COMMAND COUNT = $count"
cli COMMAND INFO get | head -1 | grep -qx get || fail "COMMAND INFO get"
cli COMMAND DOCS get | grep -q summary || fail "COMMAND DOCS get"
[ "$(cli COMMAND | grep -c .)" -gt 100 ] || fail "COMMAND"

echo "== redis-cli interactive (tty)"
if command -v tmux >/dev/null; then
  tmux new-session -d -s ferrokv-smoke -x 150 -y 40 "redis-cli -p $PORT"
  # Type a line, then wait (up to 10 s) until the screen shows `want`.
  type_and_wait() {
    tmux send-keys -t ferrokv-smoke "$1" Enter
    for _ in $(seq 100); do
      screen=$(tmux capture-pane -t ferrokv-smoke -p)
      echo "$screen" | grep -q "$2" && return 0
      sleep 0.1
    done
    fail "interactive '$1' never showed '$2': $screen"
  }
  for _ in $(seq 100); do
    tmux capture-pane -t ferrokv-smoke -p | grep -q "127.0.0.1:$PORT>" && break
    sleep 0.1
  done
  type_and_wait 'SET smoke 41' 'OK'
  type_and_wait 'INCR smoke' '(integer) 42'
  type_and_wait 'HELP GET' 'summary: Get the value of a key'
  # The syntax line comes from COMMAND DOCS' argument tree, as with Redis.
  type_and_wait 'HELP SET' 'SET key value .NX|XX. .GET. .EX seconds|PX milliseconds'
  tmux kill-session -t ferrokv-smoke
else
  echo "tmux missing: skipped"
fi

echo "== inline command over nc"
got=$(printf 'PING\r\n' | nc -q1 127.0.0.1 "$PORT" | tr -d '\r')
[ "$got" = "+PONG" ] || fail "inline PING over nc gave '$got'"

echo "== redis-benchmark"
for p in 1 16; do
  out=$(redis-benchmark -p "$PORT" -t ping,set,get,incr,mset -n 200000 -c 50 -P "$p" -q 2>&1)
  echo "$out" | tr '\r' '\n' | grep 'requests per second' | sed "s/^/  -P $p /"
  if echo "$out" | grep -qiE 'error|warning'; then fail "redis-benchmark -P $p: $out"; fi
  n=$(echo "$out" | tr '\r' '\n' | grep -c 'requests per second' || true)
  [ "$n" -eq 6 ] || fail "redis-benchmark -P $p finished $n of 6 tests: $out"
done

echo "== redis-cli --pipe of 1,000,000 SETs"
expect OK FLUSHALL
out=$(awk 'BEGIN { for (i = 0; i < 1000000; i++) { k = "key:" i; v = "value:" i;
  printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' | redis-cli -p "$PORT" --pipe 2>&1)
echo "$out" | tail -1; echo
echo "$out" | grep -q 'errors: 0, replies: 1000000' || fail "--pipe: $out"
expect 1000000 DBSIZE

echo "== redis-cli tools: --scan, --bigkeys, --memkeys, --stat, INFO"
expect OK FLUSHALL
expect OK MSET key:1 a key:2 bb other c
scan=$(cli --scan --pattern 'key:*' | sort | tr '\n' ' ')
[ "$scan" = "key:1 key:2 " ] || fail "--scan gave '$scan'"
big=$(cli --bigkeys 2>&1)
echo "$big" | grep -q "Biggest string found '\"key:2\"' has 2 bytes" || fail "--bigkeys: $big"
echo "$big" | grep -q "3 strings with 4 bytes" || fail "--bigkeys: $big"
mem=$(cli --memkeys 2>&1)
echo "$mem" | grep -qE "3 strings with [1-9][0-9]* bytes" || fail "--memkeys: $mem"
stat=$(timeout 5 stdbuf -oL redis-cli -p "$PORT" --stat -i 1 2>&1 | sed -n 3p || true)
echo "$stat" | grep -qE '^3 +[0-9.]+[BKMG] +1 ' || fail "--stat: $stat"
info=$(cli INFO | tr -d '\r')
for f in redis_version ferrokv_version uptime_in_seconds connected_clients used_memory used_memory_human \
         total_commands_processed instantaneous_ops_per_sec keyspace_hits keyspace_misses expired_keys; do
  echo "$info" | grep -q "^$f:" || fail "INFO lacks $f"
done
echo "$info" | grep -qx 'db0:keys=3,expires=0,avg_ttl=0' || fail "INFO keyspace: $(echo "$info" | grep '^db0')"

echo "== redis-cli MONITOR sees another client's command; redis-cli -3 (RESP3)"
mon=$(mktemp)
timeout 10 stdbuf -oL redis-cli -p "$PORT" MONITOR >"$mon" 2>&1 &
MONPID=$!
for _ in $(seq 100); do cli CLIENT LIST | grep -q 'flags=O' && break; sleep 0.1; done
cli SET monitored yes >/dev/null
for _ in $(seq 100); do grep -q '"SET" "monitored" "yes"' "$mon" && break; sleep 0.1; done
kill "$MONPID" 2>/dev/null || true
wait "$MONPID" 2>/dev/null || true
grep -q '"SET" "monitored" "yes"' "$mon" || fail "MONITOR output: $(cat "$mon")"
resp3=$(redis-cli -3 --no-raw -p "$PORT" CONFIG GET maxclients)
echo "$resp3" | grep -q '1# "maxclients" => "10000"' || fail "redis-cli -3: $resp3"

echo "== active expiry of 1,000,000 keys: slowest PING while they are purged"
python3 scripts/expiry_latency.py "$PORT" 1000000 25 || fail "expiry latency"

echo "== a redis-server replica and redis-cli --rdb"
expect OK FLUSHALL
expect OK MSET r:1 one r:2 two
cli RPUSH r:list a b c >/dev/null
RDIR=$(mktemp -d)
RPORT=$((PORT + 1))
redis-server --port "$RPORT" --dir "$RDIR" --save "" --replicaof 127.0.0.1 "$PORT" --daemonize yes \
  --logfile "$RDIR/replica.log" --pidfile "$RDIR/replica.pid"
stop_replica() { kill "$(cat "$RDIR/replica.pid" 2>/dev/null)" 2>/dev/null || true; }
trap 'stop_replica; cleanup' EXIT
for _ in $(seq 100); do
  redis-cli -p "$RPORT" INFO replication 2>/dev/null | grep -q 'master_link_status:up' && break; sleep 0.1
done
cli SET r:3 three >/dev/null
[ "$(cli WAIT 1 5000)" = 1 ] || fail "WAIT 1 5000 with a replica: $(cli INFO replication)"
[ "$(redis-cli -p "$RPORT" MGET r:1 r:3 | tr '\n' ' ')" = "one three " ] || fail "replica data: $(cat "$RDIR/replica.log")"
[ "$(redis-cli -p "$RPORT" LRANGE r:list 0 -1 | tr '\n' ' ')" = "a b c " ] || fail "replica list"
cli INFO replication | grep -q "slave0:ip=127.0.0.1,port=$RPORT,state=online" || fail "INFO replication: $(cli INFO replication)"
stop_replica
out=$(redis-cli -p "$PORT" --rdb "$RDIR/backup.rdb" 2>&1)
echo "$out" | grep -q 'Transfer finished with success' || fail "redis-cli --rdb: $out"
redis-check-rdb "$RDIR/backup.rdb" | grep -q 'RDB looks OK' || fail "redis-check-rdb of the backup"
echo "replica in sync, backup checked"

echo "== SIGTERM"
kill -TERM "$PID"
status=0; wait "$PID" || status=$?
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
grep -q 'Received SIGTERM scheduling shutdown...' "$LOG" || fail "no shutdown log line"
grep -q 'Removing the unix socket file.' "$LOG" || fail "no socket removal line"
grep -q 'DB saved on disk' "$LOG" || fail "SIGTERM did not save (Redis's default save points are on)"
[ -s "$DATA/dump.rdb" ] || fail "no dump.rdb in $DATA"
[ ! -e "$SOCK" ] || fail "the Unix socket file is left behind"
tail -1 "$LOG" | grep -q 'Redis is now ready to exit, bye bye...' || fail "no goodbye line: $(tail -3 "$LOG")"
echo "smoke: all passed"
