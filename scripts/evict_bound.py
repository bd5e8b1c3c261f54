#!/usr/bin/env python3
""""The bound is held": memory and latency during a write flood far beyond
maxmemory, ferrokv vs redis-server.

Both servers run with the same --maxmemory (default 64mb) and
--maxmemory-policy (default allkeys-lru). For each value size (default
1000 bytes, then 100 and 10 bytes), each server in turn receives a flood of
--requests (default 1,000,000) SETs of random keys out of 100,000,000
(`redis-benchmark -t set -r 100000000 -d SIZE -P 16 -c 50`, so 1,000,000 x
1000 bytes = 1 GB of writes, ~0.5% of keys repeat), while two probe processes
watch it:
  - a sampler: INFO memory + INFO stats every --sample-ms (50 ms) on its own
    connection; the report gives the largest sampled used_memory / maxmemory
    (target <= 1.05), plus used_memory_peak / maxmemory;
  - a pinger: a timed PING every --ping-ms (2 ms) on a third connection:
    p50 / p99 / max round trip during the flood (an idle baseline is taken
    before the flood).
Then the final used_memory, used_memory_rss, evicted_keys, DBSIZE and the
flood's throughput (redis-benchmark's rps) are reported.

The servers are pinned to core 0, redis-benchmark and the probes to core 1
(redis-benchmark at nice 10 so the probes wake promptly); the floods run one
server at a time.

Examples:
    python3 scripts/evict_bound.py                      # 1 GB, 100 MB, 10 MB floods x 3 rounds, ~2 minutes
    python3 scripts/evict_bound.py --value-sizes 1000 --requests 300000 --no-write
    python3 scripts/evict_bound.py --maxmemory 16mb --policy allkeys-lfu
"""

import argparse
import csv
import io
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
import evictlib as ev  # noqa: E402


def parse_size(s):
    s = s.strip().lower()
    units = {"kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "b": 1}
    for u in sorted(units, key=len, reverse=True):
        if s.endswith(u):
            return int(float(s[: -len(u)]) * units[u])
    return int(s)


def idle_pings(port, n=500):
    c = ev.Client(port)
    rtts = []
    for _ in range(n):
        t = ev.now_ns()
        c.call("PING")
        rtts.append((ev.now_ns() - t) / 1e6)
    c.close()
    return rtts


def flood(srv, args, size):
    port = srv.port
    base_rtts = idle_pings(port)
    fields = ("used_memory", "used_memory_rss", "evicted_keys")
    samp = ev.sampler(port, args.sample_ms / 1000, fields, sections=("memory", "stats"))
    ping = ev.pinger(port, args.ping_ms / 1000)
    time.sleep(0.2)  # both probes connected and running
    cmd = ["nice", "-n", "10", "redis-benchmark", "-p", str(port), "-t", "set", "-r", "100000000",
           "-d", str(size), "-n", str(args.requests), "-P", str(args.pipeline), "-c", str(args.clients), "--csv"]
    t0 = ev.now_ns()
    out = subprocess.run(cmd, capture_output=True, text=True)
    t1 = ev.now_ns()
    time.sleep(0.2)
    pings = ping.stop()
    samples = samp.stop()
    srv.check_alive()
    if out.returncode != 0:
        sys.exit(f"redis-benchmark failed against {srv.name}: {out.stderr[-2000:]}")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if not rows:
        sys.exit(f"no result from redis-benchmark against {srv.name}: {out.stdout[-500:]} {out.stderr[-500:]}")
    rtts = [rtt / 1e6 for (ts, rtt) in pings if t0 <= ts <= t1]
    during = [s for (ts, s) in samples if t0 <= ts <= t1 + 0.1e9]
    c = srv.client()
    info = c.info()
    dbsize = c.call("DBSIZE")
    cfg = c.call("CONFIG", "GET", "lazyfree-lazy-eviction")
    c.close()
    mm = info["maxmemory"]
    max_used = max((s["used_memory"] for s in during), default=0)
    return {
        "rps": float(rows[0]["rps"]),
        "wall": (t1 - t0) / 1e9,
        "bench_p99": float(rows[0]["p99_latency_ms"]),
        "samples": len(during),
        "max_ratio": max_used / mm,
        "max_used": max_used,
        "peak_ratio": info.get("used_memory_peak", 0) / mm,
        "used": info["used_memory"],
        "rss": info["used_memory_rss"],
        "max_rss": max((s["used_memory_rss"] for s in during), default=0),
        "evicted": info["evicted_keys"],
        "dbsize": dbsize,
        "errors": info.get("total_error_replies", 0),
        "pings": len(rtts),
        "p50": ev.percentile(rtts, 50),
        "p99": ev.percentile(rtts, 99),
        "pmax": max(rtts, default=float("nan")),
        "idle_p50": ev.percentile(base_rtts, 50),
        "idle_p99": ev.percentile(base_rtts, 99),
        "lazy_eviction": cfg[1].decode() if cfg and len(cfg) > 1 else "?",
        "maxmemory": mm,
    }


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--maxmemory", default="64mb")
    ap.add_argument("--policy", default="allkeys-lru")
    ap.add_argument("--value-sizes", default="1000,100,10",
                    help="value sizes in bytes, one flood each (default 1000,100,10)")
    ap.add_argument("--requests", "-n", type=int, default=1_000_000, help="SETs per flood (default 1,000,000)")
    ap.add_argument("--pipeline", "-P", type=int, default=16)
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--sample-ms", type=float, default=50, help="INFO sampling period (default 50 ms)")
    ap.add_argument("--ping-ms", type=float, default=2, help="pause between timed PINGs (default 2 ms)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="floods per server and value size, fresh servers each round, order alternating (default 3)")
    ev.add_report_args(ap, "1 round of 300,000 SETs per flood; no doc write unless --write")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.rounds = 300_000, 1
    ev.resolve_write(args)
    args.value_sizes = [int(v) for v in args.value_sizes.split(",")]
    parse_size(args.maxmemory)  # validates
    return args


def main():
    args = parse_args()
    ev.require_tools("redis-server", "redis-benchmark")
    ev.build_ferrokv(args.no_build)
    ev.pin_self()
    t_start = time.monotonic()
    results = {}
    runs = {}
    for rnd in range(args.rounds):
        order = ("redis", "ferrokv") if rnd % 2 == 0 else ("ferrokv", "redis")
        for size in args.value_sizes:
            with ev.Servers(["--maxmemory", args.maxmemory, "--maxmemory-policy", args.policy]) as servers:
                for name in order:
                    print(f"round {rnd + 1}/{args.rounds}: {args.requests:,} SETs of {size} B into {name}...",
                          file=sys.stderr, flush=True)
                    r = flood(servers[name], args, size)
                    runs.setdefault((size, name), []).append(r)
                    print(f"  {r['rps']:,.0f} SET/s, max sampled used/maxmemory {r['max_ratio']:.3f}, "
                          f"PING p50 {r['p50']:.2f} p99 {r['p99']:.2f} max {r['pmax']:.2f} ms",
                          file=sys.stderr, flush=True)
    elapsed = time.monotonic() - t_start
    # Summary over rounds: worst case for the bound and the max PING, median
    # for the rest (the machine is shared and noisy).
    med = statistics.median
    for key, rs in runs.items():
        worst = max(rs, key=lambda r: r["max_ratio"])
        results[key] = {k: (med([r[k] for r in rs]) if isinstance(v, (int, float)) else v)
                        for k, v in rs[-1].items()}
        for k in ("max_ratio", "peak_ratio", "max_rss"):
            results[key][k] = max(r[k] for r in rs)
        results[key]["samples"] = sum(r["samples"] for r in rs)
        results[key]["pings"] = sum(r["pings"] for r in rs)
        results[key]["pmax_worst"] = max(r["pmax"] for r in rs)
        results[key]["worst_used"] = worst["max_used"]

    rows = []
    for size in args.value_sizes:
        for name, label in (("redis", "redis-server"), ("ferrokv", "ferrokv")):
            r = results[(size, name)]
            ok = "✓" if r["max_ratio"] <= 1.05 else "✗"
            rows.append([
                f"{size} B", label, f"{r['rps']:,.0f}",
                f"**{r['max_ratio']:.3f}** {ok} ({r['samples']})", f"{r['peak_ratio']:.3f}",
                f"{ev.mb(r['used'])} ({r['used'] / r['maxmemory']:.3f})", ev.mb(r["rss"]), ev.mb(r["max_rss"]),
                f"{r['evicted']:,.0f}", f"{r['dbsize']:,.0f}", f"{r['errors']:,.0f}",
                f"{r['idle_p50']:.3f} / {r['idle_p99']:.3f}",
                f"{r['p50']:.3f} / {r['p99']:.3f} / {r['pmax']:.2f} / **{r['pmax_worst']:.2f}** ({r['pings']:,})",
            ])
    header = ["value", "server", "flood SET/s", "max sampled used_memory / maxmemory, worst round (samples)",
              "used_memory_peak / maxmemory, worst round", "final used_memory (/ maxmemory)", "final RSS", "max sampled RSS",
              "evicted_keys", "DBSIZE", "error replies", "idle PING p50 / p99 ms",
              "PING during flood p50 / p99 / max (median of rounds) / max (worst round) ms (count)"]
    verdicts = []
    for size in args.value_sizes:
        for name in ("redis", "ferrokv"):
            r = results[(size, name)]
            verdicts.append(f"- {size} B values, {name}: max sampled used_memory / maxmemory = {r['max_ratio']:.3f} → "
                            f"{'**holds**' if r['max_ratio'] <= 1.05 else '**exceeds**'} the 1.05 bound")
    any_r = results[(args.value_sizes[0], "redis")]
    any_f = results[(args.value_sizes[0], "ferrokv")]
    md = "\n".join([
        "## The bound is held: write flood under maxmemory (`scripts/evict_bound.py`)",
        "",
        f"`{ev.command_line()}` — {ev.stamp()}, run took {elapsed:.0f} s",
        "",
        f"Machine: {ev.machine_line()}",
        "",
        f"maxmemory {args.maxmemory} ({any_r['maxmemory']:,} bytes), maxmemory-policy {args.policy}, "
        f"maxmemory-samples 5 (default) on both; lazyfree-lazy-eviction left at each server's default "
        f"(redis-server: {any_r['lazy_eviction']}, ferrokv: {any_f['lazy_eviction']}). "
        f"Each flood: `redis-benchmark -t set -r 100000000 -d SIZE -n {args.requests} -P {args.pipeline} "
        f"-c {args.clients}` (random keys, ~0.5% repeats), one server at a time; {args.rounds} round(s), fresh "
        f"servers per round and value size, server order alternating. Table: final values and rates are medians "
        f"over rounds; the bound ratios are the worst round. "
        f"INFO memory+stats sampled every {args.sample_ms:g} ms on a second connection; a timed PING every "
        f"{args.ping_ms:g} ms on a third connection (probes in separate processes on the client core).",
        "",
        ev.md_table(header, rows),
        "",
        *verdicts,
        "",
    ])
    print(md)
    if args.write:
        ev.write_section("evict_bound", md, args.write)


if __name__ == "__main__":
    main()
