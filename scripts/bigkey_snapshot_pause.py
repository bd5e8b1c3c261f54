#!/usr/bin/env python3
"""How long a BGSAVE stops the server when the dataset holds one big key.

For each type (a skiplist sorted set, a hashtable hash and set, a list of
thousands of nodes) of --members elements, both servers (pinned to one
core) get the key, then a BGSAVE while a second client sends PINGs one
after another; the longest PING is the longest the loop stood still. With
--write, the BGSAVE's client also writes one element of the big key right
after BGSAVE (in the same packet) and then every 10 ms while it runs.
With --keys N, N such keys (each written to at each write, the walk
meeting them one after the other).
redis-server forks (the fork and its page-table copy is the pause);
ferrokv writes the snapshot from its loop, a big value a slice per turn.

Usage: scripts/bigkey_snapshot_pause.py [--members 2000000] [--rounds 3] [--write]
                                        [--types zset,hash,set,list] [--keys 1] [--no-build]
Needs redis-server and the redis Python package.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

try:
    import redis
except ImportError:
    sys.exit("needs the redis package (pip install redis)")


def names(keys):
    return ["big"] + [f"big:{k}" for k in range(1, keys)]


def fill(r, kind, n, keys):
    r.flushall()
    p = r.pipeline(transaction=False)
    for key in names(keys):
        for i in range(0, n, 1000):
            chunk = range(i, min(n, i + 1000))
            if kind == "zset":
                p.zadd(key, {f"member:{j}": j for j in chunk})
            elif kind == "hash":
                p.hset(key, mapping={f"field:{j}": f"v{j}" for j in chunk})
            elif kind == "set":
                p.sadd(key, *[f"member:{j}" for j in chunk])
            else:
                p.rpush(key, *[f"value:{j}" for j in chunk])
            if i % 100_000 == 0:
                p.execute()
    p.execute()


def write_one(p, kind, i, keys):
    """One write to each big key, queued on pipeline `p`."""
    for key in names(keys):
        if kind == "zset":
            p.zadd(key, {f"new:{i}": -i})
        elif kind == "hash":
            p.hset(key, f"new:{i}", i)
        elif kind == "set":
            p.sadd(key, f"new:{i}")
        else:
            p.lpush(key, f"new:{i}")


def pause_during_bgsave(port, kind, write, keys):
    """(seconds the BGSAVE took, longest PING in ms)."""
    r, pinger = redis.Redis(port=port), redis.Redis(port=port)
    worst, stop = [0.0], [False]

    def ping():
        while not stop[0]:
            t = time.perf_counter()
            pinger.ping()
            worst[0] = max(worst[0], time.perf_counter() - t)

    th = threading.Thread(target=ping)
    th.start()
    time.sleep(0.2)
    worst[0] = 0.0
    t0 = time.perf_counter()
    p = r.pipeline(transaction=False)
    p.bgsave()
    if write:
        write_one(p, kind, 0, keys)
    p.execute()
    i = 1
    while r.info("persistence")["rdb_bgsave_in_progress"]:
        if write:
            p = r.pipeline(transaction=False)
            write_one(p, kind, i, keys)
            p.execute()
            i += 1
        time.sleep(0.01 if write else 0.005)
    took = time.perf_counter() - t0
    stop[0] = True
    th.join()
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    return took, worst[0] * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--types", default="zset,hash,set,list")
    ap.add_argument("--write", action="store_true", help="write to the big key during the BGSAVE")
    ap.add_argument("--keys", type=int, default=1, help="big keys of the type")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    benchlib.check_tools("redis-server")
    benchlib.build_ferrokv(args.no_build)
    with tempfile.TemporaryDirectory(prefix="bigkey-") as d:
        servers = benchlib.start_servers(["--dir", d])
        try:
            mode = ", written during the BGSAVE" if args.write else ""
            keys = f"{args.keys} keys of " if args.keys > 1 else ""
            print(f"{keys}{args.members:,} elements{mode}, {args.rounds} rounds (medians), {benchlib.machine_line()}\n")
            print("| big key | redis PING max ms | ferrokv PING max ms | redis BGSAVE s | ferrokv BGSAVE s |")
            print("|---|---|---|---|---|")
            for kind in args.types.split(","):
                res = {}
                for name in ("redis", "ferrokv"):
                    port = servers[name][1]
                    fill(redis.Redis(port=port), kind, args.members, args.keys)
                    res[name] = [pause_during_bgsave(port, kind, args.write, args.keys) for _ in range(args.rounds)]
                    redis.Redis(port=port).flushall()
                med = lambda name, i: statistics.median(x[i] for x in res[name])  # noqa: E731
                print(f"| {kind} | {med('redis', 1):.1f} | {med('ferrokv', 1):.1f} "
                      f"| {med('redis', 0):.3f} | {med('ferrokv', 0):.3f} |", flush=True)
        finally:
            benchlib.stop_servers(servers)


if __name__ == "__main__":
    main()
