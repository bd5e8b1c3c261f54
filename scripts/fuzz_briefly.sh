#!/usr/bin/env bash
# Runs every cargo-fuzz target for a few seconds (CI's step; docs/fuzzing.md
# says how to run them for hours). Needs the nightly toolchain and
# cargo-fuzz: without either it says so and stops (FUZZ_INSTALL=1 installs
# cargo-fuzz from crates.io first). A crash fails the run and leaves
# its input in fuzz/artifacts/<target>/.
# Usage: scripts/fuzz_briefly.sh [seconds per target, default 20] [sanitizer:
# address (default) or none, which builds faster]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
san=${2:-address}
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "no nightly toolchain: fuzz targets skipped"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  # `cargo install --locked cargo-fuzz` took 1m49s of CPU (4m56s on a
  # loaded 2-core machine): over CI's budget for this step, so only on
  # request.
  if [ "${FUZZ_INSTALL:-0}" != 1 ]; then
    echo "cargo-fuzz not installed: fuzz targets skipped (FUZZ_INSTALL=1 installs it, ~2 min of CPU)"
    exit 0
  fi
  cargo install --locked cargo-fuzz
fi
cargo +nightly fuzz build -O -s "$san"
for t in $(cargo +nightly fuzz list); do
  mkdir -p "fuzz/corpus/$t"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  echo "-- $t (${secs}s)"
  set +e
  cargo +nightly fuzz run -O -s "$san" "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -timeout=30 "${dict[@]}" \
    >"fuzz/$t.log" 2>&1
  status=$?
  set -e
  grep -E '^#[0-9]+ +DONE' "fuzz/$t.log" || true
  if [ $status -ne 0 ]; then
    tail -n 60 "fuzz/$t.log"
    echo "fuzz target $t failed (input in fuzz/artifacts/$t/)"
    exit 1
  fi
done
