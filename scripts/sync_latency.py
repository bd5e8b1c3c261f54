#!/usr/bin/env python3
"""The primary's latency while a replica takes its full sync: ferrokv and
redis-server (each alone, pinned to core 0) are filled with N keys, then a
redis-server replica (core 1) attaches; a client (core 1) sends PINGs one at
a time until the replica's link is up and reports the PINGs' p50, p99 and
slowest, how long the sync took, and that the replica holds N keys.

Redis runs with `repl-diskless-sync-delay 0` (its default waits 5 s for more
replicas before a diskless sync starts), otherwise with its defaults
(diskless: the forked child writes to the socket). ferrokv writes the RDB
without forking, a slice per loop turn, then sends the file.

Usage: scripts/sync_latency.py [--keys N] [--no-build]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import Resp2, free_port, pinned, wait_ready  # noqa: E402


def fill(port, n):
    """N keys `key:<i>` with 100-byte values, by DEBUG POPULATE."""
    Resp2(port).call("DEBUG", "POPULATE", str(n), "key", "100")


def measure(name, cmd, n):
    port, dir = free_port(), tempfile.mkdtemp(prefix=f"sync-latency-{name}-")
    p = subprocess.Popen(pinned(0, cmd + ["--port", str(port), "--save", "", "--dir", dir,
                                          "--enable-debug-command", "yes"]), stdout=subprocess.DEVNULL)
    procs = [p]
    try:
        wait_ready(port, p, name)
        fill(port, n)
        rport, rdir = free_port(), tempfile.mkdtemp(prefix=f"sync-latency-replica-{name}-")
        r = subprocess.Popen(pinned(1, ["redis-server", "--port", str(rport), "--save", "", "--dir", rdir,
                                        "--replicaof", "127.0.0.1", str(port)]), stdout=subprocess.DEVNULL)
        procs.append(r)
        wait_ready(rport, r, "replica")
        c, rc = Resp2(port), Resp2(rport)
        lat, began = [], time.perf_counter()
        while True:
            t = time.perf_counter()
            c.call("PING")
            lat.append((time.perf_counter() - t) * 1000)
            if len(lat) % 100 == 0 and "master_link_status:up" in rc.call("INFO", "replication"):
                break
            if time.perf_counter() - began > 300:
                sys.exit(f"{name}: the replica did not sync in 300 s")
        took = time.perf_counter() - began
        keys = rc.call("DBSIZE")
        if keys != n:
            sys.exit(f"{name}: the replica holds {keys} keys, not {n}")
        lat.sort()
        return lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1], took, len(lat)
    finally:
        for q in procs:
            q.terminate()
        for q in procs:
            q.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    benchlib.check_tools("redis-server")
    benchlib.build_ferrokv(a.no_build)
    print(f"# {benchlib.machine_line()}; {a.keys:,} keys of 100 bytes; a redis-server replica attaches")
    print("| primary | PING p50 / p99 / max during the sync | sync took | PINGs |")
    print("|---|---|---|---|")
    for name, cmd in (("ferrokv", [benchlib.FERROKV]),
                      ("redis-server", ["redis-server", "--appendonly", "no", "--repl-diskless-sync-delay", "0"])):
        p50, p99, worst, took, pings = measure(name, cmd, a.keys)
        print(f"| {name} | {p50:.3f} / {p99:.2f} / {worst:.2f} ms | {took:.2f} s | {pings:,} |")


if __name__ == "__main__":
    main()
