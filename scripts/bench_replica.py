#!/usr/bin/env python3
"""Writes with a replica attached: ferrokv and redis-server as primaries, each
followed by a redis-server replica, under the same redis-benchmark writes.

Both primaries run at once on core 0, their replicas and redis-benchmark on
core 1 (taskset, 2+ cores). Each round runs every workload against both
primaries, alternating which goes first; the report gives the median rps of
each, the median of the per-round ratios (ferrokv / redis) and the primary's
CPU time per request. After the runs, WAIT 1 on each primary must answer 1
and each replica's DEBUG DIGEST must equal its primary's: the replica kept
up with every write.

Usage: scripts/bench_replica.py [--rounds N] [--requests N] [--no-build]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import Resp2, free_port, pinned, wait_ready  # noqa: E402

WORKLOADS = [
    ("SET -P 16", ["-t", "set", "-P", "16", "-c", "50"], 10),
    ("SET -P 1", ["-t", "set", "-P", "1", "-c", "50"], 1),
    ("LPUSH -P 16", ["-t", "lpush", "-P", "16", "-c", "50"], 10),
    ("INCR -P 1", ["-t", "incr", "-P", "1", "-c", "50"], 1),
]


def rps(port, args, n):
    out = subprocess.run(
        pinned(1, ["redis-benchmark", "-p", str(port), "-n", str(n), "-r", "100000", "--csv", *args]),
        capture_output=True, text=True, check=True,
    ).stdout
    line = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')][-1]
    return float(line.split(",")[1].strip('"'))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    benchlib.check_tools("redis-server", "redis-benchmark")
    benchlib.build_ferrokv(a.no_build)
    procs = []
    ports = {}
    try:
        for name, cmd in (("redis", ["redis-server", "--appendonly", "no"]), ("ferrokv", [benchlib.FERROKV])):
            port, dir = free_port(), tempfile.mkdtemp(prefix=f"bench-replica-{name}-")
            p = subprocess.Popen(pinned(0, cmd + ["--port", str(port), "--save", "", "--dir", dir,
                                                  "--enable-debug-command", "yes"]), stdout=subprocess.DEVNULL)
            procs.append(p)
            wait_ready(port, p, name)
            rport, rdir = free_port(), tempfile.mkdtemp(prefix=f"bench-replica-of-{name}-")
            r = subprocess.Popen(pinned(1, ["redis-server", "--port", str(rport), "--save", "", "--dir", rdir,
                                            "--enable-debug-command", "yes", "--replicaof", "127.0.0.1", str(port)]),
                                 stdout=subprocess.DEVNULL)
            procs.append(r)
            wait_ready(rport, r, f"replica of {name}")
            c = Resp2(rport)
            for _ in range(100):
                if "master_link_status:up" in c.call("INFO", "replication"):
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"the replica of {name} did not sync")
            ports[name] = (port, p.pid, rport)
        results = {w: {"redis": [], "ferrokv": [], "ratio": [], "cpu": {"redis": [], "ferrokv": []}} for w, _, _ in WORKLOADS}
        for rnd in range(a.rounds):
            order = ["ferrokv", "redis"] if rnd % 2 == 0 else ["redis", "ferrokv"]
            for w, args, mult in WORKLOADS:
                got = {}
                for name in order:
                    port, pid, _ = ports[name]
                    n = a.requests * mult
                    cpu0 = benchlib.cpu_seconds(pid)
                    got[name] = rps(port, args, n)
                    results[w]["cpu"][name].append((benchlib.cpu_seconds(pid) - cpu0) / n * 1e6)
                    results[w][name].append(got[name])
                results[w]["ratio"].append(got["ferrokv"] / got["redis"])
        # Every write reached each replica.
        for name, (port, _, rport) in ports.items():
            p = Resp2(port, timeout=30)
            acked = p.call("WAIT", "1", "10000")
            digest, rdigest = p.call("DEBUG", "DIGEST"), Resp2(rport, timeout=30).call("DEBUG", "DIGEST")
            if acked != 1 or digest != rdigest:
                sys.exit(f"{name}'s replica is not in sync: WAIT {acked}, digest {digest} vs {rdigest}")
        print(f"# {benchlib.machine_line()}; {a.rounds} rounds; a redis-server replica attached to each primary")
        print("| workload | ferrokv rps | redis rps | ratio | CPU µs/req ferrokv / redis |")
        print("|---|---|---|---|---|")
        for w, _, _ in WORKLOADS:
            r = results[w]
            cpu = statistics.median(r["cpu"]["ferrokv"]) / statistics.median(r["cpu"]["redis"])
            print(f"| {w} | {statistics.median(r['ferrokv']):,.0f} | {statistics.median(r['redis']):,.0f} | "
                  f"{statistics.median(r['ratio']):.3f} | {cpu:.3f} |")
        print("replicas in sync (WAIT 1 = 1, DEBUG DIGEST equal)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    main()
