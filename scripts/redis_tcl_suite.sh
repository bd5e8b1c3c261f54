#!/usr/bin/env bash
# Redis 7.0.15's own Tcl test suite against ferrokv, unit by unit.
#
# Fetches Debian's redis_7.0.15.orig.tarball (the suite is in tests/), then
# either starts one ferrokv and runs the units against it (`external`, the
# default: `./runtest --host --port`, tests tagged external:skip are left
# out), or puts ferrokv where the suite looks for redis-server and lets it
# start its own servers with its own configs (`local`: more tests, more
# that depend on Redis's internals). Tests that need replication
# (`needs:repl`) are left out: ferrokv has none. `--durable` keeps a unit
# going after a failed test. One line per unit: ok/err counts; each
# unit's log is kept in the output directory.
#
# Usage: scripts/redis_tcl_suite.sh [external|local] [unit ...]
#   (default units: every unit/ file of the suite but cluster and tls)
set -euo pipefail
mode=${1:-external}; shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/ferrokv-redis-tcl}
out=$work/out-$mode
mkdir -p "$work" "$out"
tarball=redis_7.0.15.orig.tar.gz
if [ ! -d "$work/redis-7.0.15" ]; then
    curl -sSfL -o "$work/$tarball" "http://deb.debian.org/debian/pool/main/r/redis/$tarball"
    tar -xzf "$work/$tarball" -C "$work"
fi
command -v tclsh >/dev/null || { echo "needs tclsh (apt-get install tcl)"; exit 1; }
(cd "$root" && cargo build --release -q)
mkdir -p "$work/bin" && cp "$root/target/release/ferrokv" "$work/bin/ferrokv"
suite=$work/redis-7.0.15
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
    mapfile -t units < <(cd "$suite/tests" && ls unit/*.tcl unit/type/*.tcl | sed 's/\.tcl$//' \
        | grep -v -e '^unit/tls$' -e '^unit/cluster' -e 'list-common')
fi
# Skipped: a test that reads Redis's dict internals (DEBUG HTSTATS-KEY) and,
# failing, leaves rdb-key-save-delay at 2^31 behind: every later save of
# its unit would then sleep that long per key, in Redis as here.
common=(--durable --clients 1 --tags -needs:repl --timeout 600
    --skiptest "/SRANDMEMBER with a dict containing long chain")
port=${PORT:-21112}
if [ "$mode" = external ]; then
    common+=(--host 127.0.0.1 --port "$port")
else
    for t in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
        ln -sf "$(command -v $t)" "$suite/src/$t"
    done
    ln -sf "$work/bin/ferrokv" "$suite/src/redis-server"
    common+=(--baseport "${BASEPORT:-31111}")
fi
server=
dir=
stop() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    if [ -n "$dir" ]; then rm -rf "$dir"; fi
    server=
}
trap stop EXIT
cd "$suite"
for u in "${units[@]}"; do
    log=$out/$(echo "$u" | tr / _).log
    if [ "$mode" = external ]; then
        # A fresh server per unit: a unit that fails midway can leave
        # settings behind (maxmemory, say) that would fail the next ones.
        dir=$(mktemp -d)
        "$work/bin/ferrokv" --port "$port" --save "" --dir "$dir" --enable-debug-command yes \
            --bind 127.0.0.1 >"$log.server" 2>&1 &
        server=$!
        sleep 0.5
    fi
    timeout 1200 ./runtest --single "$u" "${common[@]}" >"$log" 2>&1 || true
    stop
    ok=$(grep -ac '32;49mok' "$log" || true)
    err=$(grep -ac '^\[.*31;49merr' "$log" || true)
    echo "$u ok=$ok err=$err"
done
