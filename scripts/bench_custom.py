#!/usr/bin/env python3
"""redis-benchmark with custom commands against ferrokv and redis-server, as ratios.

Usage:
    cargo build --release
    python3 scripts/bench_custom.py [--ports 7132,7133] [--rounds 5] [-n 400000] [-P 16] [--only geoadd,...]

For commands redis-benchmark has no -t test for (GEOADD, GEOSEARCH, SORT),
each workload is a command line given to redis-benchmark (`__rand_int__`
replaced by random numbers), run after a prefill. Both servers run at once
with the same settings (no persistence), pinned to core 0 with
redis-benchmark on core 1 (taskset, when there are 2+ cores); rounds
alternate which server goes first. Reported per workload: median rps of
each, and server CPU time per request (user + system of the server's
threads, /proc/<pid>/task/*/schedstat, before and after the run) with the
median of the per-round ratios ferrokv / redis.

Workloads:
  geoadd      GEOADD geo:w 13.<rand> 38.<rand> m:<rand> (-r 100000: new
              members at first, then moves)
  geosearch   GEOSEARCH geo:p FROMLONLAT 13.5 38.5 BYRADIUS 1300 m ASC
              over 100,000 points spread on a 1 x 1 degree square: ~50
              results with their order
  georadius   the same search as GEORADIUS ... WITHDIST (distances formatted)
  sort        SORT sort:l LIMIT 0 10 over a list of 100 random integers
  evalsha     EVALSHA of `return redis.call('incr', KEYS[1])` with 1 key
              (the scripting issue's target: CPU per request <= 0.8x Redis's)
  evalsha10   EVALSHA of a script calling INCR 10 times
  get_rand    GET key:<rand> over 1,000,000 prefilled keys (-r 1000000:
              a keyspace bigger than the caches, every GET a hit; what the
              executor's key prefetch is for)
  set_rand    SET key:<rand> xxx over the same keys (overwrites)
  incr_rand   INCR counter:<rand> over 1,000,000 prefilled counters
The *_rand workloads prefill 2,000,000 keys (only when one is chosen).
"""

import argparse
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SCRIPTS = {
    "evalsha": "return redis.call('incr', KEYS[1])",
    "evalsha10": "local r for i = 1, 10 do r = redis.call('incr', KEYS[1]) end return r",
}


def sha1(body):
    return hashlib.sha1(body.encode()).hexdigest()


WORKLOADS = {
    "geoadd": ["-r", "100000", "GEOADD", "geo:w", "13.__rand_int__", "38.__rand_int__", "m:__rand_int__"],
    "geosearch": ["GEOSEARCH", "geo:p", "FROMLONLAT", "13.5", "38.5", "BYRADIUS", "1300", "m", "ASC"],
    "georadius": ["GEORADIUS", "geo:p", "13.5", "38.5", "1300", "m", "WITHDIST"],
    "sort": ["SORT", "sort:l", "LIMIT", "0", "10"],
    "evalsha": ["EVALSHA", sha1(SCRIPTS["evalsha"]), "1", "counter:__rand_int__"],
    "evalsha10": ["EVALSHA", sha1(SCRIPTS["evalsha10"]), "1", "counter:__rand_int__"],
    "get_rand": ["-r", "1000000", "GET", "key:__rand_int__"],
    "set_rand": ["-r", "1000000", "SET", "key:__rand_int__", "xxx"],
    "incr_rand": ["-r", "1000000", "INCR", "counter:__rand_int__"],
}

# redis-benchmark's -r keys: the prefix, then 12 digits.
RAND_KEYS = 1_000_000


def resp(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def send_all(port, commands):
    """Pipelines `commands` to the server and reads every reply line count
    it needs (each prefill command answers one integer or +OK)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"".join(resp(c) for c in commands))
        f = s.makefile("rb")
        for _ in commands:
            line = f.readline()
            if line.startswith(b"-"):
                sys.exit(f"prefill failed on port {port}: {line!r}")


def prefill_rand(port):
    """Every key the *_rand workloads use, as redis-benchmark spells them."""
    for prefix, value in (("key", "xxx"), ("counter", "0")):
        for chunk in range(0, RAND_KEYS, 100_000):
            msets = []
            for first in range(chunk, chunk + 100_000, 10_000):
                pairs = [a for i in range(first, first + 10_000) for a in ("%s:%012d" % (prefix, i), value)]
                msets.append(["MSET"] + pairs)
            send_all(port, msets)


def prefill(port):
    rng = random.Random(1)
    cmds = [["FLUSHALL"]]
    for _ in range(100):
        batch = ["GEOADD", "geo:p"]
        for _ in range(1000):
            batch += ["%.6f" % rng.uniform(13, 14), "%.6f" % rng.uniform(38, 39), "p%d" % rng.getrandbits(40)]
        cmds.append(batch)
    cmds.append(["RPUSH", "sort:l"] + [str(rng.randint(-10**6, 10**6)) for _ in range(100)])
    send_all(port, cmds)
    for body in SCRIPTS.values():
        got = subprocess.run(["redis-cli", "-p", str(port), "SCRIPT", "LOAD", body],
                             capture_output=True, text=True).stdout.strip()
        if got != sha1(body):
            sys.exit(f"SCRIPT LOAD on port {port} answered {got!r}")


def start(ports):
    rport, fport = ports
    redis = subprocess.Popen(
        benchlib.pinned(0, ["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no",
                            "--bind", "127.0.0.1"]), stdout=subprocess.DEVNULL)
    fkv = subprocess.Popen(
        benchlib.pinned(0, [benchlib.FERROKV, "--port", str(fport), "--save", "", "--bind", "127.0.0.1",
                            "--loglevel", "warning"]), stdout=subprocess.DEVNULL)
    servers = {"redis": (redis, rport), "ferrokv": (fkv, fport)}
    benchlib.wait_ready(rport, redis, "redis-server")
    benchlib.wait_ready(fport, fkv, "ferrokv")
    return servers


def run_once(server, name, args):
    proc, port = server
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(args.requests), "-c", str(args.clients),
           "-P", str(args.pipeline), "-q", "--csv"] + WORKLOADS[name]
    before = benchlib.cpu_seconds(proc.pid)
    t0 = time.monotonic()
    out = subprocess.run(benchlib.pinned(1, cmd), capture_output=True, text=True, timeout=600).stdout
    took = time.monotonic() - t0
    cpu = benchlib.cpu_seconds(proc.pid) - before
    rps = None
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split('","')]
        if len(parts) >= 2 and parts[0] != "test":
            try:
                rps = float(parts[1])
            except ValueError:
                pass
    return {"rps": rps or args.requests / took, "cpu_us": cpu / args.requests * 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ports", default="7132,7133", help="redis-server,ferrokv ports (default 7132,7133)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", "-n", type=int, default=400000)
    ap.add_argument("--clients", "-c", type=int, default=50)
    ap.add_argument("--pipeline", "-P", type=int, default=16)
    ap.add_argument("--only", help="comma-separated workloads (default: all)")
    args = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    names = args.only.split(",") if args.only else list(WORKLOADS)
    ports = [int(p) for p in args.ports.split(",")]
    servers = start(ports)
    results = {n: {"redis": [], "ferrokv": []} for n in names}
    try:
        for _, port in servers.values():
            prefill(port)
            if any(n.endswith("_rand") for n in names):
                prefill_rand(port)
        for r in range(args.rounds):
            order = ["redis", "ferrokv"] if r % 2 == 0 else ["ferrokv", "redis"]
            for n in names:
                for who in order:
                    results[n][who].append(run_once(servers[who], n, args))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        benchlib.stop_servers(servers)
    print(f"redis-benchmark -P {args.pipeline} -c {args.clients} -n {args.requests}, {args.rounds} rounds "
          f"({benchlib.redis_version()})")
    print("| workload | redis rps | ferrokv rps | redis CPU µs/req | ferrokv CPU µs/req | CPU ratio (median) |")
    print("|---|---|---|---|---|---|")
    for n in names:
        rr, ff = results[n]["redis"], results[n]["ferrokv"]
        ratios = [f["cpu_us"] / r["cpu_us"] for r, f in zip(rr, ff)]
        print(f"| {n} | {statistics.median(x['rps'] for x in rr):,.0f} | {statistics.median(x['rps'] for x in ff):,.0f} "
              f"| {statistics.median(x['cpu_us'] for x in rr):.2f} | {statistics.median(x['cpu_us'] for x in ff):.2f} "
              f"| {statistics.median(ratios):.2f}x |")


if __name__ == "__main__":
    main()
