#!/usr/bin/env bash
# redis-benchmark against ferrokv and redis-server, alternately, in one run;
# prints rps, latency and server CPU per request for both, and the ratios.
# Options: see `scripts/bench-vs-redis.sh --help` (e.g. --quick, --rounds 5).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
exec python3 scripts/bench_vs_redis.py "$@"
