#!/usr/bin/env python3
"""Cache hit ratio under maxmemory: ferrokv vs redis-server, side by side.

Keyspace: N keys `key:<n>` (default 1,000,000) with 100-byte values.
Workload: cache-aside over a Zipf(s=0.99) popularity law on the N keys (which
key gets which rank is a seeded shuffle): GET key, and on a miss SET key
value. Requests go in pipelined batches (--batch GETs, then one pipeline with
the SETs for that batch's misses), the same batches to both servers,
alternating batch by batch between them so both see the same timeline (LRU
clock, LFU decay). The key sequence is drawn once from a fixed seed.

maxmemory: unless --maxmemory is given, it is sized so that about --fit
(10%) of the keyspace fits in redis-server: both servers are first loaded
with a sample of keys without a limit to measure used_memory per key, then
maxmemory = redis-server's empty used_memory + fit * N * redis-server's bytes
per key. Both servers get that same byte limit; a server storing keys more
compactly holds more of them, so keys held (DBSIZE) is reported too.

For each policy (default allkeys-lru and allkeys-lfu) a fresh pair of servers
runs --warmup ops, then the hit ratio is measured over the next --ops ops by
the client's own counting, cross-checked with INFO keyspace_hits/misses.
Target: ferrokv's hit ratio >= redis-server's - 1 point.

Examples:
    python3 scripts/hit_ratio.py                  # 1M keys, 1M warm-up + 2M ops, lru and lfu
    python3 scripts/hit_ratio.py --quick          # 200k keys, ~1 minute, no doc write
    python3 scripts/hit_ratio.py --maxmemory 16mb --policies allkeys-lru
"""

import argparse
import bisect
import itertools
import random
import sys
import time
from array import array

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree
import evictlib as ev  # noqa: E402

VALUE = b"v" * 100


def zipf_sequence(n_keys, n_ops, s, seed):
    """n_ops key ids drawn from Zipf(s) over n_keys (rank -> key id through a
    seeded permutation)."""
    cdf = list(itertools.accumulate(1.0 / (i ** s) for i in range(1, n_keys + 1)))
    total = cdf[-1]
    rnd = random.Random(seed)
    perm = list(range(n_keys))
    rnd.shuffle(perm)
    rand, bis = rnd.random, bisect.bisect_left
    last = n_keys - 1
    seq = array("I", (perm[min(bis(cdf, rand() * total), last)] for _ in range(n_ops)))
    # Analytic best case: a cache holding exactly the k most popular keys.
    return seq, (lambda k: cdf[min(k, n_keys) - 1] / total if k > 0 else 0.0)


def get_cmd(k):
    key = b"key:%d" % k
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)


def set_cmd(k):
    key = b"key:%d" % k
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(VALUE), VALUE)


def size_maxmemory(args):
    """Loads a sample into unlimited servers; returns (maxmemory bytes,
    {server: bytes per key})."""
    sample = min(args.keys, max(10_000, args.keys // 10))
    per_key, empty = {}, {}
    with ev.Servers([]) as servers:
        for name, srv in servers.items():
            c = srv.client()
            empty[name] = c.info("memory")["used_memory"]
            for start in range(0, sample, 1000):
                replies = c.pipeline([set_cmd(k) for k in range(start, min(sample, start + 1000))])
                bad = [r for r in replies if isinstance(r, ev.RespError)]
                if bad:
                    sys.exit(f"{name}: error while loading the sizing sample: {bad[0]}")
            used = c.info("memory")["used_memory"]
            per_key[name] = (used - empty[name]) / sample
            c.close()
    maxmem = int(empty["redis"] + args.fit * args.keys * per_key["redis"])
    print(f"sizing: sample of {sample:,} keys; bytes/key redis {per_key['redis']:.1f}, "
          f"ferrokv {per_key['ferrokv']:.1f}; maxmemory {maxmem:,} "
          f"(redis empty {empty['redis']:,} + {args.fit:.0%} of keyspace)", file=sys.stderr)
    return maxmem, per_key, sample


def run_policy(args, policy, maxmemory, seq):
    opts = ["--maxmemory", maxmemory, "--maxmemory-policy", policy,
            "--maxmemory-samples", args.samples]
    res = {}
    with ev.Servers(opts) as servers:
        names = list(servers)
        clients = {n: servers[n].client() for n in names}
        for n, c in clients.items():
            cfg = c.call("CONFIG", "GET", "maxmemory-policy")
            if cfg[1].decode() != policy:
                sys.exit(f"{n}: maxmemory-policy is {cfg[1]!r}, expected {policy}")
        stats = {n: {"hits": 0, "misses": 0, "set_errors": 0, "time": 0.0} for n in names}
        total = args.warmup + args.ops
        info0 = {}
        t_start = time.monotonic()
        for start in range(0, total, args.batch):
            if start >= args.warmup and not info0:
                for n, c in clients.items():
                    info0[n] = c.info()
            batch = seq[start:min(total, start + args.batch)]
            gets = [get_cmd(k) for k in batch]
            measuring = start >= args.warmup
            for n in names:
                c = clients[n]
                t = time.perf_counter()
                replies = c.pipeline(gets)
                misses = [k for k, r in zip(batch, replies) if r is None]
                bad = [r for r in replies if isinstance(r, ev.RespError)]
                if bad:
                    sys.exit(f"{n}: GET returned an error: {bad[0]}")
                if misses:
                    for r in c.pipeline([set_cmd(k) for k in misses]):
                        if isinstance(r, ev.RespError):
                            stats[n]["set_errors"] += 1
                            if stats[n]["set_errors"] == 1:
                                print(f"{n}: SET error: {r}", file=sys.stderr)
                stats[n]["time"] += time.perf_counter() - t
                if measuring:
                    stats[n]["hits"] += len(batch) - len(misses)
                    stats[n]["misses"] += len(misses)
            done = start + len(batch)
            if done % 500_000 < args.batch:
                el = time.monotonic() - t_start
                print(f"  {policy}: {done:,}/{total:,} ops ({el:.0f} s)", file=sys.stderr, flush=True)
        for n in names:
            servers[n].check_alive()
            c = clients[n]
            info1 = c.info()
            st = stats[n]
            measured = st["hits"] + st["misses"]
            ihits = info1["keyspace_hits"] - info0[n]["keyspace_hits"]
            imiss = info1["keyspace_misses"] - info0[n]["keyspace_misses"]
            res[n] = {
                "hit": st["hits"] / measured,
                "info_hit": ihits / (ihits + imiss) if ihits + imiss else float("nan"),
                "info_match": (ihits, imiss) == (st["hits"], st["misses"]),
                "info_hits": ihits, "info_misses": imiss,
                "dbsize": c.call("DBSIZE"),
                "used": info1["used_memory"],
                "rss": info1.get("used_memory_rss"),
                "maxmemory": info1.get("maxmemory"),
                "evicted": info1["evicted_keys"],
                "evicted_measured": info1["evicted_keys"] - info0[n]["evicted_keys"],
                "set_errors": st["set_errors"],
                "ops_s": (args.warmup + args.ops) / st["time"],
            }
            c.close()
    return res


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, help="keyspace size N (default 1,000,000)")
    ap.add_argument("--ops", type=int, help="measured ops (default 2,000,000)")
    ap.add_argument("--warmup", type=int, help="warm-up ops (default 1,000,000)")
    ap.add_argument("--maxmemory", help="fixed maxmemory for both servers (e.g. 16mb); default: sized by --fit")
    ap.add_argument("--fit", type=float, default=0.10, help="share of the keyspace that fits in redis (default 0.10)")
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    ap.add_argument("--samples", type=int, default=5, help="maxmemory-samples (default 5, as Redis)")
    ap.add_argument("--zipf", type=float, default=0.99, help="Zipf exponent s (default 0.99)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=100, help="GETs per pipeline (default 100)")
    ev.add_report_args(ap, "200k keys, 200k warm-up + 400k ops (about a minute); does not write the doc unless --write")
    args = ap.parse_args()
    defaults = (200_000, 200_000, 400_000) if args.quick else (1_000_000, 1_000_000, 2_000_000)
    args.keys = args.keys or defaults[0]
    args.warmup = defaults[1] if args.warmup is None else args.warmup
    args.ops = args.ops or defaults[2]
    ev.resolve_write(args)
    args.policies = args.policies.split(",")
    return args


def main():
    args = parse_args()
    ev.require_tools("redis-server")
    ev.build_ferrokv(args.no_build)
    ev.pin_self()
    t0 = time.monotonic()
    print(f"drawing {args.warmup + args.ops:,} Zipf({args.zipf}) key ids over {args.keys:,} keys...",
          file=sys.stderr, flush=True)
    seq, best = zipf_sequence(args.keys, args.warmup + args.ops, args.zipf, args.seed)
    if args.maxmemory:
        maxmemory, per_key, sample = args.maxmemory, None, 0
    else:
        maxmemory, per_key, sample = size_maxmemory(args)
    results = {}
    for policy in args.policies:
        print(f"policy {policy}, maxmemory {maxmemory}", file=sys.stderr, flush=True)
        results[policy] = run_policy(args, policy, maxmemory, seq)
    elapsed = time.monotonic() - t0

    rows = []
    for policy, res in results.items():
        r, f = res["redis"], res["ferrokv"]
        for name, x in (("redis-server", r), ("ferrokv", f)):
            rows.append([
                policy, name, f"**{x['hit'] * 100:.2f}%**",
                f"{x['info_hit'] * 100:.2f}% ({'match' if x['info_match'] else 'MISMATCH'})",
                f"{x['dbsize']:,} ({x['dbsize'] / args.keys:.1%})",
                f"{best(x['dbsize']) * 100:.2f}%",
                ev.mb(x["used"]), f"{x['used'] / x['maxmemory']:.3f}" if x["maxmemory"] else "n/a",
                ev.mb(x["rss"]), f"{x['evicted']:,}",
                f"{x['set_errors']:,}", f"{x['ops_s']:,.0f}",
            ])
        rows.append([policy, "**ferrokv − redis**", f"**{(f['hit'] - r['hit']) * 100:+.2f} points**",
                     "", f"{f['dbsize'] - r['dbsize']:+,}", "", "", "", "", "", "", ""])
    header = ["policy", "server", "hit ratio (client)", "hit ratio (INFO)", "keys held (DBSIZE)",
              "ideal hit ratio for that many keys", "used_memory", "used / maxmemory", "RSS", "evicted_keys", "SET errors",
              "client ops/s"]
    table = ev.md_table(header, rows)
    verdicts = []
    for policy, res in results.items():
        d = (res["ferrokv"]["hit"] - res["redis"]["hit"]) * 100
        verdicts.append(f"- {policy}: ferrokv − redis = {d:+.2f} points → "
                        f"{'**meets**' if d >= -1 else '**misses**'} the target (>= −1 point)")
    sizing = (f"maxmemory fixed at `{maxmemory}` for both servers." if per_key is None else
              f"maxmemory = {maxmemory:,} bytes for both servers, sized so that {args.fit:.0%} of the keyspace "
              f"fits in redis-server: a sample of {sample:,} keys measured {per_key['redis']:.1f} bytes/key "
              f"of used_memory in redis-server and {per_key['ferrokv']:.1f} in ferrokv.")
    md = "\n".join([
        "## Cache hit ratio under maxmemory (`scripts/hit_ratio.py`)",
        "",
        f"`{ev.command_line()}` — {ev.stamp()}, run took {elapsed:.0f} s",
        "",
        f"Machine: {ev.machine_line()}",
        "",
        f"Keyspace {args.keys:,} keys `key:<n>`, 100-byte values; Zipf(s={args.zipf}) popularity (seed {args.seed}); "
        f"cache-aside (GET, SET on miss) in pipelines of {args.batch} GETs + the misses' SETs, "
        f"alternating batches between the two servers; {args.warmup:,} warm-up ops, hit ratio over the next "
        f"{args.ops:,} ops. maxmemory-samples {args.samples}. {sizing}",
        "",
        table,
        "",
        "\"ideal hit ratio\" is the share of requests that go to the k most popular keys, k = keys held: the "
        "hit ratio of a perfect frequency oracle with that many keys (an upper bound for the policy). "
        "\"hit ratio (INFO)\" is keyspace_hits / (hits + misses) over the measured window; "
        "\"match\" means it equals the client's own count exactly. "
        "client ops/s is bounded by the Python client and only indicative.",
        "",
        *verdicts,
        "",
    ])
    print(md)
    if args.write:
        ev.write_section("hit_ratio", md, args.write)


if __name__ == "__main__":
    main()
