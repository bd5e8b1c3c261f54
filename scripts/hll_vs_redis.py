#!/usr/bin/env python3
"""HyperLogLog commands, ferrokv vs redis-server, side by side: server CPU per
request and requests per second with redis-benchmark's custom-command mode.

Usage: scripts/hll_vs_redis.py [--rounds 5] [-n 400000] [-P 16] [-c 50] [--no-build]

Both servers run at once (benchlib: no persistence, servers pinned to core 0,
redis-benchmark to core 1) and get the same preloaded HLLs:
  hll:sparse  200 elements (sparse), hll:mid 1,500 (sparse, near the 3,000-byte
  limit), hll:dense 50,000 (dense).
Workloads:
  PFADD dense     PFADD hll:add ele:__rand_int__   (-r 1000000: one key, dense
                  after its first few thousand elements)
  PFADD sparse    PFADD hll:__rand_int__ ele:__rand_int__ (-r 100000: many keys,
                  each a few elements, sparse)
  PFCOUNT 3 keys  PFCOUNT hll:sparse hll:mid hll:dense (the merged count, never
                  cached: the issue's workload)
  PFCOUNT 1 key   PFCOUNT hll:dense (the cached cardinality)
Each round runs every workload against both servers, alternating which goes
first. Server CPU is user + system time of the server's threads
(/proc/<pid>/task/*/schedstat) over the whole redis-benchmark run; the report
gives the medians over the rounds and the median of the per-round ratios.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

WORKLOADS = [
    ("PFADD dense", ["-r", "1000000", "PFADD", "hll:add", "ele:__rand_int__"]),
    ("PFADD sparse", ["-r", "100000", "PFADD", "hll:__rand_int__", "ele:__rand_int__"]),
    ("PFCOUNT 3 keys", ["PFCOUNT", "hll:sparse", "hll:mid", "hll:dense"]),
    ("PFCOUNT 1 key", ["PFCOUNT", "hll:dense"]),
]


def preload(port):
    cli = ["redis-cli", "-p", str(port)]
    for key, n in (("hll:sparse", 200), ("hll:mid", 1500), ("hll:dense", 50000)):
        for start in range(0, n, 500):
            args = ["x%d" % i for i in range(start, min(n, start + 500))]
            subprocess.run(cli + ["PFADD", key, *args], check=True, stdout=subprocess.DEVNULL)
    enc = [subprocess.run(cli + ["PFDEBUG", "ENCODING", k], capture_output=True, text=True).stdout.strip()
           for k in ("hll:sparse", "hll:mid", "hll:dense")]
    assert enc == ["sparse", "sparse", "dense"], enc


def run(port, pid, args, opts):
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(opts.n), "-c", str(opts.c), "-P", str(opts.P), "-q", *args]
    before = benchlib.cpu_seconds(pid)
    out = subprocess.run(benchlib.pinned(1, cmd), capture_output=True, text=True, check=True).stdout
    cpu = benchlib.cpu_seconds(pid) - before
    # "<command>: <rps> requests per second, p50=..." (the command has colons too).
    rps = float(out.strip().splitlines()[-1].rsplit(" requests per second", 1)[0].split()[-1])
    return cpu / opts.n * 1e6, rps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=400000)
    ap.add_argument("-P", type=int, default=16)
    ap.add_argument("-c", type=int, default=50)
    ap.add_argument("--no-build", action="store_true")
    opts = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark", "redis-cli")
    benchlib.build_ferrokv(opts.no_build)
    servers = benchlib.start_servers()
    res = {name: {"redis": [], "ferrokv": []} for name, _ in WORKLOADS}
    try:
        for s in servers.values():
            preload(s[1])
        for r in range(opts.rounds):
            order = ["redis", "ferrokv"] if r % 2 == 0 else ["ferrokv", "redis"]
            for name, args in WORKLOADS:
                for who in order:
                    proc, port = servers[who]
                    res[name][who].append(run(port, proc.pid, args, opts))
    finally:
        benchlib.stop_servers(servers)
    print(f"`scripts/hll_vs_redis.py --rounds {opts.rounds} -n {opts.n} -P {opts.P} -c {opts.c}`")
    print(f"{benchlib.machine_line()}\n")
    print("| workload | redis µs CPU/req | ferrokv µs CPU/req | CPU ratio | redis rps | ferrokv rps | rps ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in WORKLOADS:
        rr, ff = res[name]["redis"], res[name]["ferrokv"]
        cpu_ratio = statistics.median(f[0] / r[0] for r, f in zip(rr, ff))
        rps_ratio = statistics.median(f[1] / r[1] for r, f in zip(rr, ff))
        med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
        print(f"| {name} -P {opts.P} | {med(rr, 0):.3f} | {med(ff, 0):.3f} | **{cpu_ratio:.2f}** | "
              f"{med(rr, 1):,.0f} | {med(ff, 1):,.0f} | {rps_ratio:.2f} |")


if __name__ == "__main__":
    main()
